package har

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
)

func sampleExchanges() []*capture.Exchange {
	u1, _ := url.Parse("https://auth.example.com/oauth2/auth?response_type=code&client_id=c1&state=s1")
	u2, _ := url.Parse("https://auth.example.com/oauth2/token")
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	return []*capture.Exchange{
		{Start: t0, Duration: 12 * time.Millisecond, Request: &capture.Request{Method: "GET", URL: u1, Proto: "HTTP/1.1",
			Headers: capture.Headers{{Name: "Host", Value: "auth.example.com"}}},
			Response: &capture.Response{Status: 302, StatusText: "Found", Headers: capture.Headers{{Name: "Location", Value: "http://127.0.0.1:9/cb?code=ory_ac_secretcode1234&state=s1"}}},
			Ref:      capture.Ref{ProxySeq: 1}},
		{Start: t0.Add(time.Second), Request: &capture.Request{Method: "POST", URL: u2, Proto: "HTTP/1.1",
			Headers: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
			Body:    []byte("grant_type=authorization_code&code=ory_ac_secretcode1234")},
			Response: &capture.Response{Status: 200, Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}},
				Body: []byte(`{"access_token":"ory_at_accesstoken5678","token_type":"bearer"}`)},
			Gaps: []capture.Gap{{Kind: capture.GapResponseBody, Detail: "body truncated"}}},
		{Start: t0.Add(2 * time.Second), Request: &capture.Request{Method: "GET", URL: u2}, Error: "connection refused"},
	}
}

func TestWriterRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cap.har")
	w, err := Create(p, WriterOptions{Creator: "oauthlint", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range sampleExchanges() {
		if err := w.Add(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", st.Mode().Perm())
	}
	exs, info, err := ReadFile(p, Options{})
	if err != nil || info.Truncated || len(exs) != 3 {
		t.Fatalf("read back: %v truncated=%v n=%d warnings=%v", err, info.Truncated, len(exs), info.Warnings)
	}
	if exs[1].Request.Method != "POST" || string(exs[1].Request.Body) != "grant_type=authorization_code&code=ory_ac_secretcode1234" ||
		exs[1].Response.Status != 200 || !strings.Contains(string(exs[1].Response.Body), "ory_at_") {
		t.Errorf("exchange 1 = %+v", exs[1])
	}
	if exs[2].Response != nil || exs[2].Error != "connection refused" {
		t.Errorf("exchange 2: response %v error %q", exs[2].Response, exs[2].Error)
	}
}

// Batches and single entries, in any mix, make the same file as adding
// the entries one by one: byte for byte, so a batch changes nothing but
// the number of writes.
func TestWriterAddAllSameBytes(t *testing.T) {
	write := func(name string, add func(w *Writer, exs []*capture.Exchange)) []byte {
		p := filepath.Join(t.TempDir(), name)
		w, err := Create(p, WriterOptions{Creator: "oauthlint", Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var exs []*capture.Exchange
		for range 3 {
			exs = append(exs, sampleExchanges()...)
		}
		// Entries larger than a write chunk, so that AddAll writes
		// several times within one call.
		for _, i := range []int{1, 4, 5} {
			big := *exs[i]
			big.Response = &capture.Response{Status: 200, Headers: capture.Headers{{Name: "Content-Type", Value: "text/plain"}},
				Body: []byte(strings.Repeat("x", writeChunk/2+i))}
			exs[i] = &big
		}
		add(w, exs)
		if n := w.Entries(); n != len(exs) {
			t.Errorf("%s: %d entries counted, want %d", name, n, len(exs))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := write("one.har", func(w *Writer, exs []*capture.Exchange) {
		for _, ex := range exs {
			if err := w.Add(ex); err != nil {
				t.Fatal(err)
			}
		}
	})
	mixed := write("mixed.har", func(w *Writer, exs []*capture.Exchange) {
		for _, part := range [][]*capture.Exchange{exs[:4], exs[4:5], nil, exs[5:]} {
			if err := w.AddAll(part); err != nil {
				t.Fatal(err)
			}
		}
	})
	if string(one) != string(mixed) {
		t.Errorf("batches wrote another file:\n%s\n---\n%s", mixed, one)
	}
	exs, info, err := Read(strings.NewReader(string(mixed)), "mixed.har", Options{})
	if err != nil || info.Truncated || len(exs) != 9 {
		t.Fatalf("read back: %v truncated=%v n=%d", err, info.Truncated, len(exs))
	}
}

// A capture killed before Close still reads: every entry written is there.
func TestWriterKilledBeforeClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cap.har")
	w, _ := Create(p, WriterOptions{Creator: "oauthlint", Version: "test"})
	for _, ex := range sampleExchanges() {
		w.Add(ex)
	}
	// No Close: the process died here.
	exs, info, err := ReadFile(p, Options{})
	if err != nil || !info.Truncated || len(exs) != 3 {
		t.Fatalf("err=%v truncated=%v n=%d", err, info.Truncated, len(exs))
	}
	w.Close()
}

func TestWriterRedacts(t *testing.T) {
	ss := capture.NewSecretSetWith(capture.RedactToken)
	ss.Add("ory_ac_secretcode1234", "ory_at_accesstoken5678")
	p := filepath.Join(t.TempDir(), "cap.har")
	w, _ := Create(p, WriterOptions{Creator: "oauthlint", Version: "test", Redact: ss.Scrub})
	for _, ex := range sampleExchanges() {
		w.Add(ex)
	}
	w.Close()
	data, _ := os.ReadFile(p)
	if strings.Contains(string(data), "secretcode") || strings.Contains(string(data), "accesstoken") {
		t.Fatalf("secrets written:\n%s", data)
	}
	exs, _, err := ReadFile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The same code redacts to the same token in the Location header and
	// in the token request, so flows still correlate.
	tok := capture.RedactToken("ory_ac_secretcode1234")
	if !strings.Contains(exs[0].Response.Headers.Get("Location"), tok) || !strings.Contains(string(exs[1].Request.Body), tok) {
		t.Errorf("location %q body %q", exs[0].Response.Headers.Get("Location"), exs[1].Request.Body)
	}
}

func TestRedactedAndGapsReadBack(t *testing.T) {
	ss := capture.NewSecretSetWith(capture.RedactToken)
	ss.Add("ory_ac_secretcode1234")
	p := filepath.Join(t.TempDir(), "cap.har")
	w, _ := Create(p, WriterOptions{Creator: "oauthlint", Version: "test", Redact: ss.Scrub})
	for _, ex := range sampleExchanges() {
		w.Add(ex)
	}
	w.Close()
	exs, _, err := ReadFile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !exs[0].HasGap(capture.GapSanitized) || !exs[1].HasGap(capture.GapSanitized) || exs[2].HasGap(capture.GapSanitized) {
		t.Errorf("sanitized gaps: %v / %v / %v", exs[0].Gaps, exs[1].Gaps, exs[2].Gaps)
	}
	if !exs[1].HasGap(capture.GapResponseBody) {
		t.Errorf("the writer's _gaps were not read back: %v", exs[1].Gaps)
	}
}

// The client's run, recorded at Close, reads back from log._clientRun.
func TestWriterClientRun(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cap.har")
	w, err := Create(p, WriterOptions{Creator: "oauthlint", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(sampleExchanges()[0]); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 9, 0, 3, 0, time.UTC)
	w.SetClientRun(capture.ClientRun{Command: "npx mcp-remote http://127.0.0.1:3001/mcp", ExitCode: 1, Ended: end})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	exs, info, err := ReadFile(p, Options{})
	if err != nil || len(exs) != 1 || len(info.Warnings) != 0 {
		t.Fatalf("read back: %v n=%d warnings=%v", err, len(exs), info.Warnings)
	}
	if r := info.ClientRun; r == nil || r.ExitCode != 1 || !r.Ended.Equal(end) || r.Command != "npx mcp-remote http://127.0.0.1:3001/mcp" {
		t.Errorf("client run = %+v", r)
	}
	// Without it (a killed capture, another tool), nothing is claimed.
	if _, info, _ := ReadFile(filepath.Join("testdata", firstHAR(t)), Options{}); info != nil && info.ClientRun != nil {
		t.Errorf("client run from a HAR that has none: %+v", info.ClientRun)
	}
}

func firstHAR(t *testing.T) string {
	t.Helper()
	ms, _ := filepath.Glob("testdata/*.har")
	if len(ms) == 0 {
		t.Skip("no HAR in testdata")
	}
	return filepath.Base(ms[0])
}
