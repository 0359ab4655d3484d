package live

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
	"github.com/oauthlint/oauthlint/rules"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFindingsPrintedOnceWhenFlowCompletes(t *testing.T) {
	// A flow without state: AZ-STATE must be printed once, when the flow
	// completes, and not again.
	eng, exs := noStateFlow(t)
	var out syncBuf
	sess := New(Options{Engine: eng, MCPRevision: "auto", Out: &out, Debounce: time.Millisecond, Quiet: time.Hour,
		Now: func() time.Time { return time.Date(2026, 11, 20, 9, 0, 1, 0, time.UTC) }})
	for i, ex := range exs {
		ex.Ref.ProxySeq = int64(i + 1)
		sess.Add(ex)
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(out.String(), "AZ-STATE") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "MEDIUM AZ-STATE (client)") {
		t.Fatalf("AZ-STATE not printed live:\n%s", out.String())
	}
	sess.Close()
	if n := strings.Count(out.String(), "AZ-STATE"); n != 1 {
		t.Errorf("AZ-STATE printed %d times:\n%s", n, out.String())
	}
	_, fs, _ := sess.Analyze()
	if len(fs) != 1 || fs[0].Rule != "AZ-STATE" {
		t.Errorf("final findings %v", fs)
	}
}

// redactingSession is a session without rules that writes a HAR file at
// path, redacted as capture writes it, analyzing at most every debounce.
func redactingSession(t *testing.T, debounce time.Duration) (*Session, *har.Writer, string) {
	t.Helper()
	eng, err := rules.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "live.har")
	secrets := capture.NewSecretSetWith(capture.RedactToken)
	hw, err := har.Create(path, har.WriterOptions{Creator: "t", Version: "1", Redact: secrets.Scrub})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Engine: eng, MCPRevision: "auto", HAR: hw, HARSecrets: secrets, Debounce: debounce}), hw, path
}

// TestHARWrittenInOrderOffTheCaller: Add returns without writing; after
// Close every exchange is in the HAR, in the order of the Add calls, with
// the credentials of the batch redacted.
func TestHARWrittenInOrderOffTheCaller(t *testing.T) {
	sess, hw, path := redactingSession(t, time.Millisecond)
	const n = 300
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i := range n {
		u, _ := url.Parse(fmt.Sprintf("https://api.example/items/%d", i))
		ex := &capture.Exchange{Start: start.Add(time.Duration(i) * time.Millisecond), Ref: capture.Ref{Entry: -1, ProxySeq: int64(i + 1)},
			Request: &capture.Request{Method: "GET", URL: u, Proto: "HTTP/1.1",
				Headers: capture.Headers{{Name: "Host", Value: "api.example"}, {Name: "Authorization", Value: fmt.Sprintf("Bearer secret-token-%06d", i)}}},
			Response: &capture.Response{Status: 200, Proto: "HTTP/1.1", Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}},
				Body: []byte(fmt.Sprintf(`{"id":%d}`, i))}}
		sess.Add(ex)
	}
	sess.Close()
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if errs := sess.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	exs, _, err := har.ReadFile(path, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != n {
		t.Fatalf("%d exchanges in the HAR, want %d", len(exs), n)
	}
	for i, ex := range exs {
		if want := fmt.Sprintf("/items/%d", i); ex.Request.URL.Path != want {
			t.Fatalf("entry %d is %s, want %s", i, ex.Request.URL.Path, want)
		}
		if v := ex.Request.Headers.Get("Authorization"); strings.Contains(v, "secret-token") {
			t.Fatalf("entry %d: credential not redacted: %s", i, v)
		}
	}
}

