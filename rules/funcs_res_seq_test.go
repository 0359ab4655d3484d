package rules

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func rsReqHTTP(id int, method, rawURL string, headers map[string]string) *analyze.HTTP {
	h := &analyze.HTTP{ID: id, Method: method, URL: rawURL, RequestHeaders: map[string][]string{}}
	h.Endpoint = strings.SplitN(strings.SplitN(rawURL, "?", 2)[0], "#", 2)[0]
	if i := strings.Index(rawURL, "://"); i > 0 {
		rest := rawURL[i+3:]
		host := strings.SplitN(rest, "/", 2)[0]
		h.Origin = strings.ToLower(rawURL[:i]) + "://" + strings.ToLower(host)
		h.Host = strings.ToLower(host)
		h.Scheme = strings.ToLower(rawURL[:i])
	}
	for k, v := range headers {
		h.RequestHeaders[strings.ToLower(k)] = []string{v}
	}
	return h
}

func TestRSBearerSyntaxProblem(t *testing.T) {
	tok := "ory_at_8x2Kq.Zp3N-4_w~Lm+/=="
	issued := rsTokenSet([]string{tok})
	for _, c := range []struct {
		name, auth string
		want       string // substring of the problem; "" = fine
	}{
		{"canonical", "Bearer " + tok, ""},
		{"lower-case scheme", "bearer " + tok, ""},
		{"upper-case scheme", "BEARER " + tok, ""},
		{"two spaces", "Bearer  " + tok, "more than one space"},
		{"tab", "Bearer\t" + tok, "tab"},
		{"quoted", `Bearer "` + tok + `"`, "quoted"},
		{"no scheme, issued token", tok, "without the Bearer scheme"},
		{"no scheme, unknown key", "acme_live_key", ""},
		{"other scheme, issued token", "Token " + tok, `scheme "Token"`},
		{"other scheme, unknown value", "ApiKey abc123", ""},
		{"dpop is another rule's", "DPoP " + tok, ""},
		{"basic is not oauth", "Basic dXNlcjpwYXNz", ""},
		{"bare scheme", "Bearer", "without a token"},
		{"bearer then blank", "Bearer ", "without a token"},
		{"bad characters", "Bearer abc,def", "outside the token68 set"},
		{"two tokens", "Bearer abc def", "whitespace"},
		{"trailing space", "Bearer " + tok + " ", "trailing whitespace"},
		{"jwt without scheme", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "without the Bearer scheme"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := rsReqHTTP(1, "POST", "https://mcp.example.com/mcp", map[string]string{"Authorization": c.auth})
			got := rsBearerSyntaxProblem(h, issued)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("%q: got %q, want %q", c.auth, got, c.want)
			}
		})
	}
	if got := rsBearerSyntaxProblem(rsReqHTTP(1, "GET", "https://x/", nil), issued); got != "" {
		t.Errorf("no header: %q", got)
	}
	h := rsReqHTTP(1, "GET", "https://x/", nil)
	h.RequestHeaders["authorization"] = []string{"Bearer a", "Bearer b"}
	if got := rsBearerSyntaxProblem(h, issued); !strings.Contains(got, "2 Authorization headers") {
		t.Errorf("two headers: %q", got)
	}
}

