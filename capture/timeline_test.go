package capture_test

import (
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
)

var t0 = time.Date(2025, 1, 6, 10, 41, 12, 0, time.UTC)

// ex builds an exchange: file names the input, entry its index there, at
// its start in milliseconds after t0 (-1: no start time).
func ex(file string, entry int, at int, method, rawURL string, status int, gaps ...capture.GapKind) *capture.Exchange {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	e := &capture.Exchange{
		Request: &capture.Request{Method: method, URL: u},
		Ref:     capture.Ref{File: file, Entry: entry, Offset: int64(100 * entry)},
	}
	if at >= 0 {
		e.Start = t0.Add(time.Duration(at) * time.Millisecond)
	}
	if status > 0 {
		e.Response = &capture.Response{Status: status}
	}
	for _, g := range gaps {
		e.AddGap(g, string(g))
	}
	return e
}

// ids renders a timeline as "file#entry" in order, checking Seq.
func ids(t *testing.T, tl []*capture.Exchange) []string {
	t.Helper()
	var out []string
	for i, e := range tl {
		if e.Seq != i {
			t.Errorf("%s#%d: Seq %d at position %d", e.Ref.File, e.Ref.Entry, e.Seq, i)
		}
		out = append(out, fmt.Sprintf("%s#%d", e.Ref.File, e.Ref.Entry))
	}
	return out
}

func also(e *capture.Exchange) []string {
	var out []string
	for _, r := range e.Also {
		out = append(out, fmt.Sprintf("%s#%d", r.File, r.Entry))
	}
	return out
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestTimelineOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs [][]*capture.Exchange
		want   []string
	}{
		{"by time across inputs", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://x/1", 200), ex("a", 1, 300, "GET", "https://x/3", 200), ex("a", 2, 500, "GET", "https://x/5", 200)},
			{ex("b", 0, 200, "GET", "https://x/2", 200), ex("b", 1, 400, "GET", "https://x/4", 200)},
		}, []string{"a#0", "b#0", "a#1", "b#1", "a#2"}},
		{"ties: input order, then file order", [][]*capture.Exchange{
			{ex("a", 0, 100, "GET", "https://x/a0", 200), ex("a", 1, 100, "GET", "https://x/a1", 200)},
			{ex("b", 0, 100, "GET", "https://x/b0", 200), ex("b", 1, 50, "GET", "https://x/b1", 200)},
		}, []string{"b#1", "a#0", "a#1", "b#0"}},
		{"out of order within an input (mitmproxy writes flows as they complete)", [][]*capture.Exchange{
			{ex("m", 0, 900, "GET", "https://x/slow", 200), ex("m", 1, 100, "GET", "https://x/fast", 200)},
		}, []string{"m#1", "m#0"}},
		{"zero time keeps its place after the previous exchange", [][]*capture.Exchange{
			{ex("a", 0, 100, "GET", "https://x/a0", 200), ex("a", 1, -1, "GET", "https://x/a1", 200), ex("a", 2, 300, "GET", "https://x/a2", 200)},
			{ex("b", 0, 200, "GET", "https://x/b0", 200), ex("b", 1, 100, "GET", "https://x/b1", 200)},
		}, []string{"a#0", "a#1", "b#1", "b#0", "a#2"}},
		{"leading zero time takes the next exchange's time", [][]*capture.Exchange{
			{ex("a", 0, -1, "GET", "https://x/a0", 200), ex("a", 1, -1, "GET", "https://x/a1", 200), ex("a", 2, 500, "GET", "https://x/a2", 200)},
			{ex("b", 0, 300, "GET", "https://x/b0", 200), ex("b", 1, 600, "GET", "https://x/b1", 200)},
		}, []string{"b#0", "a#0", "a#1", "a#2", "b#1"}},
		{"an input without times comes first, in file order", [][]*capture.Exchange{
			{ex("a", 0, 100, "GET", "https://x/a0", 200)},
			{ex("c", 0, -1, "GET", "https://x/c0", 200), ex("c", 1, -1, "GET", "https://x/c1", 200)},
		}, []string{"c#0", "c#1", "a#0"}},
		{"same export time on every entry (Insomnia)", [][]*capture.Exchange{
			{ex("i", 0, 50, "GET", "https://x/i0", 200), ex("i", 1, 50, "POST", "https://x/i1", 200), ex("i", 2, 50, "POST", "https://x/i2", 0)},
		}, []string{"i#0", "i#1", "i#2"}},
		{"nil exchanges and requests are dropped", [][]*capture.Exchange{
			{nil, ex("a", 1, 100, "GET", "https://x/a1", 200), {Ref: capture.Ref{File: "a", Entry: 2}}},
			nil,
		}, []string{"a#1"}},
		{"no inputs", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "order", ids(t, capture.Timeline(tc.inputs...)), tc.want)
		})
	}
}

