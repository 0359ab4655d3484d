package rules

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/input"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func TestRedirectURIMatch(t *testing.T) {
	reg := []string{"http://127.0.0.1:33418/oauth/callback", "http://localhost:3334/cb", "https://app.example.com/cb", "http://[::1]:8080/cb"}
	for _, c := range []struct{ uri, want string }{
		{"http://127.0.0.1:33418/oauth/callback", azMatchExact},
		{"http://127.0.0.1:41207/oauth/callback", azMatchLoopbackPort},
		{"http://127.0.0.1/oauth/callback", azMatchLoopbackPort},
		{"http://[::1]:9999/cb", azMatchLoopbackPort},
		{"http://localhost:5555/cb", azMatchLocalhostPort},
		{"http://LOCALHOST:5555/cb", azMatchLocalhostPort},
		// Anything but the port must match byte for byte.
		{"http://127.0.0.1:41207/callback", ""},
		{"http://127.0.0.1:41207/oauth/callback/", ""},
		{"http://127.0.0.1:41207/oauth/callback?x=1", ""},
		{"http://localhost:33418/oauth/callback", ""},
		{"https://127.0.0.1:33418/oauth/callback", ""},
		// Non-loopback hosts get no port exception.
		{"https://app.example.com:8443/cb", ""},
		{"https://app.example.com/cb/../cb", ""},
		{"com.example.app:/cb", ""},
		{"http://user@127.0.0.1:1/oauth/callback", ""},
		{"", ""},
	} {
		if got := azRedirectURIMatch(c.uri, reg); got != c.want {
			t.Errorf("azRedirectURIMatch(%q) = %q, want %q", c.uri, got, c.want)
		}
	}
	if got := azRedirectURIMatch("com.example.app:/cb", []string{"com.example.app:/cb"}); got != azMatchExact {
		t.Errorf("custom scheme exact = %q", got)
	}
}

func TestStateEntropyBits(t *testing.T) {
	for _, c := range []struct {
		state    string
		min, max int
	}{
		{"", 0, 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0},
		{"1795737403643", 30, 50},                          // Date.now()
		{"xyz", 0, 10},                                     // constant
		{"3f2a8c1e-6b7d-4e90-a1c2-5d8e9f0b7a61", 120, 160}, // UUID v4
		{"Yk2dXbH0T3oQ_vYp9-2Jd5", 80, 132},                // 22 base64url chars: 128 bits
		{"6mR0wq8vYk2dXbH0T3oQ_vYp9-2Jd5mZk8bq1LrW0cN", 150, 260},
		// Structured: the nonce decides, not the JSON around it.
		{`{"return_to":"/notes","nonce":"Yk2dXbH0T3oQ_vYp9-2Jd5mZk8bq1LrW"}`, 100, 200},
		{"https://app.example.com/return", 0, 63},
	} {
		got := azStateEntropyBits(c.state)
		if got < c.min || got > c.max {
			t.Errorf("azStateEntropyBits(%q) = %d, want %d..%d", c.state, got, c.min, c.max)
		}
	}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestSensitiveInValue(t *testing.T) {
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	for _, c := range []struct {
		name, v string
		known   map[string]string
		want    []string
	}{
		{"random", "Yk2dXbH0T3oQ_vYp9-2Jd5mZk8bq1LrW", nil, []string{}},
		{"nonce and return path", b64json(map[string]string{"nonce": "Yk2dXbH0T3oQ", "return_to": "/notes"}), nil, []string{}},
		{"email in base64url JSON", b64json(map[string]string{"csrf": "Yk2dXbH0", "email": "alice@example.com"}), nil,
			[]string{"personal data: member email"}},
		{"email anywhere", "login:alice@example.com:Yk2dXbH0T3oQ", nil, []string{"personal data: an email address"}},
		{"token in plain JSON", `{"access_token":"ya29.a0AfH6SM","n":"x"}`, nil, []string{"credential: member access_token"}},
		{"nested JWT", b64json(map[string]any{"ctx": map[string]string{"hint": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}}), nil,
			[]string{"credential: a JWT in member ctx.hint"}},
		{"query-string state", "return=%2Fx&password=hunter22", nil, []string{"credential: parameter password"}},
		{"verifier of the flow", b64json(map[string]string{"v": verifier}), map[string]string{"code_verifier": verifier},
			[]string{"credential: this flow's own code_verifier"}},
		{"signed state JWT with a nonce", "eyJhbGciOiJIUzI1NiJ9." + b64json(map[string]string{"nonce": "Yk2dXbH0"}) + ".c2ln", nil, []string{}},
		{"signed state JWT with an email", "eyJhbGciOiJIUzI1NiJ9." + b64json(map[string]string{"sub": "bob@example.org"}) + ".c2ln", nil,
			[]string{"personal data: member sub"}},
		{"empty known values are ignored", "Yk2dXbH0T3oQ", map[string]string{"code_verifier": ""}, []string{}},
	} {
		got := azSensitiveInValue(c.v, c.known)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: azSensitiveInValue = %q, want %q", c.name, got, c.want)
		}
	}
}

