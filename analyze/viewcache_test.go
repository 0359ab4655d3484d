package analyze

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/repocaptures"
)

// The live proxy analyzes its growing capture again and again from
// cached views (Options.Views), each time on fresh copies of the
// exchanges. Every analysis must say what an analysis without the cache
// says: the same kinds, decoded bodies, flows and credentials. Checked on
// every rule fixture and example capture, analyzed whole and as it grew.
func TestAnalyzeFromCachedViewsMatchesFresh(t *testing.T) {
	for f, exs := range repocaptures.Read(t, "..") {
		views := NewViewCache()
		// As the capture grows (half of it, then all of it, as a live
		// proxy sees it), then twice more on the whole.
		for round, n := range []int{len(exs) / 2, len(exs), len(exs), len(exs)} {
			fresh := summarize(Analyze(capture.Timeline(copies(exs[:n])), Options{MCPRevision: "auto"}))
			cached := summarize(Analyze(capture.Timeline(copies(exs[:n])), Options{MCPRevision: "auto", Views: views}))
			if fresh != cached {
				t.Errorf("%s, analysis %d of %d exchanges: from cached views\n%s\nwithout the cache\n%s", f, round, n, cached, fresh)
				break
			}
		}
	}
}

// copies returns shallow copies of exs, as the live session hands each
// analysis (Timeline renumbers them; the requests stay shared, which is
// what the cache is keyed by).
func copies(exs []*capture.Exchange) []*capture.Exchange {
	out := make([]*capture.Exchange, len(exs))
	for i, ex := range exs {
		c := *ex
		out[i] = &c
	}
	return out
}

// summarize renders what rules read of an analysis: each message's kind,
// decoded JSON and flows, each flow's fields and legs, the credentials.
func summarize(res *Result) string {
	var b strings.Builder
	for _, m := range res.Messages {
		fmt.Fprintf(&b, "#%d %s json=%v/%d req=%d form=%d %v\n", m.HTTP.ID, m.Kind, m.HTTP.ResponseJSONValid, len(m.HTTP.ResponseJSON), len(m.HTTP.RequestJSON), len(m.HTTP.Form), m.Flows)
	}
	id := func(h *HTTP) int { return h.ID }
	for _, f := range res.Flows {
		sh := f.ScopeHint
		fmt.Fprintf(&b, "%s %s client=%q type=%s issuer=%q resource=%q oidc=%v hint=#%d %s %q %q %v\n", f.ID, f.Kind, f.ClientID, f.ClientType, f.Issuer, f.Resource, f.OIDC, sh.HTTP.ID, sh.Source, sh.Field, sh.Scopes, sh.Present)
		if f.ASMetadata != nil {
			fmt.Fprintf(&b, "  asm #%d\n", id(&f.ASMetadata.HTTP))
		}
		if f.PRM != nil {
			fmt.Fprintf(&b, "  prm #%d\n", id(&f.PRM.HTTP))
		}
		if f.Challenge != nil {
			fmt.Fprintf(&b, "  challenge #%d\n", id(&f.Challenge.HTTP))
		}
		if f.Registration != nil {
			fmt.Fprintf(&b, "  registration #%d\n", id(&f.Registration.HTTP))
		}
		for _, st := range f.Steps() {
			fmt.Fprintf(&b, "  step #%d\n", st.Ex.Seq+1)
		}
	}
	fmt.Fprintf(&b, "secrets %q\n", res.Secrets.Values())
	return b.String()
}

// The AS metadata in effect for a flow is the latest usable document
// naming the endpoint it used (without the query) before the flow, else
// the first after it; failed fetches and other servers' documents do not
// count. latestASM answers from an index by endpoint.
func TestLatestASMPicksDocumentInEffect(t *testing.T) {
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	form := capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	get := func(raw string, status int, body string) *capture.Exchange {
		u, _ := url.Parse(raw)
		return &capture.Exchange{
			Request:  &capture.Request{Method: "GET", URL: u},
			Response: &capture.Response{Status: status, Headers: json, Body: []byte(body)}}
	}
	asm := func(origin string, status int, version string) *capture.Exchange {
		return get(origin+"/.well-known/oauth-authorization-server", status,
			`{"issuer":"`+origin+`","authorization_endpoint":"`+origin+`/authorize","token_endpoint":"`+origin+`/token?v=`+version+`"}`)
	}
	token := func(origin string) *capture.Exchange {
		u, _ := url.Parse(origin + "/token")
		return &capture.Exchange{
			Request:  &capture.Request{Method: "POST", URL: u, Headers: form, Body: []byte("grant_type=client_credentials&client_id=c1&client_secret=s3cr3t-value")},
			Response: &capture.Response{Status: 200, Headers: json, Body: []byte(`{"access_token":"tok-abcdef","token_type":"Bearer"}`)}}
	}
	const as, other = "https://as.example", "https://other.example"
	exs := []*capture.Exchange{
		asm(as, 200, "1"),    // #1
		token(as),            // #2: in effect #1
		asm(as, 200, "2"),    // #3
		asm(as, 500, "3"),    // #4: failed, never in effect
		token(as),            // #5: in effect #3
		token(other),         // #6: none before; the first after, #8
		asm(as, 200, "4"),    // #7
		asm(other, 200, "1"), // #8
		token(other),         // #9: in effect #8
	}
	res := Analyze(exs, Options{MCPRevision: "auto"})
	want := map[int]int{2: 1, 5: 3, 6: 8, 9: 8}
	got := map[int]int{}
	for _, f := range res.Flows {
		if f.Token == nil {
			continue
		}
		if f.ASMetadata == nil {
			t.Errorf("flow of token request #%d: no AS metadata in effect", f.Token.HTTP.ID)
			continue
		}
		got[f.Token.HTTP.ID] = f.ASMetadata.HTTP.ID
	}
	for tok, doc := range want {
		if got[tok] != doc {
			t.Errorf("token request #%d: AS metadata #%d in effect, want #%d (all: %v)", tok, got[tok], doc, got)
		}
	}
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Errorf("flows with a token request: %v, want %v", g, w)
	}
}