func TestTimelineDedupe(t *testing.T) {
	S, B, R, N := capture.GapSanitized, capture.GapRequestBody, capture.GapResponseBody, capture.GapNoResponse
	withBody := func(e *capture.Exchange, body string) *capture.Exchange { e.Request.Body = []byte(body); return e }
	for _, tc := range []struct {
		name   string
		inputs [][]*capture.Exchange
		want   []string            // timeline
		also   map[string][]string // Also of kept exchanges
	}{
		{"browser and proxy copies: the proxy's has fewer gaps", [][]*capture.Exchange{
			{ex("chrome", 0, 0, "POST", "https://as.example/token", 200, S)},
			{ex("proxy", 0, 150, "POST", "https://as.example/token", 200)},
		}, []string{"proxy#0"}, map[string][]string{"proxy#0": {"chrome#0"}}},
		{"same with the proxy given first", [][]*capture.Exchange{
			{ex("proxy", 0, 150, "POST", "https://as.example/token", 200)},
			{ex("chrome", 0, 0, "POST", "https://as.example/token", 200, S)},
		}, []string{"proxy#0"}, map[string][]string{"proxy#0": {"chrome#0"}}},
		{"equal gaps: the earlier copy stays", [][]*capture.Exchange{
			{ex("a", 0, 500, "GET", "https://as.example/x", 200)},
			{ex("b", 0, 100, "GET", "https://as.example/x", 200)},
		}, []string{"b#0"}, map[string][]string{"b#0": {"a#0"}}},
		{"exactly 2 s apart: merged", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/x", 200)},
			{ex("b", 0, 2000, "GET", "https://as.example/x", 200)},
		}, []string{"a#0"}, map[string][]string{"a#0": {"b#0"}}},
		{"more than 2 s apart: both kept", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/x", 200)},
			{ex("b", 0, 2001, "GET", "https://as.example/x", 200)},
		}, []string{"a#0", "b#0"}, nil},
		{"different status: both kept", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/x", 200)},
			{ex("b", 0, 10, "GET", "https://as.example/x", 304)},
		}, []string{"a#0", "b#0"}, nil},
		{"different method: both kept", [][]*capture.Exchange{
			{ex("a", 0, 0, "OPTIONS", "https://rs.example/mcp", 204)},
			{ex("b", 0, 10, "POST", "https://rs.example/mcp", 204)},
		}, []string{"a#0", "b#0"}, nil},
		{"no response on one side (the browser gave up, the proxy got it)", [][]*capture.Exchange{
			{ex("chrome", 0, 0, "GET", "https://rs.example/sse", 0, N)},
			{ex("proxy", 0, 40, "GET", "https://rs.example/sse", 200)},
		}, []string{"proxy#0"}, map[string][]string{"proxy#0": {"chrome#0"}}},
		{"different request bodies: both kept", [][]*capture.Exchange{
			{withBody(ex("a", 0, 0, "POST", "https://as.example/token", 200), "code=1")},
			{withBody(ex("b", 0, 10, "POST", "https://as.example/token", 200), "code=2")},
		}, []string{"a#0", "b#0"}, nil},
		{"body missing on one side: merged", [][]*capture.Exchange{
			{withBody(ex("a", 0, 0, "POST", "https://as.example/token", 200, B), "")},
			{withBody(ex("b", 0, 10, "POST", "https://as.example/token", 200), "code=2")},
		}, []string{"b#0"}, map[string][]string{"b#0": {"a#0"}}},
		{"URL: scheme/host case, default port, fragment", [][]*capture.Exchange{
			{ex("chrome", 0, 0, "GET", "https://as.example/authorize?x=1#frag", 302, S)},
			{ex("proxy", 0, 30, "GET", "HTTPS://AS.example:443/authorize?x=1", 302)},
			{ex("pcap", 0, 60, "GET", "http://as.example:80", 200), ex("pcap", 1, 70, "GET", "http://[::1]:80/", 200), ex("pcap", 2, 80, "GET", "https://as.example:8443/authorize?x=1", 302)},
			{ex("proxy2", 0, 65, "GET", "http://as.example/", 200), ex("proxy2", 1, 75, "GET", "http://[::1]/", 200)},
		}, []string{"proxy#0", "pcap#0", "pcap#1", "pcap#2"}, map[string][]string{"proxy#0": {"chrome#0"}, "pcap#0": {"proxy2#0"}, "pcap#1": {"proxy2#1"}}},
		{"query differs: both kept", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/authorize?state=1", 302)},
			{ex("b", 0, 10, "GET", "https://as.example/authorize?state=2", 302)},
		}, []string{"a#0", "b#0"}, nil},
		{"no dedupe within one input", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/.well-known/oauth-authorization-server", 200), ex("a", 1, 0, "GET", "https://as.example/.well-known/oauth-authorization-server", 200)},
		}, []string{"a#0", "a#1"}, nil},
		{"no dedupe within one input among several", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/m", 200), ex("a", 1, 5, "GET", "https://as.example/m", 200)},
			{ex("b", 0, 900, "GET", "https://as.example/other", 200)},
		}, []string{"a#0", "a#1", "b#0"}, nil},
		{"two identical requests in both inputs pair up one to one", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/m", 200), ex("a", 1, 1000, "GET", "https://as.example/m", 200)},
			{ex("b", 0, 100, "GET", "https://as.example/m", 200), ex("b", 1, 1100, "GET", "https://as.example/m", 200)},
		}, []string{"a#0", "a#1"}, map[string][]string{"a#0": {"b#0"}, "a#1": {"b#1"}}},
		{"pairs with the closest copy in time", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/m", 200), ex("a", 1, 1500, "GET", "https://as.example/m", 200)},
			{ex("b", 0, 1400, "GET", "https://as.example/m", 200)},
		}, []string{"a#0", "b#0"}, map[string][]string{"b#0": {"a#1"}}},
		{"three inputs, each copy better than the last", [][]*capture.Exchange{
			{ex("chrome", 0, 0, "POST", "https://as.example/token", 200, S, R)},
			{ex("proxy", 0, 20, "POST", "https://as.example/token", 200, R)},
			{ex("pcap", 0, 40, "POST", "https://as.example/token", 200)},
		}, []string{"pcap#0"}, map[string][]string{"pcap#0": {"chrome#0", "proxy#0"}}},
		{"three inputs, the first copy is best", [][]*capture.Exchange{
			{ex("proxy", 0, 20, "POST", "https://as.example/token", 200)},
			{ex("chrome", 0, 0, "POST", "https://as.example/token", 200, S)},
			{ex("pcap", 0, 40, "POST", "https://as.example/token", 200, R)},
		}, []string{"proxy#0"}, map[string][]string{"proxy#0": {"chrome#0", "pcap#0"}}},
		{"without start times nothing is merged", [][]*capture.Exchange{
			{ex("a", 0, -1, "GET", "https://as.example/x", 200)},
			{ex("b", 0, -1, "GET", "https://as.example/x", 200)},
		}, []string{"a#0", "b#0"}, nil},
		{"one side without a start time", [][]*capture.Exchange{
			{ex("a", 0, 0, "GET", "https://as.example/y", 200), ex("a", 1, -1, "GET", "https://as.example/x", 200)},
			{ex("b", 0, 0, "GET", "https://as.example/x", 200)},
		}, []string{"a#0", "a#1", "b#0"}, nil},
		{"a later winner is placed by its own start", [][]*capture.Exchange{
			{ex("chrome", 0, 10000, "POST", "https://as.example/token", 200, S), ex("chrome", 1, 11000, "GET", "https://as.example/other", 200, S)},
			{ex("proxy", 0, 11500, "POST", "https://as.example/token", 200)},
		}, []string{"chrome#1", "proxy#0"}, map[string][]string{"proxy#0": {"chrome#0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := capture.Timeline(tc.inputs...)
			check(t, "timeline", ids(t, tl), tc.want)
			for _, e := range tl {
				id := fmt.Sprintf("%s#%d", e.Ref.File, e.Ref.Entry)
				check(t, id+" Also", also(e), tc.also[id])
			}
		})
	}
}

