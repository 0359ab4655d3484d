package builtin

import (
	"net/url"
	"slices"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/rules"
)

// The command line drops, while a packet capture is read, the bodies the
// analysis will not read (analyze.DropUnreadBodies) and, once the flows
// are built, the headers of traffic that cannot be OAuth
// (Result.ReleaseUnread). Neither may change a single finding: every rule
// fixture (each rule's firing and near-miss captures) is judged as read
// and slimmed, and the findings must be identical.
func TestSlimmingChangesNoFinding(t *testing.T) {
	files, err := rules.FixtureFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, file := range files {
		judgeFile := func(slim bool) []string {
			fx := loadFixture(t, file)
			exs, info, opts := fx.exs, fx.info, fx.opts
			if slim {
				for _, ex := range exs {
					n := len(ex.Gaps)
					analyze.DropUnreadBodies(ex)
					if len(ex.Gaps) > n {
						dropped++
					}
				}
			}
			res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: opts.MCPRevision, ClientRun: info.ClientRun})
			if slim {
				res.ReleaseUnread()
			}
			return findingLines(engine(t).Run(res, rules.RunOptions{Packs: opts.Packs}))
		}
		if full, slim := judgeFile(false), judgeFile(true); !slices.Equal(full, slim) {
			t.Errorf("%s: findings change when unread bodies and headers are dropped:\nfull: %q\nslim: %q", file, full, slim)
		}
	}
	if dropped == 0 {
		t.Error("no fixture had a body to drop: the test checks nothing")
	}
	t.Logf("%d fixtures, %d exchanges slimmed", len(files), dropped)
}

func TestDropUnreadBodies(t *testing.T) {
	ex := func(method, url, reqType, reqBody, respType, respBody string, hdr ...capture.Header) *capture.Exchange {
		e := &capture.Exchange{Request: &capture.Request{Method: method, URL: mustURL(t, url), Body: []byte(reqBody)},
			Response: &capture.Response{Status: 200, Headers: capture.Headers{{Name: "Content-Type", Value: respType}}, Body: []byte(respBody)}}
		if reqType != "" {
			e.Request.Headers = append(e.Request.Headers, capture.Header{Name: "Content-Type", Value: reqType})
		}
		e.Request.Headers = append(e.Request.Headers, hdr...)
		return e
	}
	for _, c := range []struct {
		name     string
		ex       *capture.Exchange
		keepResp bool
	}{
		{"API call without credentials", ex("GET", "https://shop.example/api/items?page=2", "", "", "application/json", `{"items":[{"id":1}]}`), false},
		{"HTML page", ex("GET", "https://shop.example/", "", "", "text/html", "<html>…</html>"), false},
		{"JWKS (a URL metadata may name)", ex("GET", "https://as.example/keys", "", "", "application/json", `{"keys":[{"kty":"EC"}]}`), true},
		{"client ID metadata document", ex("GET", "https://client.example/cimd.json", "", "", "application/json", `{"client_id":"https://client.example/cimd.json"}`), true},
		{"call with a bearer token", ex("GET", "https://rs.example/api", "", "", "application/json", `{"a":1}`, capture.Header{Name: "Authorization", Value: "Bearer x"}), true},
		{"token request", ex("POST", "https://as.example/token", "application/x-www-form-urlencoded", "grant_type=authorization_code", "application/json", `{"access_token":"x"}`), true},
		{"well-known document", ex("GET", "https://as.example/.well-known/oauth-authorization-server", "", "", "application/json", `{"x":1}`), true},
	} {
		analyze.DropUnreadBodies(c.ex)
		kept := len(c.ex.Response.Body) > 0
		if kept != c.keepResp {
			t.Errorf("%s: response body kept %v, want %v", c.name, kept, c.keepResp)
		}
		if !kept && !c.ex.HasGap(capture.GapResponseBody) {
			t.Errorf("%s: dropped body without a gap saying so", c.name)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The command line compiles the built-in rules with CompileDeferred (the
// parts a rule needs only when it fires wait until it does): every fixture
// must give exactly the findings of the fully compiled engine.
func TestDeferredCompileSameFindings(t *testing.T) {
	rs, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	deferred, err := rules.CompileDeferred(rs)
	if err != nil {
		t.Fatal(err)
	}
	files, err := rules.FixtureFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	fired := 0
	for _, file := range files {
		fx := loadFixture(t, file)
		run := func(e *rules.Engine) []string {
			res := analyze.Analyze(capture.Timeline(fx.exs), analyze.Options{MCPRevision: fx.opts.MCPRevision, ClientRun: fx.info.ClientRun})
			return findingLines(e.Run(res, rules.RunOptions{Packs: fx.opts.Packs}))
		}
		full, lazy := run(engine(t)), run(deferred)
		if !slices.Equal(full, lazy) {
			t.Errorf("%s: deferred compilation changes the findings:\nfull: %q\nlazy: %q", file, full, lazy)
		}
		fired += len(full)
	}
	if fired == 0 {
		t.Error("no finding at all: the comparison proves nothing")
	}
}

// The live session analyzes the whole capture again as it grows, with the
// exchanges' views kept between analyses (analyze.ViewCache). The
// findings must be those of an analysis from scratch: every fixture is
// analyzed as its first half, then as a whole, through one cache, on fresh
// copies of the exchanges each time as the session makes them.
func TestViewCacheSameFindings(t *testing.T) {
	files, err := rules.FixtureFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for _, file := range files {
		fx := loadFixture(t, file)
		exs, info, opts := fx.exs, fx.info, fx.opts
		run := func(exs []*capture.Exchange, views *analyze.ViewCache) []string {
			cp := make([]*capture.Exchange, len(exs))
			for i, ex := range exs {
				c := *ex
				cp[i] = &c
			}
			res := analyze.Analyze(capture.Timeline(cp), analyze.Options{MCPRevision: opts.MCPRevision, ClientRun: info.ClientRun, Views: views})
			return findingLines(engine(t).Run(res, rules.RunOptions{Packs: opts.Packs}))
		}
		views := analyze.NewViewCache()
		run(exs[:len(exs)/2], views)
		hits += len(exs) / 2
		if fresh, cached := run(exs, nil), run(exs, views); !slices.Equal(fresh, cached) {
			t.Errorf("%s: findings differ with the views of an earlier analysis:\nfresh:  %q\ncached: %q", file, fresh, cached)
		}
		if again, fresh := run(exs, views), run(exs, nil); !slices.Equal(again, fresh) {
			t.Errorf("%s: a third analysis through the cache differs", file)
		}
	}
	if hits == 0 {
		t.Error("no exchange came from the cache")
	}
}