// RFC 7638 §3.1: the thumbprint of the RFC 7517 Appendix A.1 RSA key.
const rfc7638Key = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`

func TestJWKThumbprint(t *testing.T) {
	var jwk map[string]any
	if err := json.Unmarshal([]byte(rfc7638Key), &jwk); err != nil {
		t.Fatal(err)
	}
	if got, want := azJWKThumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"dpop+jwt","alg":"RS256","jwk":` + rfc7638Key + `}`))
	proof := hdr + "." + b64json(map[string]any{"htm": "POST"}) + ".c2ln"
	if got := azDPoPProofJKT(proof); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("proof jkt = %q", got)
	}
	for _, bad := range []string{"", "a.b", "!!.e30.x", b64json(map[string]any{"alg": "ES256"}) + ".e30.x",
		b64json(map[string]any{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "abc"}}) + ".e30.x",
		b64json(map[string]any{"jwk": map[string]any{"kty": "oct", "k": "abc"}}) + ".e30.x"} {
		if got := azDPoPProofJKT(bad); got != "" {
			t.Errorf("azDPoPProofJKT(%q) = %q, want empty", bad, got)
		}
	}
}

func TestExternalSubresourcesAndReferrerPolicy(t *testing.T) {
	page := `<html><head><meta name="referrer" content="origin"><link rel="stylesheet" href="https://cdn.example.net/a.css">
<link rel="canonical" href="https://elsewhere.example/"><script src="/local.js"></script>
<script src='https://analytics.example.org/t.js?id=1'></script></head><body>
<img src=//img.example.com/p.gif><img src="data:image/png;base64,AAAA"><a href="https://docs.example.com/">help</a>
<iframe src="http://127.0.0.1:33418/frame"></iframe></body></html>`
	got := azExternalSubresources(page, "http://127.0.0.1:33418/oauth/callback?code=x")
	want := []string{"https://cdn.example.net/a.css", "https://analytics.example.org/t.js?id=1", "http://img.example.com/p.gif"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subresources = %q, want %q", got, want)
	}
	if p := azReferrerPolicy(nil, page); p != "origin" {
		t.Errorf("meta policy = %q", p)
	}
	if p := azReferrerPolicy(map[string][]string{"referrer-policy": {"unknown-token, no-referrer"}}, page); p != "no-referrer" {
		t.Errorf("header policy = %q", p)
	}
	if p := azReferrerPolicy(map[string][]string{"referrer-policy": {"no-referrer, bogus"}}, ""); p != "no-referrer" {
		t.Errorf("unknown tokens are ignored: %q", p)
	}
	if p := azReferrerPolicy(nil, "<html></html>"); p != "" {
		t.Errorf("no policy = %q", p)
	}
}