func TestRSURLWithin(t *testing.T) {
	for _, c := range []struct {
		res, u string
		want   bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp/sse", true},
		{"https://mcp.example.com", "https://mcp.example.com/mcp", true},
		{"https://MCP.example.com:443", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp2", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/admin/mcp", false},
		{"https://mcp.example.com/mcp", "http://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com:8443/mcp", false},
		{"https://mcp.example.com/mcp", "https://other.example.com/mcp", false},
		{"api://acme-notes", "https://mcp.example.com/mcp", false},
		{"", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp", "::not a url", false},
	} {
		if got := rsURLWithin(c.res, c.u); got != c.want {
			t.Errorf("rsURLWithin(%q, %q) = %v, want %v", c.res, c.u, got, c.want)
		}
	}
}

func TestRSJWKThumbprint(t *testing.T) {
	// RFC 7638 §3.1.
	rfc := map[string]any{"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
		"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	if got, want := rsJWKThumbprint(rfc), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("RFC 7638 example: got %s, want %s", got, want)
	}
	// An independent implementation (the fixture writer) agrees on EC keys.
	k := hb.NewDPoPKeyPair(7)
	if got := rsJWKThumbprint(k.JWK); got != k.Thumbprint {
		t.Errorf("EC key: rules %s, harbuild %s", got, k.Thumbprint)
	}
	for _, bad := range []map[string]any{{}, {"kty": "EC", "crv": "P-256", "x": "a"}, {"kty": "XYZ"}, {"kty": "RSA", "e": 3, "n": "x"}} {
		if got := rsJWKThumbprint(bad); got != "" {
			t.Errorf("%v: got %q, want no thumbprint", bad, got)
		}
	}
}

func rsB64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func rsProof(hdr, claims map[string]any) string {
	return rsB64JSON(hdr) + "." + rsB64JSON(claims) + ".c2lnbmF0dXJl"
}

func TestRSDPoPProblems(t *testing.T) {
	k := hb.NewDPoPKeyPair(3)
	at := "ory_at_token-value"
	sum := sha256.Sum256([]byte(at))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	goodHdr := func() map[string]any { return map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.JWK} }
	goodClaims := func() map[string]any {
		return map[string]any{"jti": "j-1", "htm": "POST", "htu": "https://mcp.example.com/mcp", "iat": 1795166043, "ath": ath}
	}
	for _, c := range []struct {
		name   string
		edit   func(h, c map[string]any)
		raw    string
		token  string
		want   string // substring; "" = no problem
		method string
	}{
		{name: "good", edit: func(h, c map[string]any) {}, token: at},
		{name: "good without token", edit: func(h, c map[string]any) { delete(c, "ath") }},
		{name: "typ case-insensitive", edit: func(h, c map[string]any) { h["typ"] = "DPoP+JWT" }, token: at},
		{name: "htu default port", edit: func(h, c map[string]any) { c["htu"] = "https://MCP.example.com:443/mcp" }, token: at},
		{name: "wrong typ", edit: func(h, c map[string]any) { h["typ"] = "JWT" }, want: `typ is "JWT"`},
		{name: "alg none", edit: func(h, c map[string]any) { h["alg"] = "none" }, want: "unsigned"},
		{name: "hmac", edit: func(h, c map[string]any) { h["alg"] = "HS256" }, want: "MAC algorithm"},
		{name: "unknown alg", edit: func(h, c map[string]any) { h["alg"] = "XX1" }, want: "not a registered"},
		{name: "no jwk", edit: func(h, c map[string]any) { delete(h, "jwk") }, want: "no jwk"},
		{name: "private jwk", edit: func(h, c map[string]any) { h["jwk"] = k.PrivateJWK() }, want: "private key members (d)"},
		{name: "symmetric jwk", edit: func(h, c map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} }, want: `kty is "oct"`},
		{name: "no jti", edit: func(h, c map[string]any) { delete(c, "jti") }, want: "jti claim is missing"},
		{name: "no iat", edit: func(h, c map[string]any) { delete(c, "iat") }, want: "iat claim"},
		{name: "wrong htm", edit: func(h, c map[string]any) { c["htm"] = "GET" }, want: `htm is "GET"`},
		{name: "htu query", edit: func(h, c map[string]any) { c["htu"] = "https://mcp.example.com/mcp?x=1" }, want: "query or fragment"},
		{name: "htu other path", edit: func(h, c map[string]any) { c["htu"] = "https://mcp.example.com/other" }, want: "htu is"},
		{name: "ath missing", edit: func(h, c map[string]any) { delete(c, "ath") }, token: at, want: "ath claim is missing"},
		{name: "ath stale", edit: func(h, c map[string]any) { c["ath"] = "stale" }, token: at, want: "ath does not match"},
		{name: "not a jws", raw: "not-a-jwt", want: "not a compact JWS"},
		{name: "bad header", raw: "!!!.e30.c2ln", want: "JOSE header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw
			if raw == "" {
				h, cl := goodHdr(), goodClaims()
				c.edit(h, cl)
				raw = rsProof(h, cl)
			}
			req := rsReqHTTP(5, "POST", "https://mcp.example.com/mcp", map[string]string{"DPoP": raw})
			got := strings.Join(rsDPoPProblems(req, c.token), "; ")
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	two := rsReqHTTP(5, "POST", "https://mcp.example.com/mcp", nil)
	two.RequestHeaders["dpop"] = []string{rsProof(goodHdr(), goodClaims()), rsProof(goodHdr(), goodClaims())}
	if got := strings.Join(rsDPoPProblems(two, at), "; "); !strings.Contains(got, "2 DPoP headers") {
		t.Errorf("two headers: %q", got)
	}
	if got := rsDPoPProblems(rsReqHTTP(5, "POST", "https://x/", nil), at); len(got) != 0 {
		t.Errorf("no proof: %v", got)
	}
	withProof := rsReqHTTP(5, "POST", "https://mcp.example.com/mcp", map[string]string{"DPoP": rsProof(goodHdr(), goodClaims())})
	if got := rsDPoPJKT(withProof); got != k.Thumbprint {
		t.Errorf("rsDPoPJKT = %q, want %q", got, k.Thumbprint)
	}
	if got := rsDPoPClaims(withProof)["jti"]; got != "j-1" {
		t.Errorf("rsDPoPClaims jti = %v", got)
	}
}

func TestRSHostClass(t *testing.T) {
	for in, want := range map[string]string{
		"http://169.254.169.254/latest/meta-data/": "link-local",
		"http://metadata.google.internal/x":        "link-local",
		"https://10.1.2.3/.well-known/x":           "private",
		"https://172.16.0.9:8443/x":                "private",
		"https://192.168.1.1/x":                    "private",
		"https://[fd00::1]/x":                      "private",
		"https://[fe80::1]/x":                      "link-local",
		"https://100.64.1.1/x":                     "shared",
		"http://0.0.0.0:8080/x":                    "unspecified",
		"http://127.0.0.1:3000/x":                  "loopback",
		"http://localhost:3000/x":                  "loopback",
		"http://[::1]:3000/x":                      "loopback",
		"https://8.8.8.8/x":                        "public",
		"https://auth.example.com/x":               "name",
		"10.0.0.1":                                 "private",
		"10.0.0.1:443":                             "private",
		"":                                         "",
	} {
		if got := rsHostClass(in); got != want {
			t.Errorf("rsHostClass(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRSTokenPlacesAndQuery(t *testing.T) {
	tok := "ory_at_abcdefghijklmnop"
	h := rsReqHTTP(1, "POST", "https://mcp.example.com/mcp?access_token="+tok+"&token=cursor&x="+tok, map[string]string{
		"X-Api-Key": tok, "Cookie": "sid=1; at=" + tok, "Authorization": "Bearer " + tok})
	h.Query = map[string][]string{"access_token": {tok}, "token": {"cursor"}, "x": {tok}}
	h.Form = map[string][]string{"access_token": {tok}}
	h.RequestBody = "access_token=" + tok
	set := rsTokenSet([]string{tok, "other-token-value-123"})
	got := rsTokenPlaces(h, set)
	want := []string{"cookie", "request header X-Api-Key", "form parameter access_token"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rsTokenPlaces = %v, want %v", got, want)
	}
	if got := rsQueryTokenParams(h, set); strings.Join(got, ",") != "access_token,x" {
		t.Errorf("rsQueryTokenParams = %v", got)
	}
	// A short value never matches (it would match ordinary text), nor
	// does a token that only shares a prefix with a header value.
	if got := rsTokenPlaces(h, rsTokenSet([]string{"ory"})); len(got) != 0 {
		t.Errorf("short token: %v", got)
	}
	if got := rsTokenPlaces(h, rsTokenSet([]string{"ory_at_abcdefghij"})); len(got) != 0 {
		t.Errorf("prefix of a token: %v", got)
	}
	j := rsReqHTTP(2, "POST", "https://mcp.example.com/mcp", nil)
	j.RequestBody = `{"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"token":"` + tok + `"}}}`
	if got := rsTokenPlaces(j, set); strings.Join(got, ",") != "request body" {
		t.Errorf("JSON body: %v", got)
	}
}

func TestRSAuthFailureSignal(t *testing.T) {
	mk := func(status int, mime, body string, hdr map[string]string) *analyze.HTTP {
		h := &analyze.HTTP{Status: status, ResponseMediaType: mime, ResponseBody: body, ResponseHeaders: map[string][]string{}}
		for k, v := range hdr {
			h.ResponseHeaders[strings.ToLower(k)] = []string{v}
		}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) == nil {
			h.ResponseJSON = m
		}
		return h
	}
	for _, c := range []struct {
		name string
		h    *analyze.HTTP
		want string
	}{
		{"jsonrpc error", mk(200, "application/json", `{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Unauthorized"}}`, nil), "JSON-RPC error"},
		{"sse jsonrpc error", mk(200, "text/event-stream", "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":10,\"message\":\"mwoauth-invalid-authorization\"}}\n\n", nil), "mwoauth-invalid-authorization"},
		{"tool error is fine", mk(200, "application/json", `{"jsonrpc":"2.0","id":1,"result":{"isError":true,"content":[{"type":"text","text":"Unauthorized"}]}}`, nil), ""},
		{"other jsonrpc error", mk(200, "application/json", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params"}}`, nil), ""},
		{"login redirect", mk(307, "", "", map[string]string{"Location": "https://idp.example/login?next=/mcp"}), "redirect"},
		{"slash redirect", mk(307, "", "", map[string]string{"Location": "/mcp/"}), ""},
		{"500 expired", mk(500, "text/plain", "jwt expired", nil), "HTTP 500"},
		{"500 other", mk(500, "text/plain", "database down", nil), ""},
		{"400 invalid token", mk(400, "application/json", `{"error":"invalid_token"}`, nil), "HTTP 400"},
		{"404", mk(404, "text/plain", "unauthorized", nil), ""},
	} {
		got := rsAuthFailureSignal(c.h)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func rsASMView(id int, u string, status int, issuer, fromPRM string) *analyze.ASMetadata {
	a := &analyze.ASMetadata{HTTP: *rsReqHTTP(id, "GET", u, nil), IssuerFromPRM: fromPRM}
	a.HTTP.Status = status
	if status == 200 {
		a.OK, a.Issuer, a.HasIssuer = true, issuer, true
	}
	return a
}

func TestRSASMOrderProblem(t *testing.T) {
	const iss = "https://auth.example.com/realms/acme"
	oauthIns := "https://auth.example.com/.well-known/oauth-authorization-server/realms/acme"
	oidcIns := "https://auth.example.com/.well-known/openid-configuration/realms/acme"
	oidcApp := "https://auth.example.com/realms/acme/.well-known/openid-configuration"
	type f struct {
		u      string
		status int
		issuer string
	}
	for _, c := range []struct {
		name  string
		seq   []f
		judge int    // index into seq
		want  string // substring; "" = fine
	}{
		{"all three in order", []f{{oauthIns, 404, ""}, {oidcIns, 404, ""}, {oidcApp, 200, iss}}, 2, ""},
		{"first hit", []f{{oauthIns, 200, iss}}, 0, ""},
		{"skipped oidc insert", []f{{oauthIns, 404, ""}, {oidcApp, 200, iss}}, 1, "without first trying " + oidcIns},
		{"oidc first", []f{{oidcIns, 200, iss}}, 0, "without first trying " + oauthIns},
		{"gave up", []f{{oauthIns, 404, ""}}, 0, "did not try " + oidcIns + " or " + oidcApp},
		{"wrong issuer counts as failed", []f{{oauthIns, 200, "https://other"}, {oidcIns, 200, iss}}, 1, ""},
		{"wrong issuer then stop is another rule's", []f{{oauthIns, 200, "https://other"}}, 0, ""},
		{"remembered location", []f{{oauthIns, 404, ""}, {oidcIns, 404, ""}, {oidcApp, 200, iss}, {oidcApp, 200, iss}}, 3, ""},
		{"exhausted", []f{{oauthIns, 404, ""}, {oidcIns, 404, ""}, {oidcApp, 404, ""}}, 2, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			fl := &analyze.Flow{ID: "F1"}
			for i, x := range c.seq {
				fl.ASMetadatas = append(fl.ASMetadatas, rsASMView(10+i, x.u, x.status, x.issuer, iss))
			}
			got := rsASMOrderProblem([]*analyze.Flow{fl}, fl.ASMetadatas[c.judge])
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// Not from a PRM: not judged.
	fl := &analyze.Flow{ID: "F1", ASMetadatas: []*analyze.ASMetadata{rsASMView(3, oidcIns, 200, iss, "")}}
	if got := rsASMOrderProblem([]*analyze.Flow{fl}, fl.ASMetadatas[0]); got != "" {
		t.Errorf("no PRM issuer: %q", got)
	}
	// No-path issuer: two candidates.
	fl = &analyze.Flow{ID: "F1", ASMetadatas: []*analyze.ASMetadata{rsASMView(3, "https://auth.example.com/.well-known/oauth-authorization-server", 404, "", "https://auth.example.com/")}}
	if got := rsASMOrderProblem([]*analyze.Flow{fl}, fl.ASMetadatas[0]); !strings.Contains(got, "did not try https://auth.example.com/.well-known/openid-configuration") {
		t.Errorf("no-path issuer: %q", got)
	}
}

func rsResourceView(id int, tok, sid, method string, ms int64) *analyze.Resource {
	h := rsReqHTTP(id, "POST", "https://mcp.example.com/mcp", nil)
	h.TimeMS = ms
	if tok != "" {
		h.RequestHeaders["authorization"] = []string{"Bearer " + tok}
	}
	if sid != "" {
		h.RequestHeaders["mcp-session-id"] = []string{sid}
	}
	h.RequestJSON = map[string]any{"method": method}
	return &analyze.Resource{HTTP: *h, HasToken: tok != "", Token: tok, AuthScheme: "Bearer", MCPMethod: method}
}

func TestRSSessionTokenRequest(t *testing.T) {
	at := int64(1_800_000_000_000)
	t.Run("session", func(t *testing.T) {
		fl := &analyze.Flow{ID: "F1", Resources: []*analyze.Resource{
			rsResourceView(5, "tokA", "", "initialize", at), rsResourceView(6, "tokA", "s1", "tools/list", at+10), rsResourceView(7, "", "s1", "tools/call", at+20),
			rsResourceView(8, "", "s2", "tools/call", at+30)}}
		fs := []*analyze.Flow{fl}
		if got := rsSessionTokenRequest(fs, &fl.Resources[2].HTTP); got == nil || got.HTTP.ID != 6 {
			t.Errorf("same session: got %v, want #6", got)
		}
		if got := rsSessionTokenRequest(fs, &fl.Resources[3].HTTP); got != nil {
			t.Errorf("other session: got #%d", got.HTTP.ID)
		}
	})
	t.Run("stateless", func(t *testing.T) {
		fl := &analyze.Flow{ID: "F1", Resources: []*analyze.Resource{
			rsResourceView(5, "tokA", "", "tools/list", at), rsResourceView(6, "", "", "tools/call", at+10), rsResourceView(7, "tokA", "", "tools/call", at+20),
			rsResourceView(8, "", "", "initialize", at+30), rsResourceView(9, "tokA", "", "tools/call", at+40),
			rsResourceView(10, "", "", "tools/call", at+50), rsResourceView(11, "tokB", "", "tools/call", at+60)}}
		fs := []*analyze.Flow{fl}
		if got := rsSessionTokenRequest(fs, &fl.Resources[1].HTTP); got == nil || got.HTTP.ID != 5 {
			t.Errorf("between two authenticated calls: got %v, want #5", got)
		}
		if got := rsSessionTokenRequest(fs, &fl.Resources[3].HTTP); got != nil {
			t.Errorf("initialize starts a new conversation: got #%d", got.HTTP.ID)
		}
		if got := rsSessionTokenRequest(fs, &fl.Resources[5].HTTP); got != nil {
			t.Errorf("different tokens around it (another client): got #%d", got.HTTP.ID)
		}
	})
}

func TestRSStepUpProblem(t *testing.T) {
	az := func(id int, scope string) *analyze.Authorize {
		a := &analyze.Authorize{HTTP: *rsReqHTTP(id, "GET", "https://auth.example.com/authorize?x", nil), ClientID: "c1", Scope: scope, HasScope: scope != ""}
		a.Scopes = strings.Fields(scope)
		return a
	}
	ch := &analyze.Challenge{HTTP: rsResourceView(20, "tokA", "s1", "tools/call", 0).HTTP, Status: 403, Error: "insufficient_scope",
		Scope: "mcp:read mcp:write", Scopes: []string{"mcp:read", "mcp:write"}, HadToken: true}
	base := func() *analyze.Flow {
		return &analyze.Flow{ID: "F1", ClientID: "c1", Kind: "authorization_code", Authorize: az(3, "mcp:read"), Challenges: []*analyze.Challenge{ch}}
	}
	t.Run("nothing followed", func(t *testing.T) {
		f := base()
		if got := rsStepUpProblem([]*analyze.Flow{f}, f, ch); got != "" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("retry", func(t *testing.T) {
		f := base()
		f.Resources = append(f.Resources, rsResourceView(21, "tokA", "s1", "tools/call", 0))
		if got := rsStepUpProblem([]*analyze.Flow{f}, f, ch); !strings.Contains(got, "retried the same call") {
			t.Errorf("got %q", got)
		}
	})
	t.Run("other call is fine", func(t *testing.T) {
		f := base()
		f.Resources = append(f.Resources, rsResourceView(21, "tokA", "s1", "tools/list", 0))
		if got := rsStepUpProblem([]*analyze.Flow{f}, f, ch); got != "" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("refresh only", func(t *testing.T) {
		f := base()
		f.Refreshes = []*analyze.Token{{HTTP: *rsReqHTTP(22, "POST", "https://auth.example.com/token", nil), GrantType: "refresh_token"}}
		if got := rsStepUpProblem([]*analyze.Flow{f}, f, ch); !strings.Contains(got, "only refreshed") {
			t.Errorf("got %q", got)
		}
	})
	t.Run("reauthorized with the scopes", func(t *testing.T) {
		f := base()
		g := &analyze.Flow{ID: "F2", ClientID: "c1", Authorize: az(25, "mcp:read mcp:write")}
		f.Resources = append(f.Resources, rsResourceView(30, "tokA", "s1", "tools/call", 0)) // after the re-authorization
		if got := rsStepUpProblem([]*analyze.Flow{f, g}, f, ch); got != "" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("reauthorized without them", func(t *testing.T) {
		f := base()
		g := &analyze.Flow{ID: "F2", ClientID: "c1", Authorize: az(25, "mcp:read")}
		if got := rsStepUpProblem([]*analyze.Flow{f, g}, f, ch); !strings.Contains(got, "lacks mcp:write") {
			t.Errorf("got %q", got)
		}
	})
}

func TestRSBaseURL0326Problem(t *testing.T) {
	ch := &analyze.Challenge{HTTP: *rsReqHTTP(1, "POST", "https://mcp.example.com/v1/mcp", nil), Status: 401, ResourceURL: "https://mcp.example.com/v1/mcp"}
	reg := func(u string) *analyze.Registration {
		return &analyze.Registration{HTTP: *rsReqHTTP(5, "POST", u, nil)}
	}
	for _, c := range []struct {
		name string
		asms []*analyze.ASMetadata
		reg  string
		want string
	}{
		{"metadata at origin", []*analyze.ASMetadata{rsASMView(2, "https://mcp.example.com/.well-known/oauth-authorization-server", 200, "https://mcp.example.com", "")},
			"https://mcp.example.com/register", ""},
		{"metadata missing, fallback", []*analyze.ASMetadata{rsASMView(2, "https://mcp.example.com/.well-known/oauth-authorization-server", 404, "", "")},
			"https://mcp.example.com/register", ""},
		{"no metadata tried", nil, "https://mcp.example.com/register", "without first fetching"},
		{"path kept in metadata URL", []*analyze.ASMetadata{rsASMView(2, "https://mcp.example.com/.well-known/oauth-authorization-server/v1/mcp", 404, "", "")},
			"https://mcp.example.com/register", "keeping the MCP path"},
		{"path kept in fallback endpoint", []*analyze.ASMetadata{rsASMView(2, "https://mcp.example.com/.well-known/oauth-authorization-server", 404, "", "")},
			"https://mcp.example.com/v1/mcp/register", "keeping the MCP path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &analyze.Flow{ID: "F1", Challenge: ch, Challenges: []*analyze.Challenge{ch}, ASMetadatas: c.asms, Registrations: []*analyze.Registration{reg(c.reg)}}
			for _, a := range c.asms {
				if a.OK {
					f.ASMetadata = a
				}
			}
			got := rsBaseURL0326Problem(f, []*analyze.Flow{f})
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// analyzeHAR writes a harbuild capture and runs the real analysis on it.
func rsAnalyzeHAR(t *testing.T, h *hb.HAR) *analyze.Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.har")
	if err := os.WriteFile(p, h.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	exs, _, err := input.Read(p, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
}

func rsFindResource(res *analyze.Result, host string) *analyze.Resource {
	for _, m := range res.Messages {
		if r, ok := m.View.(*analyze.Resource); ok && r.HTTP.Host == host {
			return r
		}
	}
	return nil
}

func TestRSPassthroughAndTokenElsewhere(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	build := func(fromServer bool) *analyze.Result {
		h := hb.New("mitmproxy", "11.0.2", start)
		s := hb.Scenario{Seed: 9, Revision: "2025-11-25", ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"}, AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read")}
		ss := s.ContinueMCP(h)
		ss.Call(hb.MCPCall{ServerIP: "203.0.113.10"})
		client := "192.0.2.44:51000"
		if fromServer {
			client = "203.0.113.10:48712"
		}
		h.Add(&hb.Entry{Method: "GET", URL: "https://api.backend.example/v2/search", Client: client,
			ReqHeaders: [][2]string{{"host", "api.backend.example"}, {"authorization", "Bearer " + ss.Token}, {"user-agent", "python-httpx/0.27.0"}},
			Status:     200, RespMime: "application/json", RespBody: `{"results":[]}`, RespHeaders: [][2]string{{"Content-Type", "application/json"}}})
		return rsAnalyzeHAR(t, h)
	}
	res := build(true)
	out := rsFindResource(res, "api.backend.example")
	if out == nil {
		t.Fatal("the upstream request was not classified as a resource call")
	}
	in := rsPassthroughInbound(res.Flows, &out.HTTP)
	if in == nil || in.HTTP.Host != "mcp.example.com" {
		t.Fatalf("rsPassthroughInbound = %v, want the tools/call to mcp.example.com", in)
	}
	for _, f := range res.Flows {
		if g := rsTokenSentElsewhere(f, res.Flows); len(g) != 0 {
			t.Errorf("flow %s: the server's forwarding is not the client's leak: %d requests", f.ID, len(g))
		}
	}
	res = build(false)
	out = rsFindResource(res, "api.backend.example")
	if in := rsPassthroughInbound(res.Flows, &out.HTTP); in != nil {
		t.Errorf("sent from the client's address: got inbound #%d", in.HTTP.ID)
	}
	leaked := false
	for _, f := range res.Flows {
		leaked = leaked || len(rsTokenSentElsewhere(f, res.Flows)) > 0
	}
	if !leaked {
		t.Error("the client sending its token to another host is rsTokenSentElsewhere")
	}
	if rsTokenElsewhere(&out.HTTP, res.Flows) {
		t.Error("a token in the Authorization header is not elsewhere")
	}
}

// TestHelpersOnZeroViews: every helper copes with empty views and flows
// (messages missing from a capture are zero views in rules).
func TestRSHelpersOnZeroViews(t *testing.T) {
	z := &analyze.HTTP{}
	fl := &analyze.Flow{}
	fs := []*analyze.Flow{fl}
	_ = rsIssuedAccessTokens(nil)
	_ = rsMCPRequests(fl)
	_ = rsPresentedToken(z)
	_ = rsTokenPlaces(z, nil)
	_ = rsQueryTokenParams(z, nil)
	_ = rsSessionTokenRequest(fs, z)
	_ = rsUnauthenticatedChallenge(fs, z)
	_ = rsTokenIntendedResources(fl)
	_ = rsTokenSentElsewhere(fl, fs)
	_ = rsResponseUnix(z)
	_ = rsPassthroughInbound(fs, z)
	_ = rsBearerSyntaxProblem(z, nil)
	_ = rsAuthFailureSignal(z)
	_ = rsSameCall(z, z)
	_ = rsRPCFailed(z)
	_ = rsDPoPProblems(z, "")
	_ = rsDPoPJKT(z)
	_ = rsDPoPRequests(fl)
	_ = rsDPoPExpectedNonce(fs, z)
	_ = rsDPoPJTIFirstUse(fs, z)
	_ = rsDPoPReplayProblem(fs, z)
	_ = rsPRMFetchesAfter(fs, &analyze.Challenge{})
	_ = rsNewerPRM(fs, &analyze.PRM{}, 0)
	_ = rsASMOrderProblem(fs, &analyze.ASMetadata{})
	_ = rsBaseURL0326Problem(fl, fs)
	_ = rsStepUpProblem(fs, fl, &analyze.Challenge{})
	_, _ = rsSSRF(fl, fs)
	_ = rsServerIP(z)
	_ = rsTokenElsewhere(z, fs)
}

// TestIndexFollowsTheRun: the capture-wide index is rebuilt for another
// analysis (its flows slice), never served stale.
func TestRSIndexFollowsTheRun(t *testing.T) {
	a := &analyze.Flow{ID: "F1", Resources: []*analyze.Resource{rsResourceView(1, "tokA", "", "x", 0)}}
	b := &analyze.Flow{ID: "F1", Resources: []*analyze.Resource{rsResourceView(1, "tokB", "", "x", 0), rsResourceView(2, "tokC", "", "x", 0)}}
	if got := len(rsIndexOf([]*analyze.Flow{a}).resources); got != 1 {
		t.Fatalf("first run: %d resources", got)
	}
	if got := len(rsIndexOf([]*analyze.Flow{b}).resources); got != 2 {
		t.Fatalf("second run: %d resources, want 2", got)
	}
}
