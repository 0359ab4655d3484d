package rules

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
)

func TestURLScheme(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/cb":            "https",
		"HTTP://a.example":                "http",
		"javascript:alert(1)":             "javascript",
		"java\tscript:alert(1)":           "javascript", // browsers drop tabs
		"  \x01JavaScript:alert(1)":       "javascript", // and leading controls
		"java\nscript:alert(1)":           "javascript",
		"vscode://acme.ext/cb":            "vscode",
		"com.example.app:/oauth2redirect": "com.example.app",
		"/relative/path":                  "",
		"no-scheme.example/cb":            "",
		"1http://x":                       "",
		"":                                "",
		":":                               "",
	} {
		if got := URLScheme(in); got != want {
			t.Errorf("URLScheme(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://LocalHost:33418/cb": "localhost",
		"http://[::1]:33418/cb":     "::1",
		"https://a.example":         "a.example",
		"/cb":                       "",
		"%zz":                       "",
	} {
		if got := URLHost(in); got != want {
			t.Errorf("URLHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCIMDURLProblems(t *testing.T) {
	cases := []struct {
		in   string
		want []string // substrings, one per problem
	}{
		{"https://app.example/oauth/client.json", nil},
		{"https://app.example:8443/client", nil},
		{"https://app.example/", nil}, // "/" is a path (NOT RECOMMENDED, not forbidden)
		{"https://app.example", []string{"no path"}},
		{"http://app.example/client.json", []string{`"http" scheme`}},
		{"https://user:pw@app.example/c", []string{"userinfo"}},
		{"https://app.example/a/../c", []string{`".."`}},
		{"https://app.example/a/%2E/c", []string{`".."`}},
		{"https://app.example/c#frag", []string{"fragment"}},
		{"https://app.example/c?v=2", []string{"has a query"}},
		{"https://app.example/c?", []string{"has a query"}},
		{"https://app.example/c\x7f", []string{"not a valid URL"}},
	}
	for _, c := range cases {
		got := CIMDURLProblems(c.in)
		if len(got) != len(c.want) {
			t.Errorf("CIMDURLProblems(%q) = %q, want %d problem(s) %q", c.in, got, len(c.want), c.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("CIMDURLProblems(%q)[%d] = %q, want it to mention %q", c.in, i, got[i], c.want[i])
			}
		}
	}
}

func TestWebURLProblem(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string // substring; "" means no problem
	}{
		{"https://acme.dev/logo.png?v=2", ""},
		{"http://acme.dev", ""},
		{"", "empty"},
		{"javascript:alert(1)", "javascript:"},
		{" data:text/html,x", "data:"},
		{"logo.png", "not an absolute URL"},
		{"ftp://acme.dev/x", "ftp:"},
		{"https://", "not a valid absolute URL"},
		{42.0, "a number"},
		{nil, "null"},
		{[]any{"https://x"}, "an array"},
	} {
		got := WebURLProblem(c.in)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("WebURLProblem(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestZeroMembersAndInsecureEndpoints(t *testing.T) {
	doc := map[string]any{
		"issuer":                     "https://as.example",
		"scopes_supported":           []any{},
		"service_documentation":      "",
		"claims_parameter_supported": false,
		"mtls_endpoint_aliases":      map[string]any{},
		"token_endpoint":             "http://as.example/token",
		"authorization_endpoint":     "https://as.example/authorize",
		"revocation_endpoint":        "http://127.0.0.1:8080/revoke",
		"jwks_uri":                   "http://as.example/jwks",
		"userinfo_endpoint":          "",
		"registration_endpoint":      42.0,
	}
	if got, want := ZeroMembers(doc), []string{"scopes_supported", "service_documentation", "userinfo_endpoint"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ZeroMembers = %q, want %q", got, want)
	}
	if got, want := InsecureEndpoints(doc), []string{"jwks_uri http://as.example/jwks", "token_endpoint http://as.example/token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("InsecureEndpoints = %q, want %q", got, want)
	}
	if got := ZeroMembers(nil); got == nil || len(got) != 0 {
		t.Errorf("ZeroMembers(nil) = %#v, want an empty list", got)
	}
}

func TestDocStrings(t *testing.T) {
	doc := map[string]any{"s": "code", "l": []any{"a", 1.0, "b"}, "n": 3.0}
	for k, want := range map[string][]string{"s": {"code"}, "l": {"a", "b"}, "n": {}, "absent": {}} {
		if got := DocStrings(doc, k); !reflect.DeepEqual(got, want) {
			t.Errorf("DocStrings(%q) = %#v, want %#v", k, got, want)
		}
	}
}

func jwsOf(header, claims, sig string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(header)) + "." + e([]byte(claims)) + "." + sig
}

func TestJWSProblemAndAlg(t *testing.T) {
	good := jwsOf(`{"alg":"RS256"}`, `{"iss":"https://as.example"}`, "c2ln")
	for _, c := range []struct {
		in      any
		want    string
		wantAlg string
	}{
		{good, "", "RS256"},
		{jwsOf(`{"alg":"none"}`, `{"iss":"x"}`, ""), "unsigned", "none"},
		{jwsOf(`{"alg":"HS256"}`, `{"iss":"x"}`, ""), "unsigned", "HS256"},
		{jwsOf(`{"typ":"JWT"}`, `{"iss":"x"}`, "c2ln"), "no alg", ""},
		{jwsOf(`{"alg":"ES256"}`, `{"sub":"x"}`, "c2ln"), "no iss", "ES256"},
		{"a.b", "2 dot-separated parts", ""},
		{"!!.e30.c2ln", "header that is not", ""},
		{jwsOf(`{"alg":"ES256"}`, `[1]`, "c2ln"), "payload that is not", "ES256"},
		{map[string]any{"issuer": "x"}, "an object", ""},
	} {
		if got := JWSProblem(c.in); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("JWSProblem(%v) = %q, want %q", c.in, got, c.want)
		}
		if got := JWSAlg(c.in); got != c.wantAlg {
			t.Errorf("JWSAlg(%v) = %q, want %q", c.in, got, c.wantAlg)
		}
	}
}

func TestRequiredMembersMissing(t *testing.T) {
	full := map[string]any{"issuer": "https://as.example", "response_types_supported": []any{"code"},
		"authorization_endpoint": "https://as.example/a", "token_endpoint": "https://as.example/t"}
	if got := RequiredMembersMissing(full, "rfc8414"); len(got) != 0 {
		t.Errorf("complete document: missing %q", got)
	}
	noGrants := map[string]any{"issuer": "", "token_endpoint": "https://as.example/t"}
	if got, want := RequiredMembersMissing(noGrants, "rfc8414"), []string{"issuer", "response_types_supported", "authorization_endpoint"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default grants: got %q, want %q", got, want)
	}
	cc := map[string]any{"issuer": "https://as.example", "response_types_supported": []any{"none"},
		"grant_types_supported": []any{"client_credentials"}, "token_endpoint": "https://as.example/t"}
	if got := RequiredMembersMissing(cc, "rfc8414"); len(got) != 0 {
		t.Errorf("client_credentials-only server: missing %q", got)
	}
	implicit := map[string]any{"issuer": "https://as.example", "response_types_supported": []any{"token"},
		"grant_types_supported": []any{"implicit"}, "authorization_endpoint": "https://as.example/a"}
	if got := RequiredMembersMissing(implicit, "rfc8414"); len(got) != 0 {
		t.Errorf("implicit-only server needs no token endpoint: missing %q", got)
	}
	if got, want := RequiredMembersMissing(map[string]any{"jwks_uri": nil, "subject_types_supported": []any{"public"}}, "oidc"),
		[]string{"jwks_uri", "id_token_signing_alg_values_supported"}; !reflect.DeepEqual(got, want) {
		t.Errorf("oidc: got %q, want %q", got, want)
	}
}

func TestRedirectMatching(t *testing.T) {
	listed := []string{"http://127.0.0.1/oauth/callback", "http://localhost/cb", "https://app.example/cb"}
	for uri, want := range map[string]bool{
		"http://127.0.0.1:33418/oauth/callback": true, // RFC 8252 §7.3
		"http://127.0.0.1/oauth/callback":       true,
		"http://127.0.0.1:33418/oauth/other":    false,
		"http://localhost:33418/cb":             false, // the name is not covered
		"https://app.example/cb":                true,
		"https://app.example:8443/cb":           false,
		"https://app.example/cb/evil":           false,
	} {
		if got := RedirectListed(listed, uri); got != want {
			t.Errorf("RedirectListed(%q) = %v, want %v", uri, got, want)
		}
	}
	// The lenient form used for registration responses also lets a
	// localhost listener change its port.
	if !redirectRegistered(listed, "http://localhost:41000/cb") || redirectRegistered(listed, "http://localhost:41000/other") {
		t.Error("redirectRegistered: localhost port change should match, path change should not")
	}
}

// fixture views for the flow helpers.
func h(id int, method, u string, status int, tms int64) analyze.HTTP {
	origin := ""
	if i := strings.Index(u[8:], "/"); i >= 0 {
		origin = u[:8+i]
	} else {
		origin = u
	}
	ep := u
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		ep = u[:i]
	}
	return analyze.HTTP{ID: id, Method: method, URL: u, Endpoint: ep, Origin: origin, Status: status, TimeMS: tms}
}

func reg(id int, endpoint, clientID string, meta map[string]any, resp map[string]any, tms int64) *analyze.Registration {
	r := &analyze.Registration{HTTP: h(id, "POST", endpoint, 201, tms), Metadata: meta, Response: resp, ClientID: clientID, Registered: clientID != ""}
	r.RedirectURIs = DocStrings(meta, "redirect_uris")
	if s, ok := meta["token_endpoint_auth_method"].(string); ok {
		r.TokenEndpointAuthMethod = s
	}
	if s, _ := resp["client_secret"].(string); s != "" {
		r.ClientSecretIssued = true
	}
	return r
}

func TestDCRResponseMismatches(t *testing.T) {
	meta := map[string]any{"client_name": "c", "redirect_uris": []any{"http://127.0.0.1:33418/cb"}, "token_endpoint_auth_method": "none"}
	resp := map[string]any{"client_id": "abc", "redirect_uris": []any{"http://127.0.0.1:33418/cb"}, "token_endpoint_auth_method": "none"}
	base := func() *analyze.Flow {
		r := reg(3, "https://as.example/register", "abc", meta, resp, 0)
		return &analyze.Flow{ClientID: "abc", Registration: r, Registrations: []*analyze.Registration{r},
			Authorize: &analyze.Authorize{HTTP: h(4, "GET", "https://as.example/authorize", 302, 0), ClientID: "abc",
				RedirectURI: "http://127.0.0.1:33418/cb", HasRedirectURI: true},
			Tokens: []*analyze.Token{{HTTP: h(6, "POST", "https://as.example/token", 200, 0), GrantType: "authorization_code", ClientID: "abc", ClientAuth: "none"}}}
	}
	if got := DCRResponseMismatches(base()); len(got) != 0 {
		t.Fatalf("conforming flow: %q", got)
	}
	f := base()
	f.Authorize.ClientID = "mcp-client"
	if got := DCRResponseMismatches(f); len(got) != 1 || !strings.Contains(got[0], `client_id "mcp-client"`) {
		t.Errorf("hard-coded client_id: %q", got)
	}
	f = base()
	f.Authorize.ClientID = "https://app.example/client.json"
	f.ClientID = f.Authorize.ClientID
	if got := DCRResponseMismatches(f); len(got) != 0 {
		t.Errorf("a document client is not judged against an old registration: %q", got)
	}
	f = base()
	f.Authorize.RedirectURI = "http://127.0.0.1:40000/cb"
	if got := DCRResponseMismatches(f); len(got) != 0 {
		t.Errorf("loopback port change: %q", got)
	}
	f.Authorize.RedirectURI = "http://127.0.0.1:33418/other"
	if got := DCRResponseMismatches(f); len(got) != 1 || !strings.Contains(got[0], "redirect_uri") {
		t.Errorf("unregistered redirect: %q", got)
	}
	f = base()
	f.Registration.Response = map[string]any{"client_id": "abc", "token_endpoint_auth_method": "client_secret_basic", "client_secret": "s"}
	f.Tokens[0].ClientAuth = "post"
	if got := DCRResponseMismatches(f); len(got) != 1 || !strings.Contains(got[0], `returned token_endpoint_auth_method "client_secret_basic"`) {
		t.Errorf("auth method: %q", got)
	}
	// A sanitized export dropped the Basic header: nothing to compare.
	f.Tokens[0].ClientAuth = "none"
	f.Tokens[0].HTTP.Sanitized = true
	if got := DCRResponseMismatches(f); len(got) != 0 {
		t.Errorf("sanitized export: %q", got)
	}
	// Not echoed: the requested method counts, unless the metadata
	// advertises the one used.
	f = base()
	f.Registration.Metadata = map[string]any{"token_endpoint_auth_method": "client_secret_post"}
	f.Registration.TokenEndpointAuthMethod = "client_secret_post"
	f.Registration.Response = map[string]any{"client_id": "abc"}
	if got := DCRResponseMismatches(f); len(got) != 1 || !strings.Contains(got[0], "echoed no method") {
		t.Errorf("not echoed, no metadata: %q", got)
	}
	f.ASMetadata = &analyze.ASMetadata{OK: true, HasTokenEndpointAuthMethod: true, TokenEndpointAuthMethods: []string{"none"}}
	if got := DCRResponseMismatches(f); len(got) != 0 {
		t.Errorf("not echoed, client followed the metadata: %q", got)
	}
	// Token requests before the registration are not judged.
	f = base()
	f.Tokens[0].HTTP.ID = 2
	f.Tokens[0].ClientAuth = "basic"
	if got := DCRResponseMismatches(f); len(got) != 0 {
		t.Errorf("earlier token request: %q", got)
	}
}

func asm(id int, u, issuer string, doc map[string]any) *analyze.ASMetadata {
	a := &analyze.ASMetadata{HTTP: h(id, "GET", u, 200, 0), OK: true, Doc: doc, Issuer: issuer, HasIssuer: issuer != "", Form: "root",
		ExpectedIssuers: []string{issuer, issuer + "/"}}
	return a
}

func TestRegisteredAtOtherAS(t *testing.T) {
	as1 := asm(1, "https://old.example/.well-known/oauth-authorization-server", "https://old.example",
		map[string]any{"registration_endpoint": "https://old.example/register", "authorization_endpoint": "https://old.example/authorize"})
	as2 := asm(5, "https://new.example/.well-known/oauth-authorization-server", "https://new.example",
		map[string]any{"authorization_endpoint": "https://new.example/authorize", "token_endpoint": "https://new.example/token"})
	r := reg(2, "https://old.example/register", "cid", map[string]any{}, map[string]any{"client_id": "cid"}, 0)
	flows := []*analyze.Flow{{ASMetadatas: []*analyze.ASMetadata{as1}, Registrations: []*analyze.Registration{r}}, {ASMetadatas: []*analyze.ASMetadata{as2}}}
	if got := RegisteredAtOtherAS(flows, "cid", "https://new.example/authorize?x=1"); got != "https://old.example/register" {
		t.Errorf("moved AS: %q", got)
	}
	if got := RegisteredAtOtherAS(flows, "cid", "https://old.example/authorize"); got != "" {
		t.Errorf("same AS: %q", got)
	}
	if got := RegisteredAtOtherAS(flows, "other", "https://new.example/authorize"); got != "" {
		t.Errorf("unknown client_id: %q", got)
	}
	// Same origin, different tenants: the issuers decide.
	t1 := asm(1, "https://as.example/.well-known/oauth-authorization-server/t1", "https://as.example/t1",
		map[string]any{"registration_endpoint": "https://as.example/t1/register"})
	t2 := asm(5, "https://as.example/.well-known/oauth-authorization-server/t2", "https://as.example/t2",
		map[string]any{"authorization_endpoint": "https://as.example/t2/authorize"})
	rt := reg(2, "https://as.example/t1/register", "cid", map[string]any{}, map[string]any{"client_id": "cid"}, 0)
	flows = []*analyze.Flow{{ASMetadatas: []*analyze.ASMetadata{t1, t2}, Registrations: []*analyze.Registration{rt}}}
	if got := RegisteredAtOtherAS(flows, "cid", "https://as.example/t2/authorize"); got != "https://as.example/t1/register" {
		t.Errorf("other tenant: %q", got)
	}
}

func TestEarlierSameRegistrationAndAbandoned(t *testing.T) {
	meta := map[string]any{"client_name": "c", "redirect_uris": []any{"http://127.0.0.1:1/cb"}}
	r1 := reg(3, "https://as.example/register", "a", meta, map[string]any{"client_id": "a"}, 1000)
	r2 := reg(4, "https://as.example/register", "b", meta, map[string]any{"client_id": "b"}, 1700)
	flows := []*analyze.Flow{{Registrations: []*analyze.Registration{r1}}, {Registrations: []*analyze.Registration{r2}}}
	if got := EarlierSameRegistration(flows, r2); got != 3 {
		t.Errorf("duplicate registration: got %d, want 3", got)
	}
	if got := EarlierSameRegistration(flows, r1); got != 0 {
		t.Errorf("first registration: got %d", got)
	}
	// Abandoned: r1's client_id never used, the client registered again
	// 0.7 s later.
	if got := RegistrationAbandoned(flows, r1); got != 4 {
		t.Errorf("abandoned: got %d, want 4", got)
	}
	// Once r1's client was rejected, registering again is legitimate.
	rejected := &analyze.Token{HTTP: h(5, "POST", "https://as.example/token", 400, 1500), GrantType: "refresh_token", ClientID: "a",
		Response: analyze.TokenResponse{Error: "invalid_client"}}
	r3 := reg(6, "https://as.example/register", "c", meta, map[string]any{"client_id": "c"}, 1800)
	flows2 := []*analyze.Flow{{Registrations: []*analyze.Registration{r1}, Refreshes: []*analyze.Token{rejected}}, {Registrations: []*analyze.Registration{r3}}}
	if got := EarlierSameRegistration(flows2, r3); got != 0 {
		t.Errorf("after invalid_client: got %d", got)
	}
	if got := RegistrationAbandoned(flows2, r1); got != 0 {
		t.Errorf("a used client_id is not abandoned: got %d", got)
	}
	// Another redirect URI (a new listener port) is another install.
	r4 := reg(7, "https://as.example/register", "d", map[string]any{"client_name": "c", "redirect_uris": []any{"http://127.0.0.1:2/cb"}},
		map[string]any{"client_id": "d"}, 1900)
	if got := EarlierSameRegistration([]*analyze.Flow{{Registrations: []*analyze.Registration{r1, r4}}}, r4); got != 0 {
		t.Errorf("port change: got %d", got)
	}
	// Without browser traffic in the capture a restart counts only soon
	// after the registration.
	late := reg(8, "https://as.example/register", "e", meta, map[string]any{"client_id": "e"}, 1000+restartWindowMS+1)
	if got := RegistrationAbandoned([]*analyze.Flow{{Registrations: []*analyze.Registration{r1}}, {Registrations: []*analyze.Registration{late}}}, r1); got != 0 {
		t.Errorf("late restart without browser leg: got %d", got)
	}
	// A capture that just ends says nothing.
	if got := RegistrationAbandoned([]*analyze.Flow{{Registrations: []*analyze.Registration{r1}}}, r1); got != 0 {
		t.Errorf("capture ends: got %d", got)
	}
}

func TestMismatchedMetadataUse(t *testing.T) {
	bad := asm(2, "https://as.example/.well-known/oauth-authorization-server", "https://as.example/oauth",
		map[string]any{"authorization_endpoint": "https://as.example/oauth/authorize", "token_endpoint": "https://as.example/oauth/token"})
	bad.ExpectedIssuers = []string{"https://as.example", "https://as.example/"}
	f := &analyze.Flow{ASMetadatas: []*analyze.ASMetadata{bad},
		Authorize: &analyze.Authorize{HTTP: h(4, "GET", "https://as.example/oauth/authorize?x=1", 302, 0)},
		Tokens:    []*analyze.Token{{HTTP: h(6, "POST", "https://as.example/oauth/token", 200, 0)}}}
	got := MismatchedMetadataUse(f, bad)
	if len(got) != 2 || !strings.HasPrefix(got[0], "authorization_endpoint") || !strings.HasPrefix(got[1], "token_endpoint") {
		t.Errorf("used endpoints: %q", got)
	}
	// A validated document naming the same endpoints covers them.
	good := asm(3, "https://as.example/.well-known/oauth-authorization-server/oauth", "https://as.example/oauth",
		map[string]any{"authorization_endpoint": "https://as.example/oauth/authorize", "token_endpoint": "https://as.example/oauth/token"})
	good.ExpectedIssuers = []string{"https://as.example/oauth"}
	f.ASMetadatas = append(f.ASMetadatas, good)
	if got := MismatchedMetadataUse(f, bad); len(got) != 0 {
		t.Errorf("validated alternative: %q", got)
	}
	if got := MismatchedMetadataUse(f, good); len(got) != 0 {
		t.Errorf("valid document: %q", got)
	}
}

// The functions are reachable from rules with the documented signatures.
func TestASMDCRFunctionsInCEL(t *testing.T) {
	env, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`url_scheme(' JavaScript:x') == 'javascript'`,
		`url_host('http://[::1]:8/x') == '::1'`,
		`is_absolute_uri('vscode://x/cb') && !is_absolute_uri('/cb')`,
		`cimd_url_problems('https://a.example/c.json') == []`,
		`web_url_problem(dyn(3)) != '' && web_url_problem('https://a.example') == ''`,
		`zero_members({'a': [], 'b': 'x'}) == ['a']`,
		`insecure_endpoints({'token_endpoint': 'http://a.example/t'}) == ['token_endpoint http://a.example/t']`,
		`doc_strings({'r': ['a', 1]}, 'r') == ['a']`,
		`jws_problem(dyn(1)) != '' && jws_alg('x') == ''`,
		`required_members_missing({}, 'oidc').size() == 3`,
		`redirect_listed(['http://127.0.0.1/cb'], 'http://127.0.0.1:9/cb')`,
		`dcr_response_mismatches(flow) == [] && mismatched_metadata_use(flow, as_metadata) == []`,
		`registered_at_other_as(flows, 'x', 'https://a.example/authorize') == ''`,
		`earlier_same_registration(flows, registration) == 0 && registration_abandoned(flows, registration) == 0`,
	} {
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Errorf("%s: %v", src, iss.Err())
			continue
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		f := &analyze.Flow{}
		vars := baseVars(f)
		vars[VarFlows] = []*analyze.Flow{f}
		out, _, err := prg.Eval(vars)
		if err != nil || out.Value() != true {
			t.Errorf("%s = %v (%v), want true", src, out, err)
		}
	}
}