func TestSameResourceURI(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://MCP.Example.com/mcp", "https://mcp.example.com/mcp", true},
		{"HTTPS://mcp.example.com:443/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/MCP", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", false},
		{"/mcp", "https://mcp.example.com/mcp", false},
	} {
		if got := azSameResourceURI(c.a, c.b); got != c.want {
			t.Errorf("azSameResourceURI(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func analyzeHAR(t *testing.T, h *hb.HAR) *analyze.Result {
	t.Helper()
	exs, _, err := har.Read(strings.NewReader(string(h.Marshal())), "t.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
}

func authzFlow(t *testing.T, res *analyze.Result) *analyze.Flow {
	t.Helper()
	for _, f := range res.Flows {
		if f.Authorize != nil {
			f.All = res.Flows
			return f
		}
	}
	t.Fatal("no authorization flow")
	return nil
}

var azStart = time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)

func TestFlowHelpersOnConformingHydra(t *testing.T) {
	h := hb.New("mitmproxy", "11.0.2", azStart)
	hb.Scenario{Seed: 1, Revision: "2025-11-25", ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"}, AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read")}.Build(h)
	f := authzFlow(t, analyzeHAR(t, h))
	if uris, src := azRegisteredRedirectURIs(f); !reflect.DeepEqual(uris, []string{"http://127.0.0.1:33418/oauth/callback"}) || !strings.Contains(src, "registration response") {
		t.Errorf("registered = %q from %q", uris, src)
	}
	if eps := azMetadataAuthorizationEndpoints(f); !reflect.DeepEqual(eps, []string{"https://auth.example.com/oauth2/auth"}) {
		t.Errorf("endpoints = %q", eps)
	}
	if e := azAuthorizationErrorAnswer(f); e != "" {
		t.Errorf("error answer on a conforming flow: %q", e)
	}
	r := azCallbackRedirect(f)
	if r["status"] != int64(303) || r["method"] != "GET" || r["url"] != "https://auth.example.com/oauth2/auth" {
		t.Errorf("callback redirect = %v", r)
	}
	if p := azUnframedAuthorizationPages(f); len(p) != 0 {
		t.Errorf("unframed pages = %q", p)
	}
	if l, src := azCanonicalResources(f); !reflect.DeepEqual(l, []string{"https://mcp.example.com/mcp"}) || !strings.Contains(src, "protected resource metadata") {
		t.Errorf("canonical = %q from %q", l, src)
	}
}

func TestFlowHelpersOnBrokenAS(t *testing.T) {
	h := hb.New("mitmproxy", "11.0.2", azStart)
	fl := hb.Scenario{Seed: 2, Revision: "2025-11-25", AS: hb.Generic}.Build(h)
	// The AS shows its own error page for a redirect URI it does not know,
	// and serves it framable.
	page := "<!DOCTYPE html><html><body><h1>Error</h1><p>redirect_uri does not match the registered redirect URIs</p></body></html>"
	fl.Authorize.Status = 400
	fl.Authorize.DelRespHeader("Location")
	fl.Authorize.SetRespHeader("Content-Type", "text/html; charset=utf-8")
	fl.Authorize.SetRespBody(page)
	res := analyzeHAR(t, h)
	f := authzFlow(t, res)
	if e := azAuthorizationErrorAnswer(f); e != "400: Error redirect_uri does not match the registered redirect URIs" {
		t.Errorf("error answer = %q", e)
	}
	if r := azCallbackRedirect(f); len(r) != 0 {
		t.Errorf("callback redirect = %v", r)
	}
	if p := azUnframedAuthorizationPages(f); len(p) != 0 {
		t.Errorf("a 400 error page is not a login page: %q", p)
	}

	// A 200 login form without framing protection; the JSON error variant.
	h = hb.New("mitmproxy", "11.0.2", azStart)
	fl = hb.Scenario{Seed: 2, Revision: "2025-11-25", AS: hb.Generic}.Build(h)
	fl.Authorize.Status = 200
	fl.Authorize.DelRespHeader("Location")
	fl.Authorize.SetRespHeader("Content-Type", "text/html; charset=utf-8")
	fl.Authorize.SetRespBody(`<!DOCTYPE html><form method="post"><input name="password" type="password"></form>`)
	f = authzFlow(t, analyzeHAR(t, h))
	if p := azUnframedAuthorizationPages(f); len(p) != 1 || !strings.HasPrefix(p[0], "GET https://auth.example.com/authorize (exchange ") {
		t.Errorf("unframed pages = %q", p)
	}
	fl.Authorize.SetRespHeader("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	if p := azUnframedAuthorizationPages(authzFlow(t, analyzeHAR(t, h))); len(p) != 0 {
		t.Errorf("CSP frame-ancestors 'none' protects: %q", p)
	}
	fl.Authorize.SetRespHeader("Content-Security-Policy", "frame-ancestors *")
	if p := azUnframedAuthorizationPages(authzFlow(t, analyzeHAR(t, h))); len(p) != 1 {
		t.Errorf("frame-ancestors * does not protect: %q", p)
	}
	fl.Authorize.SetRespHeader("Content-Type", "application/json").SetRespBody(`{"error":"missing_state","error_description":"state is required"}`)
	if e := azAuthorizationErrorAnswer(authzFlow(t, analyzeHAR(t, h))); e != "200 error=missing_state: state is required" {
		t.Errorf("error answer = %q", e)
	}
}

func TestRegisteredRedirectURIsIgnoresOtherClients(t *testing.T) {
	h := hb.New("mitmproxy", "11.0.2", azStart)
	fl := hb.Scenario{Seed: 3, Revision: "2025-11-25", AS: hb.Generic}.Build(h)
	// The authorization request uses a client_id the registration did
	// not return (a stale client from an earlier session).
	fl.Authorize.SetQuery("client_id", "stale-client")
	f := authzFlow(t, analyzeHAR(t, h))
	if uris, _ := azRegisteredRedirectURIs(f); len(uris) != 0 {
		t.Errorf("registered URIs of another client: %q", uris)
	}
	// A client ID metadata document names them for a URL client_id.
	f2 := &analyze.Flow{Authorize: &analyze.Authorize{ClientID: "https://app.example.com/client.json"}}
	f2.Aux = []*analyze.Aux{{Kind: "cimd", HTTP: analyze.HTTP{URL: "https://app.example.com/client.json", Status: 200,
		ResponseJSON: map[string]any{"redirect_uris": []any{"http://127.0.0.1/cb"}}}}}
	if uris, src := azRegisteredRedirectURIs(f2); !reflect.DeepEqual(uris, []string{"http://127.0.0.1/cb"}) || !strings.Contains(src, "client ID metadata document") {
		t.Errorf("cimd = %q %q", uris, src)
	}
}

func TestChainedAuthorizeAndKnownResources(t *testing.T) {
	exs, _, err := input.Read("builtin/testdata/AZ-PKCE-UNIQUE/silent-proxy-forwards-challenge.har", input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	var client, upstream *analyze.Flow
	for _, f := range res.Flows {
		f.All = res.Flows
		switch {
		case f.Authorize == nil:
		case f.Authorize.ClientID == "mcp-proxy":
			upstream = f
		default:
			client = f
		}
	}
	if client == nil || upstream == nil {
		t.Fatalf("flows: %d, want the client's and the proxy's authorization", len(res.Flows))
	}
	if azChained(client) || !azChained(upstream) {
		t.Errorf("chained: client %v, upstream %v", azChained(client), azChained(upstream))
	}
	// The upstream leg went to the IdP, which the metadata never named:
	// exactly the case the chained guard exists for.
	if eps := azMetadataAuthorizationEndpoints(upstream); len(eps) == 0 || eps[0] != "https://mcp.example.com/authorize" {
		t.Errorf("endpoints of the upstream leg = %q", eps)
	}
	if k := azKnownResources(client); !reflect.DeepEqual(k, []string{"https://mcp.example.com/mcp"}) {
		t.Errorf("known resources = %q", k)
	}
}