// TestOneAnalysisAtATime: a timer that fires while an analysis runs, or
// traffic that arrives meanwhile, starts no second one; the running one
// schedules the next when it ends.
func TestOneAnalysisAtATime(t *testing.T) {
	eng, err := rules.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	sess := New(Options{Engine: eng, MCPRevision: "auto", Out: io.Discard})
	sess.mu.Lock()
	sess.analyzing = true
	sess.mu.Unlock()
	sess.tick()
	u, _ := url.Parse("https://api.example/x")
	sess.Add(&capture.Exchange{Request: &capture.Request{Method: "GET", URL: u}})
	sess.mu.Lock()
	if !sess.again || sess.timer != nil {
		t.Errorf("again %v, timer %v: want the next analysis left to the running one", sess.again, sess.timer)
	}
	sess.analyzing = false
	sess.mu.Unlock()
	sess.Close()
}

func TestAnalysisCost(t *testing.T) {
	procs := time.Duration(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		wall, cpu0, cpu1, want time.Duration
	}{
		{time.Second, -1, -1, procs * time.Second},               // CPU time unknown
		{time.Second, 0, time.Second / 2, time.Second},           // at least the wall time
		{time.Second, 0, 100 * time.Second, procs * time.Second}, // at most wall × GOMAXPROCS
		{time.Second, time.Second, time.Second + procs*time.Second/2, max(procs*time.Second/2, time.Second)},
	} {
		if got := analysisCost(c.wall, c.cpu0, c.cpu1); got != c.want {
			t.Errorf("analysisCost(%v, %v, %v) = %v, want %v", c.wall, c.cpu0, c.cpu1, got, c.want)
		}
	}
}

// TestLiveAnalysisJudgesChangedDecidedFlowsOnly: a live analysis judges a
// flow once it is decided, not again while it stays the same, again when
// it grows; an undecided flow is not judged; the final analysis judges
// everything. Findings are printed once throughout.
func TestLiveAnalysisJudgesChangedDecidedFlowsOnly(t *testing.T) {
	eng, exs := noStateFlow(t)
	for i, ex := range exs {
		ex.Ref.ProxySeq = int64(i + 1)
	}
	last := exs[len(exs)-1]
	if last.Request.Headers.Get("Authorization") == "" {
		t.Fatalf("the scenario's last exchange is not a resource call with the token: %s %s", last.Request.Method, last.Request.URL)
	}
	var out syncBuf
	sess := New(Options{Engine: eng, MCPRevision: "auto", Out: &out, Quiet: time.Hour,
		Now: func() time.Time { return time.Date(2026, 11, 20, 9, 0, 1, 0, time.UTC) }})
	fails := func(a *analysis) int {
		n := 0
		for _, f := range a.fs {
			if f.Outcome == rules.Fail {
				n++
			}
		}
		return n
	}
	// Before the token response the flow is neither complete nor quiet
	// (Quiet is an hour): not judged.
	tok := -1
	for i, ex := range exs {
		if ex.Request.Method == "POST" && strings.Contains(ex.Request.URL.Path, "token") {
			tok = i
		}
	}
	if tok < 0 {
		t.Fatal("no token request in the scenario")
	}
	if a := sess.report(exs[:tok], false); fails(a) != 0 {
		t.Errorf("an undecided flow was judged: %v", a.fs)
	}
	if a := sess.report(exs, false); fails(a) != 1 {
		t.Errorf("the completed flow was not judged: %v", a.fs)
	}
	if a := sess.report(exs, false); fails(a) != 0 {
		t.Errorf("an unchanged flow was judged again: %v", a.fs)
	}
	again := *last
	again.Ref.ProxySeq = int64(len(exs) + 1)
	again.Start = last.Start.Add(time.Second)
	grown := append(append([]*capture.Exchange(nil), exs...), &again)
	if a := sess.report(grown, false); fails(a) != 1 {
		t.Errorf("a flow that grew was not judged again: %v", a.fs)
	}
	// The flow's former content is forgotten: the set of judged
	// contents is as large as the flows, not as their versions.
	for i := 0; i < 5; i++ {
		more := *last
		more.Ref.ProxySeq = int64(len(grown) + 1)
		more.Start = last.Start.Add(time.Duration(len(grown)) * time.Second)
		grown = append(grown, &more)
		sess.report(grown, false)
	}
	if n, flows := len(sess.judged), len(sess.analyze(grown).res.Flows); n > flows {
		t.Errorf("%d judged contents kept for %d flows: %v", n, flows, sess.judged)
	}
	if a := sess.report(grown, true); fails(a) != 1 {
		t.Errorf("the final analysis did not judge every flow: %v", a.fs)
	}
	if n := strings.Count(out.String(), "AZ-STATE"); n != 1 {
		t.Errorf("AZ-STATE printed %d times:\n%s", n, out.String())
	}
}