// TestTimelineBrowserAndProxyHAR merges a real Chrome sanitized export with
// the proxy's view of the same exchanges: each kept once, the proxy copy
// (credentials intact, no sanitized gap) winning.
func TestTimelineBrowserAndProxyHAR(t *testing.T) {
	browser, _, err := har.ReadFile(filepath.Join("har", "testdata", "chrome-131-sanitized.har"), har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The proxy saw the back-channel calls (not the page's image, websocket
	// or the blocked tag), 80 ms later by its clock, with default ports.
	var proxy []*capture.Exchange
	for _, b := range browser {
		if b.Response == nil || b.Request.URL.Scheme != "https" {
			continue
		}
		c := *b
		req := *b.Request
		u := *b.Request.URL
		u.Host += ":443"
		req.URL = &u
		c.Request = &req
		c.Gaps = nil
		c.Start = b.Start.Add(80 * time.Millisecond)
		c.Ref = capture.Ref{File: "proxy.har", Entry: len(proxy)}
		proxy = append(proxy, &c)
	}
	if len(proxy) != 10 {
		t.Fatalf("proxy copies: %d", len(proxy))
	}
	tl := capture.Timeline(browser, proxy)
	if len(tl) != len(browser) {
		t.Fatalf("timeline has %d exchanges, want %d", len(tl), len(browser))
	}
	merged := 0
	for i, e := range tl {
		if e.Ref.File == "proxy.har" {
			merged++
			if len(e.Also) != 1 || e.Also[0].File != filepath.Join("har", "testdata", "chrome-131-sanitized.har") {
				t.Errorf("%d: Also = %v", i, e.Also)
			}
			if e.HasGap(capture.GapSanitized) {
				t.Errorf("%d: the kept copy is the sanitized one", i)
			}
			if e.Request.Method != browser[e.Also[0].Entry].Request.Method {
				t.Errorf("%d: merged %s with %s", i, e, browser[e.Also[0].Entry])
			}
		} else if e.Response != nil && e.Request.URL.Scheme == "https" {
			t.Errorf("%d: browser copy %s kept", i, e)
		}
	}
	check(t, "merged", merged, 10)
}
