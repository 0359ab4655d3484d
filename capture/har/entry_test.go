package har

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oauthlint/oauthlint/capture"
)

// The reference: the entry struct the writer used to fill and hand to
// encoding/json. appendEntry must write what json.Marshal writes for it.

type wNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type wPost struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Encoding string `json:"encoding,omitempty"`
}

type wReq struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	HTTPVersion string `json:"httpVersion"`
	Cookies     []wNV  `json:"cookies"`
	Headers     []wNV  `json:"headers"`
	QueryString []wNV  `json:"queryString"`
	PostData    *wPost `json:"postData,omitempty"`
	HeadersSize int    `json:"headersSize"`
	BodySize    int64  `json:"bodySize"`
}

type wContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

type wResp struct {
	Status      int      `json:"status"`
	StatusText  string   `json:"statusText"`
	HTTPVersion string   `json:"httpVersion"`
	Cookies     []wNV    `json:"cookies"`
	Headers     []wNV    `json:"headers"`
	Content     wContent `json:"content"`
	RedirectURL string   `json:"redirectURL"`
	HeadersSize int      `json:"headersSize"`
	BodySize    int64    `json:"bodySize"`
}

type wEntry struct {
	StartedDateTime string         `json:"startedDateTime"`
	Time            float64        `json:"time"`
	Request         wReq           `json:"request"`
	Response        wResp          `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         map[string]any `json:"timings"`
	ServerIPAddress string         `json:"serverIPAddress,omitempty"`
	ClientAddress   string         `json:"_clientAddress,omitempty"`
	Error           string         `json:"_error,omitempty"`
	Gaps            []capture.Gap  `json:"_gaps,omitempty"`
	Comment         string         `json:"comment,omitempty"`
}

func (w *Writer) refHeaders(hs capture.Headers) []wNV {
	out := make([]wNV, 0, len(hs))
	for _, h := range hs {
		out = append(out, wNV{h.Name, w.s(h.Value)})
	}
	return out
}

func (w *Writer) refEntry(ex *capture.Exchange) wEntry {
	req := ex.Request
	rawURL := w.s(req.URL.String())
	e := wEntry{
		StartedDateTime: ex.Start.UTC().Format(time.RFC3339Nano),
		Time:            float64(ex.Duration) / float64(time.Millisecond),
		Timings:         map[string]any{"send": 0, "wait": float64(ex.Duration) / float64(time.Millisecond), "receive": 0},
		ServerIPAddress: ex.ServerAddr,
		ClientAddress:   ex.ClientAddr,
		Error:           w.s(ex.Error),
		Gaps:            ex.Gaps,
		Comment:         ex.Comment,
	}
	e.Request = wReq{Method: req.Method, URL: rawURL, HTTPVersion: orDefault(req.Proto, "HTTP/1.1"), Cookies: []wNV{},
		Headers: w.refHeaders(req.Headers), QueryString: []wNV{}, HeadersSize: -1, BodySize: int64(len(req.Body))}
	if u, err := url.Parse(rawURL); err == nil {
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			dk, _ := url.QueryUnescape(k)
			dv, _ := url.QueryUnescape(v)
			e.Request.QueryString = append(e.Request.QueryString, wNV{dk, dv})
		}
	}
	if len(req.Body) > 0 {
		text, enc := w.body(req.Body)
		e.Request.PostData = &wPost{MimeType: req.Headers.Get("Content-Type"), Text: text, Encoding: enc}
	}
	if r := ex.Response; r != nil {
		text, enc := w.body(r.Body)
		e.Response = wResp{Status: r.Status, StatusText: r.StatusText, HTTPVersion: orDefault(r.Proto, "HTTP/1.1"), Cookies: []wNV{},
			Headers: w.refHeaders(r.Headers), HeadersSize: -1, BodySize: int64(len(r.Body)),
			Content:     wContent{Size: int64(len(r.Body)), MimeType: r.Headers.Get("Content-Type"), Text: text, Encoding: enc},
			RedirectURL: w.s(r.Headers.Get("Location"))}
	} else {
		e.Response = wResp{Status: 0, Cookies: []wNV{}, Headers: []wNV{}, HeadersSize: -1, BodySize: -1, Content: wContent{MimeType: "x-unknown"}}
	}
	return e
}

// refJSON is the reference encoding of ex's entry.
func (w *Writer) refJSON(t testing.TB, ex *capture.Exchange) string {
	b, err := json.Marshal(w.refEntry(ex))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppendEntryLikeEncodingJSON(t *testing.T) {
	exs := sampleExchanges()
	u, _ := url.Parse("https://h.example/p?a=%3Cb%3E&c&=d&e=f%zz#frag")
	exs = append(exs,
		&capture.Exchange{Start: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), Duration: 1500 * time.Nanosecond,
			Request: &capture.Request{Method: "PUT", URL: u, Proto: "HTTP/2.0",
				Headers: capture.Headers{{Name: "Content-Type", Value: "text/html; <&>"}, {Name: "X-Ctl", Value: "a\tb\x00\x1f\u2028\u2029\xff"}},
				Body:    []byte("<html>\u00e9\b\f\n\r\t\"\\</html>")},
			Response: &capture.Response{Status: 500, StatusText: "Oops", Proto: "HTTP/2.0",
				Headers: capture.Headers{{Name: "Content-Type", Value: "application/octet-stream"}, {Name: "Location", Value: "/next?x=1"}},
				Body:    []byte{0xff, 0xfe, 0, 1, 2}},
			ServerAddr: "127.0.0.1:443", ClientAddr: "127.0.0.1:5555", Comment: "note <x>"},
		&capture.Exchange{Duration: 1e15, Request: &capture.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "x", Path: "/"}},
			Response: &capture.Response{Status: 204}},
	)
	redact := capture.NewSecretSetWith(capture.RedactToken)
	redact.Add("ory_ac_secretcode1234", "ory_at_accesstoken5678")
	for _, w := range []*Writer{{}, {redact: redact.Scrub}} {
		for i, ex := range exs {
			got := string(w.appendEntry(nil, ex))
			if want := w.refJSON(t, ex); got != want {
				t.Errorf("entry %d (redact %v):\n got %s\nwant %s", i, w.redact != nil, got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("entry %d: not JSON: %s", i, got)
			}
		}
	}
}

// FuzzAppendEntry: any exchange is written as encoding/json writes the
// reference entry (strings of any bytes, any durations, with and without
// redaction).
func FuzzAppendEntry(f *testing.F) {
	f.Add("https://a.example/x?q=1&r=%20", "Authorization", "Bearer tok<en>", []byte("a=1&b=\x00"), []byte(`{"k":"v\u2028"}`), int64(12345678), 200, "boom", "tok<en>")
	f.Add("http://[::1]:9/", "X", "\xff\xfe", []byte{0x80}, []byte{}, int64(-5), 0, "", "")
	f.Fuzz(func(t *testing.T, rawURL, hname, hvalue string, reqBody, respBody []byte, dur int64, status int, errMsg, secret string) {
		u, err := url.Parse(rawURL)
		if err != nil {
			u = &url.URL{Scheme: "https", Host: "h", Path: "/" + rawURL}
		}
		ex := &capture.Exchange{Start: time.Unix(0, dur).UTC(), Duration: time.Duration(dur), Error: errMsg,
			Request: &capture.Request{Method: hname, URL: u, Headers: capture.Headers{{Name: hname, Value: hvalue}}, Body: reqBody}}
		if status != 0 {
			ex.Response = &capture.Response{Status: status, StatusText: hvalue, Headers: capture.Headers{{Name: "Location", Value: hvalue}, {Name: hname, Value: secret}}, Body: respBody}
		}
		set := capture.NewSecretSetWith(capture.RedactToken)
		set.Add(secret)
		for _, w := range []*Writer{{}, {redact: set.Scrub}} {
			if got, want := string(w.appendEntry(nil, ex)), w.refJSON(t, ex); got != want {
				t.Fatalf("redact %v:\n got %s\nwant %s", w.redact != nil, got, want)
			}
		}
		if !utf8.ValidString(string(new(Writer).appendEntry(nil, ex))) {
			t.Fatal("entry is not UTF-8")
		}
	})
}

// BenchmarkAppendEntry: an API call with an 8 KiB JSON answer, redacted
// against a few hundred secrets, written by hand and by encoding/json
// from the entry struct (the reference, and the writer's former way).
func BenchmarkAppendEntry(b *testing.B) {
	set := capture.NewSecretSetWith(capture.RedactToken)
	for i := range 300 {
		set.Add(strings.Repeat("tok", 4) + strings.Repeat("x", i%40) + string(rune('a'+i%26)))
	}
	u, _ := url.Parse("https://api.example/v1/items?page=3&size=20")
	ex := &capture.Exchange{Start: time.Now(), Duration: 3 * time.Millisecond,
		Request: &capture.Request{Method: "GET", URL: u, Proto: "HTTP/1.1", Headers: capture.Headers{
			{Name: "Host", Value: "api.example"}, {Name: "Authorization", Value: "Bearer tokentokentoken"}, {Name: "Accept", Value: "application/json"}}},
		Response: &capture.Response{Status: 200, StatusText: "OK", Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}, {Name: "Content-Length", Value: "8200"}},
			Body: []byte("[" + strings.Repeat(`{"id":1,"name":"item","tags":["a","b"]},`, 200) + "{}]")}}
	w := &Writer{redact: set.Scrub}
	b.Run("hand", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = w.appendEntry(buf[:0], ex)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		var n int
		for b.Loop() {
			out, _ := json.Marshal(w.refEntry(ex))
			n = len(out)
		}
		b.SetBytes(int64(n))
	})
}

// The escaper works a chunk at a time: with small chunks, every cut
// (inside a character, inside an invalid sequence, between escapes) must
// give what encoding/json gives for the whole string.
func TestAppendStringChunks(t *testing.T) {
	for _, s := range []string{
		"",
		`{"id":1,"name":"item"}`,
		"héllo wörld € 𝄞 \u2028\u2029 end",
		"\xe2\x82\xac\xe2\x82 \xf0\x9f\x98\x80\x80\x80\x80\x80\x80 x",
		"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
		"\xff\xfe\x00\x01\x1f<>&\\\"\t\n\r\b\f",
		strings.Repeat("a€𝄞", 50),
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		for chunk := utf8.UTFMax; chunk <= 12; chunk++ {
			if got := appendStringChunked(nil, s, chunk); string(got) != string(want) {
				t.Errorf("chunk %d: %q\n got %s\nwant %s", chunk, s, got, want)
			}
		}
	}
}

// FuzzAppendStringChunks: the same on any bytes.
func FuzzAppendStringChunks(f *testing.F) {
	f.Add("a€𝄞\xe2\x82\x80\x80\x80\x80", uint8(4))
	f.Fuzz(func(t *testing.T, s string, chunk uint8) {
		c := utf8.UTFMax + int(chunk%16)
		want, _ := json.Marshal(s)
		if got := appendStringChunked(nil, s, c); string(got) != string(want) {
			t.Fatalf("chunk %d: %q\n got %s\nwant %s", c, s, got, want)
		}
	})
}

// BenchmarkAppendString: an 8 KiB JSON body of short members (a quote
// every few bytes), a 10 KiB API answer like bench/proxybench's (longer
// strings), and 8 KiB of plain text, as HAR strings.
func BenchmarkAppendString(b *testing.B) {
	var api strings.Builder
	for i := 0; api.Len() < 10<<10; i++ {
		fmt.Fprintf(&api, `{"id":"itm_%08d","name":"Item number %d","owner":"usr_%04d","email":"user%d@example.com","created_at":"2025-01-%02dT%02d:00:00Z","tags":["alpha","beta"],"price":%d.5,"description":"A realistic-looking item description of moderate length for the proxy benchmark."},`, i, i, i%977, i%977, 1+i%28, i%24, i%100)
	}
	for name, s := range map[string]string{
		"json": strings.Repeat(`{"id":1,"name":"item","tags":["a","b"]},`, 200),
		"api":  api.String(),
		"text": strings.Repeat("The quick brown fox jumps over the lazy dog. ", 180),
	} {
		b.Run(name, func(b *testing.B) {
			var buf []byte
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				buf = appendString(buf[:0], s)
			}
		})
	}
}