// noStateFlow returns an engine with one rule, AZ-STATE, and the
// exchanges of a complete authorization flow without state.
func noStateFlow(t *testing.T) (*rules.Engine, []*capture.Exchange) {
	t.Helper()
	r, issues := rules.Parse("state.yaml", []byte(`id: AZ-STATE
engine: 1
title: no state
severity: medium
party: client
packs: [oauth2]
applies-to: [authorize]
condition: "!authorize.has_state"
message: the authorization request has no state
fix: send state
references: ["RFC 6749 §10.12"]
`))
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	eng, err := rules.Compile([]*rules.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	h := hb.New("t", "1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	sc := hb.Scenario{Seed: 3, Revision: "2025-11-25", NoState: true, ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"},
		AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read"), TokenScopeInResponse: true}
	sc.Build(h)
	exs, _, err := har.Read(strings.NewReader(string(h.Marshal())), "x.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng, exs
}

// TestSessionKeepsNoUnreadBodies: a response the analysis never reads (a
// browser's script, no credentials, no OAuth parameters) reaches the HAR
// file whole, the session keeps it without its body, the exchange the
// proxy handed over is not changed, and the findings are the same.
func TestSessionKeepsNoUnreadBodies(t *testing.T) {
	eng, exs := noStateFlow(t)
	path := filepath.Join(t.TempDir(), "live.har")
	hw, err := har.Create(path, har.WriterOptions{Creator: "t", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	sess := New(Options{Engine: eng, MCPRevision: "auto", HAR: hw, Debounce: time.Hour})
	script := strings.Repeat("function f(){return 1}\n", 40000)
	u, _ := url.Parse("https://app.example/static/app.js")
	asset := &capture.Exchange{Start: exs[0].Start, Request: &capture.Request{Method: "GET", URL: u, Proto: "HTTP/1.1",
		Headers: capture.Headers{{Name: "Host", Value: "app.example"}}},
		Response: &capture.Response{Status: 200, Proto: "HTTP/1.1", Headers: capture.Headers{{Name: "Content-Type", Value: "text/javascript"}},
			Body: []byte(script)}}
	for i, ex := range append([]*capture.Exchange{asset}, exs...) {
		ex.Ref.ProxySeq = int64(i + 1)
		sess.Add(ex)
	}
	sess.Close()
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if string(asset.Response.Body) != script || len(asset.Gaps) != 0 {
		t.Errorf("the proxy's exchange was changed: %d body bytes, gaps %v", len(asset.Response.Body), asset.Gaps)
	}
	res, fs, _ := sess.Analyze()
	kept := res.Exchanges[0]
	if kept.Request.URL.Path != "/static/app.js" || kept.Response.Body != nil || len(kept.Gaps) != 1 {
		t.Errorf("session kept %s with %d body bytes, gaps %v; want no body and one gap", kept.Request.URL, len(kept.Response.Body), kept.Gaps)
	}
	if len(fs) != 1 || fs[0].Rule != "AZ-STATE" {
		t.Errorf("findings %v, want AZ-STATE once", fs)
	}
	written, _, err := har.ReadFile(path, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(exs)+1 || string(written[0].Response.Body) != script {
		t.Errorf("HAR holds %d exchanges, first body %d bytes; want %d and the whole script", len(written), len(written[0].Response.Body), len(exs)+1)
	}
}

// TestRedactedHARCorrelatesLikeTheLiveAnalysis: a token endpoint issues a
// bearer token and API calls carry it. In the redacted HAR the calls'
// Authorization header keeps its scheme and reads the token's redacted
// form, the one the token response holds, so `analyze` of the file puts
// the calls in the grant's flow as the live analysis did, and the token
// itself is nowhere in the file.
func TestRedactedHARCorrelatesLikeTheLiveAnalysis(t *testing.T) {
	sess, hw, path := redactingSession(t, time.Hour)
	const token = "at-7f3a9c2e1b5d4f60"
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tokURL, _ := url.Parse("https://as.example/oauth/token")
	exs := []*capture.Exchange{{Start: start, Ref: capture.Ref{Entry: -1, ProxySeq: 1},
		Request: &capture.Request{Method: "POST", URL: tokURL, Proto: "HTTP/1.1",
			Headers: capture.Headers{{Name: "Host", Value: "as.example"}, {Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
				{Name: "Authorization", Value: "Basic Y2xpZW50LTE6Y2xpZW50LXNlY3JldC0x"}},
			Body: []byte("grant_type=client_credentials&scope=items%3Aread")},
		Response: &capture.Response{Status: 200, Proto: "HTTP/1.1",
			Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}, {Name: "Cache-Control", Value: "no-store"}},
			Body:    []byte(`{"access_token":"` + token + `","token_type":"Bearer","expires_in":3600,"scope":"items:read"}`)}}}
	for i := range 3 {
		u, _ := url.Parse(fmt.Sprintf("https://api.example/items/%d", i))
		exs = append(exs, &capture.Exchange{Start: start.Add(time.Duration(i+1) * time.Second), Ref: capture.Ref{Entry: -1, ProxySeq: int64(i + 2)},
			Request: &capture.Request{Method: "GET", URL: u, Proto: "HTTP/1.1",
				Headers: capture.Headers{{Name: "Host", Value: "api.example"}, {Name: "Authorization", Value: "Bearer " + token},
					{Name: "Cookie", Value: "session=s3ss10n-9a8b7c6d; at=" + token}}},
			Response: &capture.Response{Status: 200, Proto: "HTTP/1.1", Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}},
				Body: []byte(fmt.Sprintf(`{"id":%d}`, i))}})
	}
	for _, ex := range exs {
		sess.Add(ex)
	}
	sess.Close()
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	// resources counts, per flow holding the token request, the API calls
	// in it.
	resources := func(res *analyze.Result) []int {
		var out []int
		for _, f := range res.Flows {
			if len(f.Tokens) > 0 {
				out = append(out, len(f.Resources))
			}
		}
		return out
	}
	live, _, _ := sess.Analyze()
	if got := resources(live); !slices.Equal(got, []int{3}) {
		t.Fatalf("live analysis: API calls per grant %v, want [3]", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(token)) || bytes.Contains(data, []byte("Y2xpZW50LTE6Y2xpZW50LXNlY3JldC0x")) || bytes.Contains(data, []byte("s3ss10n")) {
		t.Fatalf("a credential is in the HAR file")
	}
	read, _, err := har.ReadFile(path, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read[1].Request.Headers.Get("Authorization"), "Bearer "+capture.RedactToken(token); got != want {
		t.Errorf("redacted Authorization %q, want %q", got, want)
	}
	// The cookies keep their names; the token in one reads as elsewhere.
	if got, want := read[1].Request.Headers.Get("Cookie"), "session="+capture.RedactToken("s3ss10n-9a8b7c6d")+"; at="+capture.RedactToken(token); got != want {
		t.Errorf("redacted Cookie %q, want %q", got, want)
	}
	if got := resources(analyze.Analyze(capture.Timeline(read), analyze.Options{MCPRevision: "auto"})); !slices.Equal(got, []int{3}) {
		t.Errorf("analysis of the redacted HAR: API calls per grant %v, want [3] as live", got)
	}
}