// BenchmarkAnalyzeCachedViews is one live analysis of a capture of 20 000
// exchanges shaped like bench/proxybench's traffic (a REST API behind a
// bearer token, with a token request and an AS metadata fetch every 20
// calls), from the views the earlier analyses cached.
func BenchmarkAnalyzeCachedViews(b *testing.B) {
	exs := apiTraffic(20000)
	views := NewViewCache()
	Analyze(capture.Timeline(copies(exs)), Options{MCPRevision: "auto", Views: views})
	for b.Loop() {
		Analyze(capture.Timeline(copies(exs)), Options{MCPRevision: "auto", Views: views})
	}
}

// apiTraffic builds n exchanges of a client calling a REST API with the
// bearer token of its latest client-credentials grant (reading lists,
// creating items one call in ten), fetching the AS metadata before each
// grant.
func apiTraffic(n int) []*capture.Exchange {
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	form := capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	item := `{"id":"itm_01HZX3K8Q2V7N9","name":"Widget 42","price":{"amount":1299,"currency":"EUR"},"tags":["blue","large"]},`
	list := []byte(`{"items":[` + strings.Repeat(item, 60) + `{}],"next":"/api/items?page=2"}`)
	asmURL, _ := url.Parse("https://as.example/.well-known/oauth-authorization-server")
	asmBody := []byte(`{"issuer":"https://as.example","authorization_endpoint":"https://as.example/authorize","token_endpoint":"https://as.example/oauth/token","scopes_supported":["read","write"]}`)
	tokenURL, _ := url.Parse("https://as.example/oauth/token")
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var exs []*capture.Exchange
	token := ""
	for i := range n {
		at := start.Add(time.Duration(i) * time.Millisecond)
		var ex *capture.Exchange
		switch {
		case i%20 == 0:
			ex = &capture.Exchange{
				Request:  &capture.Request{Method: "GET", URL: asmURL},
				Response: &capture.Response{Status: 200, Headers: json, Body: asmBody}}
		case i%20 == 1:
			token = fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGllbnQtJWQiLCJqdGkiOiIlMDhkIn0.sig-%08d", i)
			ex = &capture.Exchange{
				Request: &capture.Request{Method: "POST", URL: tokenURL, Body: []byte("grant_type=client_credentials&scope=read"),
					Headers: append(form, capture.Header{Name: "Authorization", Value: "Basic Y2xpZW50OnNlY3JldC12YWx1ZQ=="})},
				Response: &capture.Response{Status: 200, Headers: json,
					Body: []byte(`{"access_token":"` + token + `","token_type":"Bearer","expires_in":300}`)}}
		case i%10 == 5:
			// A created item: a REST request body (1–4 KB of JSON).
			u, _ := url.Parse("https://api.example/api/items")
			ex = &capture.Exchange{
				Request: &capture.Request{Method: "POST", URL: u, Body: []byte(`{"items":[` + strings.Repeat(item, 1+i%4*8) + `{}]}`),
					Headers: append(capture.Headers{{Name: "Authorization", Value: "Bearer " + token}}, json...)},
				Response: &capture.Response{Status: 201, Headers: json, Body: []byte(`{"id":"itm_01HZX3K8Q2V7N9","created":true}`)}}
		default:
			u, _ := url.Parse(fmt.Sprintf("https://api.example/api/items?size=%d", 1+i%20))
			ex = &capture.Exchange{
				Request: &capture.Request{Method: "GET", URL: u,
					Headers: capture.Headers{{Name: "Authorization", Value: "Bearer " + token}}},
				Response: &capture.Response{Status: 200, Headers: json, Body: list}}
		}
		ex.Start = at
		exs = append(exs, ex)
	}
	return exs
}

// BenchmarkAnalyzeFirstViews is the first analysis of the same capture:
// every view built, as the live analysis builds those of the exchanges
// recorded since the last one.
func BenchmarkAnalyzeFirstViews(b *testing.B) {
	exs := apiTraffic(20000)
	for b.Loop() {
		Analyze(capture.Timeline(copies(exs)), Options{MCPRevision: "auto", Views: NewViewCache()})
	}
}
