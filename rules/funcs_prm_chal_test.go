package rules

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
)

func TestResourceIDProblem(t *testing.T) {
	for _, c := range []struct {
		in, want string // want: "" = valid, else a substring of the reason
	}{
		{"https://mcp.example.com/mcp", ""},
		{"https://mcp.example.com", ""},
		{"https://mcp.example.com/", ""},
		{"http://localhost:3000/mcp", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://mcp.example.com/mcp", "http on a non-loopback host"},
		{"urn:valid:urn:identifier", "URN"},
		{"URN:x:y", "URN"},
		{"mcp.example.com/mcp", "no scheme"},
		{"/mcp", "no scheme"},
		{"https://mcp.example.com/mcp#frag", "fragment"},
		{"https://mcp.example.com/mcp#", "fragment"},
		{"https://mcp.example.com/mcp?tenant=a", "query"},
		{"https:///mcp", "no host"},
		{"ftp://mcp.example.com", "ftp scheme"},
		{"", "empty"},
		{"https://exa mple.com/%zz", "not a URL"},
	} {
		got := pcResourceIDProblem(c.in)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("resource_id_problem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMetadataURLProblem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://mcp.example.com/.well-known/oauth-protected-resource/mcp", ""},
		{"https://mcp.example.com/custom/metadata.json?x=1", ""},
		{"http://localhost:46553/.well-known/oauth-protected-resource/mcp", ""},
		{"/.well-known/oauth-protected-resource", "relative reference"},
		{"//mcp.example.com/.well-known/oauth-protected-resource", "scheme-relative"},
		{"example.com/api/mcp/.well-known/oauth-protected-resource", "no scheme"},
		{"example.com:443/x", "no http(s) scheme"},
		{"http://mcp.example.com/.well-known/oauth-protected-resource", "http on a non-loopback"},
		{"https://mcp.example.com/prm#x", "fragment"},
		{"", "empty"},
	} {
		got := pcMetadataURLProblem(c.in)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("metadata_url_problem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWellKnownForm(t *testing.T) {
	const s = "/.well-known/oauth-protected-resource"
	for _, c := range []struct{ in, want string }{
		{"https://h/.well-known/oauth-protected-resource/mcp", "insert"},
		{"https://h/.well-known/oauth-protected-resource", "root"},
		{"https://h/.well-known/oauth-protected-resource/", "root"},
		{"https://h/mcp/.well-known/oauth-protected-resource", "append"},
		{"https://h/mcp/.well-known/oauth-protected-resource?x=1", "append"},
		{"example.com/api/mcp/.well-known/oauth-protected-resource", "append"},
		{"/api/mcp/.well-known/oauth-protected-resource", "append"},
		{"/.well-known/oauth-protected-resource/mcp", "insert"},
		{"https://h/custom/metadata/location.json", ""},
		{"https://h/.well-known/oauth-protected-resource-v2", ""},
		{"", ""},
	} {
		if got := pcWellKnownForm(c.in, s); got != c.want {
			t.Errorf("well_known_form(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestZeroMembers(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"resource":"https://h","authorization_servers":[],"scopes_supported":[],
		"bearer_methods_supported":[],"jwks_uri":"","resource_signing_alg_values_supported":["RS256"]}`), &doc); err != nil {
		t.Fatal(err)
	}
	got := ZeroMembers(doc)
	if want := []string{"authorization_servers", "jwks_uri", "scopes_supported"}; !reflect.DeepEqual(got, want) {
		t.Errorf("zero_members = %v, want %v", got, want)
	}
	if got := ZeroMembers(map[string]any{"a": []any{"x"}}); len(got) != 0 {
		t.Errorf("non-empty array reported: %v", got)
	}
}

func TestScopeClassifiers(t *testing.T) {
	got := pcBroadScopes([]string{"mcp:read", "mcp:*", "all", "Admin", "mcp:admin", "api.full_access", "files/read", "read:all", "administer-docs", "*"})
	want := []string{"mcp:*", "all", "Admin", "mcp:admin", "api.full_access", "read:all", "*"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("broad_scopes = %v, want %v", got, want)
	}
	if got := pcBroadScopes([]string{"mcp:read", "mcp:write", "offline_access"}); len(got) != 0 {
		t.Errorf("broad_scopes flagged ordinary scopes: %v", got)
	}
	got = pcIdentityScopes([]string{"openid", "email", "mcp:read", "groups", "offline_access", "Email"})
	if want := []string{"openid", "email", "groups"}; !reflect.DeepEqual(got, want) {
		t.Errorf("identity_scopes = %v, want %v", got, want)
	}
}

func TestOAuthCharsetProblem(t *testing.T) {
	for _, c := range []struct{ kind, in, want string }{
		{"error", "invalid_token", ""},
		{"error", "The access token expired", ""},
		{"error", "Le jeton a expiré", "U+00E9"},
		{"error", `say "hi"`, "double quote"},
		{"error", `a\b`, "backslash"},
		{"error", "line\nbreak", "control"},
		{"uri", "https://example.com/errors#x", ""},
		{"uri", "https://example.com/a b", "space"},
		{"scope", "mcp:read mcp:write", ""},
		{"scope", `mcp:"read"`, "double quote"},
		{"scope", "lire:écrire", "not ASCII"},
	} {
		got, err := pcOAuthCharsetProblem(c.kind, c.in)
		if err != nil {
			t.Fatal(err)
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("oauth_charset_problem(%s, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
	if _, err := pcOAuthCharsetProblem("state", "x"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestJSONRPCErrorProblem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized"},"id":null}`, ""},
		{`{"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{}},"id":7}`, ""},
		{`{"jsonrpc":"2.0","error":{"code":10,"message":"Unauthorized","id":null}}`, `inside "error"`},
		{`{"jsonrpc":"2.0","error":{"code":10,"message":"Unauthorized"}}`, `no top-level "id"`},
		{`{"jsonrpc":"2.0","error":{"code":"401","message":"Unauthorized"},"id":null}`, "integer"},
		{`{"jsonrpc":"2.0","error":{"code":1.5,"message":"x"},"id":1}`, "integer"},
		{`{"jsonrpc":"2.0","error":"Unauthorized","id":null}`, "not an object"},
		{`{"jsonrpc":"1.0","error":{"code":1,"message":"x"},"id":1}`, `"2.0"`},
		{`{"jsonrpc":"2.0","result":{},"error":{"code":1,"message":"x"},"id":1}`, "both"},
		{`{"jsonrpc":"2.0","error":{"code":1},"id":{}}`, "neither"},
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(c.in), &m); err != nil {
			t.Fatal(err)
		}
		got := pcJSONRPCErrorProblem(m)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("jsonrpc_error_problem(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMCPCall(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_note","arguments":{"id":"1"}}}`, "tools/call delete_note"},
		{`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"notes://1"}}`, "resources/read notes://1"},
		{`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, "tools/list"},
		{`{"grant_type":"x"}`, ""},
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(c.in), &m)
		if got := pcMCPCall(m); got != c.want {
			t.Errorf("mcp_call(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAuthAndScopeText(t *testing.T) {
	for s, want := range map[string]bool{
		"Unauthorized":                           true,
		"Missing Authorization header":           true,
		"invalid_token":                          true,
		"mwoauth-invalid-authorization":          true,
		"No access token provided":               true,
		"Authentication required":                true,
		"Bad Request: No valid session ID":       false,
		"Invalid params: query must be a string": false,
		"the tokenizer failed":                   false,
	} {
		if got := pcAuthFailureText(s) != ""; got != want {
			t.Errorf("auth_failure_text(%q) matched=%v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{
		"insufficient_scope":                       true,
		"Insufficient scope for this operation":    true,
		"This tool requires the notes:write scope": true,
		"scope files:write is required":            true,
		"invalid_scope":                            true,
		"Invalid params":                           false,
		"unknown tool":                             false,
	} {
		if got := pcScopeProblemText(s) != ""; got != want {
			t.Errorf("scope_problem_text(%q) matched=%v, want %v", s, got, want)
		}
	}
}

func TestRPCAuthFailure(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"Unauthorized: missing bearer token"}}`, "Unauthorized: missing bearer token"},
		{"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Error: mwoauth-invalid-authorization\"}],\"isError\":true}}\n\n", "Error: mwoauth-invalid-authorization"},
		{"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[]}}\n\n", ""},
		{`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params"}}`, ""},
		{`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Upstream said: Unauthorized"}],"isError":false}}`, ""},
		{`[{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"x","data":{"reason":"token expired"}}}]`, "x"},
		{`<html>Unauthorized</html>`, ""},
	} {
		if got := pcRPCAuthFailure(c.body); got != c.want {
			t.Errorf("rpc_auth_failure(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func jwtWithExp(exp int64) string {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	b, _ := json.Marshal(map[string]any{"sub": "u", "exp": exp})
	return enc(`{"alg":"RS256","typ":"at+jwt"}`) + "." + enc(string(b)) + ".c2ln"
}

func TestPresentedTokenExpiredFor(t *testing.T) {
	date := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	h := func(tok, dateHdr string, timeMS int64) *analyze.HTTP {
		x := &analyze.HTTP{RequestHeaders: map[string][]string{}, ResponseHeaders: map[string][]string{}, TimeMS: timeMS}
		if tok != "" {
			x.RequestHeaders["authorization"] = []string{"Bearer " + tok}
		}
		if dateHdr != "" {
			x.ResponseHeaders["date"] = []string{dateHdr}
		}
		return x
	}
	rfc1123 := date.Format(http.TimeFormat)
	if got := pcPresentedTokenExpiredFor(h(jwtWithExp(date.Unix()-3600), rfc1123, 0)); got != 3600 {
		t.Errorf("expired an hour before Date: got %d", got)
	}
	if got := pcPresentedTokenExpiredFor(h(jwtWithExp(date.Unix()+60), rfc1123, 0)); got != 0 {
		t.Errorf("valid token reported expired by %d", got)
	}
	if got := pcPresentedTokenExpiredFor(h(jwtWithExp(date.Unix()-10), "", date.UnixMilli())); got != 10 {
		t.Errorf("fallback to request time: got %d", got)
	}
	if got := pcPresentedTokenExpiredFor(h("opaque-token", rfc1123, 0)); got != 0 {
		t.Errorf("opaque token: got %d", got)
	}
	if got := pcPresentedTokenExpiredFor(h("", rfc1123, 0)); got != 0 {
		t.Errorf("no token: got %d", got)
	}
	if got := pcPresentedTokenExpiredFor(h(jwtWithExp(date.Unix()-10), "garbage", 0)); got != 0 {
		t.Errorf("unknown time: got %d", got)
	}
}

func TestLoginRedirect(t *testing.T) {
	mk := func(status int, u, loc string) *analyze.HTTP {
		return &analyze.HTTP{Status: status, URL: u, ResponseHeaders: map[string][]string{"location": {loc}}}
	}
	for _, c := range []struct {
		h    *analyze.HTTP
		want string
	}{
		{mk(302, "https://mcp.example.com/mcp", "/login?next=/mcp"), "https://mcp.example.com/login?next=/mcp"},
		{mk(307, "https://mcp.example.com/mcp", "https://accounts.example.com/signin"), "https://accounts.example.com/signin"},
		{mk(307, "https://mcp.example.com/mcp", "/mcp/"), ""},
		{mk(301, "http://mcp.example.com/mcp", "https://mcp.example.com/mcp"), ""},
		{mk(200, "https://mcp.example.com/mcp", "/login"), ""},
		{&analyze.HTTP{Status: 302, URL: "https://mcp.example.com/mcp"}, ""},
	} {
		if got := pcLoginRedirect(c.h); got != c.want {
			t.Errorf("login_redirect(%d %s → %v) = %q, want %q", c.h.Status, c.h.URL, c.h.ResponseHeaders["location"], got, c.want)
		}
	}
}

func TestPRMResourceMismatchAndUse(t *testing.T) {
	prm := func(id int, via, expected, resource string, as ...string) *analyze.PRM {
		return &analyze.PRM{HTTP: analyze.HTTP{ID: id, URL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
			Via: via, ExpectedResource: expected, OK: true, HasResource: true, Resource: resource, AuthorizationServers: as}
	}
	bad := prm(2, "header", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp/", "https://auth.example.com")
	good := prm(2, "header", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp", "https://auth.example.com")
	root := prm(2, "well-known-root", "https://mcp.example.com", "https://mcp.example.com/", "https://auth.example.com")
	if !pcPRMResourceMismatch(bad) || pcPRMResourceMismatch(good) || pcPRMResourceMismatch(root) {
		t.Fatalf("mismatch: bad=%v good=%v root=%v", pcPRMResourceMismatch(bad), pcPRMResourceMismatch(good), pcPRMResourceMismatch(root))
	}
	asm := &analyze.ASMetadata{HTTP: analyze.HTTP{ID: 3, URL: "https://auth.example.com/.well-known/oauth-authorization-server"}, IssuerFromPRM: "https://auth.example.com"}
	az := &analyze.Authorize{HTTP: analyze.HTTP{ID: 5, URL: "https://auth.example.com/authorize?x", Endpoint: "https://auth.example.com/authorize", Origin: "https://auth.example.com"}}
	f := &analyze.Flow{PRMs: []*analyze.PRM{bad}, ASMetadatas: []*analyze.ASMetadata{asm}, Authorize: az}
	if u := pcPRMASUse(f, bad); u["id"] != int64(3) || u["kind"] != "as_metadata" || u["proceeded"] != int64(5) {
		t.Errorf("use after mismatched PRM = %v, want the metadata fetch 3, proceeding at 5", u)
	}
	fm := &analyze.Flow{PRMs: []*analyze.PRM{bad}, ASMetadatas: []*analyze.ASMetadata{asm}}
	if u := pcPRMASUse(fm, bad); u["id"] != int64(3) || u["proceeded"] != int64(0) {
		t.Errorf("metadata-only use = %v, want id 3 and proceeded 0", u)
	}
	f2 := &analyze.Flow{PRMs: []*analyze.PRM{bad}, Authorize: az}
	if u := pcPRMASUse(f2, bad); u["id"] != int64(5) || u["kind"] != "authorize" {
		t.Errorf("use = %v, want the authorization request 5", u)
	}
	// A valid PRM listing the same AS explains the use.
	good.HTTP.ID = 1
	f3 := &analyze.Flow{PRMs: []*analyze.PRM{good, bad}, ASMetadatas: []*analyze.ASMetadata{asm}, Authorize: az}
	if u := pcPRMASUse(f3, bad); u["id"] != int64(0) {
		t.Errorf("use explained by a valid PRM still attributed: %v", u)
	}
	// The AS was contacted before the PRM arrived: configured, not discovered.
	early := &analyze.ASMetadata{HTTP: analyze.HTTP{ID: 1, URL: "https://auth.example.com/.well-known/oauth-authorization-server"}}
	f4 := &analyze.Flow{PRMs: []*analyze.PRM{bad}, ASMetadatas: []*analyze.ASMetadata{early, asm}, Authorize: az}
	if u := pcPRMASUse(f4, bad); u["id"] != int64(0) {
		t.Errorf("pre-configured AS attributed to the PRM: %v", u)
	}
	if u := pcPRMASUse(&analyze.Flow{PRMs: []*analyze.PRM{bad}}, bad); u["id"] != int64(0) {
		t.Errorf("no use: %v", u)
	}
}

// TestPRMChalFunctionsInCEL calls every function through the rule
// environment, so a registration mistake (name, overload, types) fails here.
func TestPRMChalFunctionsInCEL(t *testing.T) {
	env, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	p := &analyze.PRM{HTTP: analyze.HTTP{ID: 2}, OK: true, HasResource: true, Resource: "https://h/mcp/", ExpectedResource: "https://h/mcp", Via: "header",
		Doc: map[string]any{"scopes_supported": []any{}}}
	f := &analyze.Flow{PRMs: []*analyze.PRM{p}}
	c := &analyze.Challenge{HTTP: analyze.HTTP{Status: 302, URL: "https://h/mcp", ResponseHeaders: map[string][]string{"location": {"/login"}},
		RequestJSON: map[string]any{"jsonrpc": "2.0", "method": "tools/call", "params": map[string]any{"name": "x"}}}}
	vars := map[string]any{"prm": p, "flow": f, "challenge": c}
	for src, want := range map[string]any{
		`resource_id_problem('urn:x:y') != ''`: true,
		`metadata_url_problem('/x') != ''`:     true,
		`well_known_form('https://h/mcp/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource')`: "append",
		`zero_members(prm.doc)`:                     []string{"scopes_supported"},
		`zero_members({'a': []})`:                   []string{"a"},
		`broad_scopes(['mcp:*', 'mcp:read'])`:       []string{"mcp:*"},
		`identity_scopes(['email', 'mcp:read'])`:    []string{"email"},
		`oauth_charset_problem('error', 'é') != ''`: true,
		`jsonrpc_error_problem({'jsonrpc': '2.0', 'error': {'code': 1, 'message': 'x'}, 'id': null})`: "",
		`mcp_call(challenge.http.request_json)`:                                                       "tools/call x",
		`auth_failure_text('Unauthorized')`:                                                           "Unauthorized",
		`scope_problem_text('insufficient_scope')`:                                                    "insufficient_scope",
		`rpc_auth_failure('{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"Unauthorized"}}')`:    "Unauthorized",
		`presented_token_expired_for(challenge.http)`:                                                 int64(0),
		`login_redirect(challenge.http)`:                                                              "https://h/login",
		`prm_resource_mismatch(prm)`:                                                                  true,
		`prm_as_use(flow, prm).id`:                                                                    int64(0),
	} {
		out, ok := evalExpr(t, env, vars, src)
		if !ok {
			continue
		}
		got := out.Value()
		if l, ok := want.([]string); ok {
			n, err := out.ConvertToNative(reflect.TypeFor[[]string]())
			if err != nil || !reflect.DeepEqual(n, l) {
				t.Errorf("%s = %v, want %v", src, n, l)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", src, got, want)
		}
	}
	if _, iss := env.Compile(`oauth_charset_problem('nope', 'x')`); iss.Err() != nil {
		t.Fatal(iss.Err())
	}
}

func TestCORSProblem(t *testing.T) {
	mk := func(origin string, resp map[string][]string) *analyze.HTTP {
		h := &analyze.HTTP{Origin: "https://mcp.example.com", HasResponse: true, RequestHeaders: map[string][]string{}, ResponseHeaders: resp}
		if origin != "" {
			h.RequestHeaders["origin"] = []string{origin}
		}
		return h
	}
	for _, c := range []struct {
		h      *analyze.HTTP
		expose bool
		want   string
	}{
		{mk("", nil), true, ""},
		{mk("https://mcp.example.com", nil), true, ""},
		{mk("https://app.example.com", nil), false, "no Access-Control-Allow-Origin for https://app.example.com"},
		{mk("https://app.example.com", map[string][]string{"access-control-allow-origin": {"https://other.example.com"}}), false, "no Access-Control-Allow-Origin"},
		{mk("https://app.example.com", map[string][]string{"access-control-allow-origin": {"*"}}), false, ""},
		{mk("https://app.example.com", map[string][]string{"access-control-allow-origin": {"https://app.example.com"}}), true, "WWW-Authenticate is not in Access-Control-Expose-Headers"},
		{mk("https://app.example.com", map[string][]string{"access-control-allow-origin": {"*"}, "access-control-expose-headers": {"Mcp-Session-Id, www-authenticate"}}), true, ""},
	} {
		got := pcCORSProblem(c.h, c.expose)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("cors_problem(%v, %v) = %q, want %q", c.h.RequestHeaders, c.h.ResponseHeaders, got, c.want)
		}
	}
}

func TestOAuthErrorShapeProblem(t *testing.T) {
	mk := func(status int, mt, body string, gaps ...string) *analyze.HTTP {
		h := &analyze.HTTP{HasResponse: true, Status: status, ResponseMediaType: mt, ResponseBody: body, Gaps: gaps}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) == nil && m != nil {
			h.ResponseJSON, h.ResponseJSONValid = m, true
		}
		return h
	}
	for _, c := range []struct {
		h    *analyze.HTTP
		want string
	}{
		{mk(400, "application/json", `{"error":"invalid_grant","error_description":"expired"}`), ""},
		{mk(401, "application/json", `{"error":"invalid_client"}`), ""},
		{mk(400, "text/html", `<html><body>Bad Request</body></html>`), "text/html content"},
		{mk(400, "text/plain", ``), "empty body"},
		{mk(400, "application/json", `{"jsonrpc":"2.0","error":{"code":-32600,"message":"x"},"id":null}`), "JSON-RPC"},
		{mk(400, "application/json", `{"message":"bad grant"}`), `without an "error"`},
		{mk(400, "application/json", `{"error":""}`), "empty"},
		{mk(400, "application/json", `{"error":400}`), "not a string"},
		{mk(404, "text/plain", `Not Found`), ""},
		{mk(429, "text/plain", `slow down`), ""},
		{mk(500, "text/html", `<html>`), ""},
		{mk(200, "text/html", `<html>`), ""},
		{mk(400, "text/html", `<html`, "response-body"), ""},
	} {
		got := pcOAuthErrorShapeProblem(c.h)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("oauth_error_shape_problem(%d %s %q) = %q, want %q", c.h.Status, c.h.ResponseMediaType, c.h.ResponseBody, got, c.want)
		}
	}
	if got := pcErrorFieldsCharsetProblem(map[string]any{"error": "invalid_scope", "error_description": "portée inconnue"}); !strings.Contains(got, "error_description") {
		t.Errorf("charset problem not found: %q", got)
	}
	if got := pcErrorFieldsCharsetProblem(map[string]any{"error": "invalid_scope", "error_uri": "https://e.example/x"}); got != "" {
		t.Errorf("clean error reported: %q", got)
	}
}

func TestStatedErrorCode(t *testing.T) {
	for _, c := range []struct {
		hdr  []string
		body map[string]any
		want string
	}{
		{[]string{`Bearer error="insufficient_scope", scope="a b"`}, map[string]any{"error": "invalid_token"}, "insufficient_scope"},
		{[]string{`DPoP algs="ES256", error="invalid_token"`}, nil, "invalid_token"},
		{[]string{`Bearer realm="x"`}, map[string]any{"error": "invalid_token"}, "invalid_token"},
		{nil, map[string]any{"error": map[string]any{"code": 1}}, ""},
		{nil, nil, ""},
	} {
		h := &analyze.HTTP{ResponseHeaders: map[string][]string{}, ResponseJSON: c.body}
		if c.hdr != nil {
			h.ResponseHeaders["www-authenticate"] = c.hdr
		}
		if got := pcStatedErrorCode(h); got != c.want {
			t.Errorf("stated_error_code(%v, %v) = %q, want %q", c.hdr, c.body, got, c.want)
		}
	}
	if pcStatusForError("invalid_token") != 401 || pcStatusForError("insufficient_scope") != 403 || pcStatusForError("invalid_request") != 400 || pcStatusForError("invalid_grant") != 0 {
		t.Error("status_for_error mapping")
	}
}

func TestUnauthRefusal(t *testing.T) {
	const ep = "https://mcp.example.com/mcp"
	res := func(id, status int, token bool, body string, hdr map[string][]string) *analyze.Resource {
		r := &analyze.Resource{HTTP: analyze.HTTP{ID: id, Method: "POST", URL: ep, Endpoint: ep, HasResponse: true, Status: status,
			ResponseBody: body, ResponseHeaders: hdr, RequestJSON: map[string]any{"jsonrpc": "2.0", "method": "tools/list"}}, HasToken: token}
		return r
	}
	chal401 := &analyze.Challenge{HTTP: analyze.HTTP{ID: 1, Endpoint: ep}, Status: 401}
	okWithToken := res(9, 200, true, `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`, nil)
	for _, c := range []struct {
		name string
		r    *analyze.Resource
		f    *analyze.Flow
		want string // substring; "" = not a refusal
	}{
		{"login redirect", res(5, 302, false, "", map[string][]string{"location": {"/login"}}), &analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, "redirected (302) to https://mcp.example.com/login"},
		{"403 with text", res(5, 403, false, `{"message":"Unauthorized"}`, nil), &analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, `answered 403 ("Unauthorized")`},
		{"500 fixed by a token", res(5, 500, false, `Internal Server Error`, nil), &analyze.Flow{Resources: []*analyze.Resource{okWithToken}}, "succeeded once a token was sent"},
		{"400 without auth text", res(5, 400, false, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}`, nil), &analyze.Flow{Resources: []*analyze.Resource{okWithToken}}, ""},
		{"200 rpc error", res(5, 200, false, `{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Authentication required"}}`, nil), &analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, "answered 200 with the error"},
		{"public 200", res(5, 200, false, `{"jsonrpc":"2.0","id":1,"result":{}}`, nil), &analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, ""},
		{"endpoint not shown protected", res(5, 403, false, `Unauthorized`, nil), &analyze.Flow{}, ""},
		{"had a token", res(5, 403, true, `Unauthorized`, nil), &analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, ""},
	} {
		got := pcUnauthRefusal(c.f, c.r)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: unauth_refusal = %q, want %q", c.name, got, c.want)
		}
	}
	s := res(5, 403, false, `Unauthorized`, nil)
	s.HTTP.Sanitized = true
	if got := pcUnauthRefusal(&analyze.Flow{Challenges: []*analyze.Challenge{chal401}}, s); got != "" {
		t.Errorf("sanitized request judged: %q", got)
	}
}
