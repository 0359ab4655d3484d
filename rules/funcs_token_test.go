package rules

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
)

func TestTokBasicCredentials(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		header string
		want   []string
	}{
		{enc("client:s3cret"), []string{"client", "s3cret"}},
		// Only the first colon separates: a raw secret may hold more.
		{enc("client:a:b"), []string{"client", "a:b"}},
		// URL-encoded parts stay encoded: the rule compares raw bytes.
		{enc("https%3A%2F%2Fapp.example%2Fc:x%2By"), []string{"https%3A%2F%2Fapp.example%2Fc", "x%2By"}},
		{"basic " + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("c:pw")), "="), []string{"c", "pw"}},
		{"Bearer abc", nil},
		{enc("no-colon"), nil},
		{"Basic !!!", nil},
		{"", nil},
	} {
		tok := &analyze.Token{}
		if c.header != "" {
			tok.HTTP.RequestHeaders = map[string][]string{"authorization": {c.header}}
		}
		got := tokBasicCredentials(tok)
		if strings.Join(got, "|") != strings.Join(c.want, "|") || (got == nil) != (c.want == nil) {
			t.Errorf("%q: got %q, want %q", c.header, got, c.want)
		}
	}
}

func TestTokFormURLEncoded(t *testing.T) {
	for s, want := range map[string]bool{
		"":                      true,
		"abcXYZ019-._~*":        true,
		"a+b":                   true, // an encoded space
		"a%2Bb%3a":              true,
		url.QueryEscape("a:/b"): true,
		"a:b":                   false,
		"a/b":                   false,
		"a b":                   false,
		"a@b":                   false,
		"a%2":                   false,
		"a%zz":                  false,
		"é":                     false,
	} {
		if got := tokFormURLEncoded(s); got != want {
			t.Errorf("tokFormURLEncoded(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTokErrorCharset(t *testing.T) {
	for s, want := range map[string]bool{
		"invalid_grant":                       true,
		"Refresh token expired; it's old (x)": true,
		"":                                    true,
		`say "no"`:                            false,
		`back\slash`:                          false,
		"expiré":                              false,
		"tab\there":                           false,
	} {
		if got := tokErrorCharsetOK(s); got != want {
			t.Errorf("tokErrorCharsetOK(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{
		"https://as.example/errors#invalid_grant": true,
		"/errors/invalid_grant":                   false, // not absolute
		"https://as.example/a b":                  false, // space not allowed
		"https://as.example/é":                    false,
	} {
		if got := tokErrorURIOK(s); got != want {
			t.Errorf("tokErrorURIOK(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTokGrantScopes(t *testing.T) {
	ok := analyze.TokenResponse{OK: true}
	stated := ok
	stated.HasScope, stated.Scopes = true, []string{"a", "b"}
	claim := ok
	claim.AccessTokenJWT = analyze.JWT{Valid: true, HasScopeClaim: true, Scopes: []string{"c"}}
	az := &analyze.Authorize{HasScope: true, Scopes: []string{"r"}}
	for name, c := range map[string]struct {
		f     *analyze.Flow
		want  string
		known bool
	}{
		"stated in the response": {&analyze.Flow{Token: &analyze.Token{Response: stated}, Authorize: az}, "a b", true},
		"from the token's claim": {&analyze.Flow{Token: &analyze.Token{Response: claim}, Authorize: az}, "c", true},
		"as requested":           {&analyze.Flow{Token: &analyze.Token{Response: ok}, Authorize: az}, "r", true},
		"AS default, unseen":     {&analyze.Flow{Token: &analyze.Token{Response: ok}}, "", false},
		"failed exchange":        {&analyze.Flow{Token: &analyze.Token{}, Authorize: az}, "", false},
		"no exchange":            {&analyze.Flow{Authorize: az}, "", false},
	} {
		got, known := tokGrantScopes(c.f)
		if strings.Join(got, " ") != c.want || known != c.known {
			t.Errorf("%s: got %q %v, want %q %v", name, got, known, c.want, c.known)
		}
	}
	f := &analyze.Flow{Token: &analyze.Token{Response: stated}}
	if got := tokResponseScopes(&analyze.Token{GrantType: "refresh_token", Response: ok}, f); strings.Join(got, " ") != "a b" {
		t.Errorf("refresh without scope: got %q, want the original grant", got)
	}
	if got := tokResponseScopes(&analyze.Token{GrantType: "refresh_token", HasScope: true, Scopes: []string{"a"}, Response: ok}, f); strings.Join(got, " ") != "a" {
		t.Errorf("refresh with scope, none in the response: got %q, want the requested scope", got)
	}
}

// analyzed runs the analysis on hand-built exchanges, so that views carry
// their exchanges (timing) as in a real capture.
func analyzed(t *testing.T, exs ...*capture.Exchange) *analyze.Result {
	t.Helper()
	for i, ex := range exs {
		ex.Ref = capture.Ref{File: "test.har", Entry: i}
	}
	return analyze.Analyze(exs, analyze.Options{MCPRevision: "auto"})
}

func post(at time.Time, d time.Duration, u, form string, status int, resp string) *capture.Exchange {
	pu, _ := url.Parse(u)
	return &capture.Exchange{Start: at, Duration: d,
		Request: &capture.Request{Method: "POST", URL: pu, Headers: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}, Body: []byte(form)},
		Response: &capture.Response{Status: status, Headers: capture.Headers{{Name: "Content-Type", Value: "application/json"}, {Name: "Cache-Control", Value: "no-store"}},
			Body: []byte(resp)}}
}

func TestTokDevicePollAndTiming(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	poll := "grant_type=" + url.QueryEscape(tokDeviceCodeGrant) + "&device_code=DC1&client_id=cli"
	other := "grant_type=" + url.QueryEscape(tokDeviceCodeGrant) + "&device_code=DC2&client_id=cli"
	pending := `{"error":"authorization_pending"}`
	slow := `{"error":"slow_down"}`
	res := analyzed(t,
		post(t0, 80*time.Millisecond, "https://as.example/token", poll, 400, pending),
		post(t0.Add(5*time.Second), 0, "https://as.example/token", poll, 400, slow),
		post(t0.Add(6*time.Second), 0, "https://as.example/token", other, 400, pending), // another device: ignored
		post(t0.Add(11*time.Second), 0, "https://as.example/token", poll, 400, pending),
	)
	var polls []*analyze.Token
	for _, m := range res.Messages {
		if tk, ok := m.View.(*analyze.Token); ok {
			polls = append(polls, tk)
		}
	}
	if len(polls) != 4 {
		t.Fatalf("%d token requests, want 4", len(polls))
	}
	for i, c := range []struct{ gap, min int64 }{{-1, 5000}, {5000, 5000}, {-1, 5000}, {6000, 10000}} {
		gap, min := tokDevicePoll(polls[i], res.Flows)
		if gap != c.gap || min != c.min {
			t.Errorf("poll %d: gap %d min %d, want %d %d", i, gap, min, c.gap, c.min)
		}
	}
	if got, want := tokEndedMS(&polls[0].HTTP), t0.Add(80*time.Millisecond).UnixMilli(); got != want {
		t.Errorf("ended_ms = %d, want %d", got, want)
	}
	// A view without an exchange falls back to its start time.
	if got := tokEndedMS(&analyze.HTTP{TimeMS: 42}); got != 42 {
		t.Errorf("ended_ms without exchange = %d, want 42", got)
	}
}

func TestTokAccessTokenExpiry(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"RS256"}`) + "." + seg(`{"exp":`+itoaTest(t0.Unix()+600)+`}`) + ".sig"
	code := "grant_type=authorization_code&code=c1&client_id=cli"
	res := analyzed(t,
		post(t0, time.Second, "https://as.example/token", code, 200, `{"access_token":"opaque-1","token_type":"Bearer","expires_in":3600}`),
		post(t0, 0, "https://as.example/token", "grant_type=authorization_code&code=c2&client_id=cli", 200, `{"access_token":"`+jwt+`","token_type":"Bearer","expires_in":3600}`),
		post(t0, 0, "https://as.example/token", "grant_type=authorization_code&code=c3&client_id=cli", 200, `{"access_token":"opaque-3","token_type":"Bearer"}`),
	)
	find := func(tok string) *analyze.Flow {
		for _, f := range res.Flows {
			if f.Token != nil && f.Token.Response.AccessToken == tok {
				return f
			}
		}
		t.Fatalf("no flow issued %s", tok)
		return nil
	}
	// expires_in counts from the response (start + duration).
	if got, want := tokAccessTokenExpiryMS(find("opaque-1"), "opaque-1"), t0.Add(time.Second+time.Hour).UnixMilli(); got != want {
		t.Errorf("expires_in expiry = %d, want %d", got, want)
	}
	// The earlier of exp and expires_in.
	if got, want := tokAccessTokenExpiryMS(find(jwt), jwt), (t0.Unix()+600)*1000; got != want {
		t.Errorf("JWT expiry = %d, want %d", got, want)
	}
	if got := tokAccessTokenExpiryMS(find("opaque-3"), "opaque-3"); got != 0 {
		t.Errorf("no lifetime stated: got %d, want 0", got)
	}
	if got := tokAccessTokenExpiryMS(find("opaque-1"), "someone-elses"); got != 0 {
		t.Errorf("unknown token: got %d, want 0", got)
	}
}

func itoaTest(n int64) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestTokBearerOf(t *testing.T) {
	for v, want := range map[string]string{
		"Bearer abc":       "abc",
		"bearer  abc ":     "abc",
		"DPoP xyz":         "xyz",
		"Basic Zm9vOmJhcg": "",
		"":                 "",
	} {
		h := &analyze.HTTP{RequestHeaders: map[string][]string{"authorization": {v}}}
		if got := tokBearerOf(h); got != want {
			t.Errorf("bearer_of(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestTokFunctionsInCEL checks the functions are registered with the
// signatures the rules use, and behave on odd JSON members.
func TestTokFunctionsInCEL(t *testing.T) {
	env, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	tok := &analyze.Token{Params: map[string][]string{}}
	tok.HTTP.RequestHeaders = map[string][]string{"authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("id:p/w"))}}
	vars := map[string]any{"token": tok, "flow": &analyze.Flow{}, "flows": []*analyze.Flow{}}
	for expr, want := range map[string]bool{
		`member_string({'a': 'x', 'n': 1.0}, 'a') == 'x'`:                                                      true,
		`member_string({'n': 1.0}, 'n') == ''`:                                                                 true,
		`member_string({}, 'missing') == ''`:                                                                   true,
		`member_strings({'l': ['a', 1.0, 'b']}, 'l') == ['a', 'b']`:                                            true,
		`member_strings({'l': 'a b'}, 'l') == []`:                                                              true,
		`basic_credentials(token) == ['id', 'p/w']`:                                                            true,
		`!form_urlencoded(basic_credentials(token)[1]) && form_urlencode('p/w') == 'p%2Fw'`:                    true,
		`known_grant_type('urn:ietf:params:oauth:grant-type:device_code') && !known_grant_type('device_code')`: true,
		`known_token_error('invalid_target') && !known_token_error('mfa_required')`:                            true,
		`jwt_claims('not.a.jwt') == {} && jwt_aud('') == []`:                                                   true,
		`jwt_aud('eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.') == ['x']`:                                             true,
		`jwt_header('eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.').alg == 'none'`:                                     true,
		`grant_scopes(flow) == [] && !grant_scopes_known(flow)`:                                                true,
		`device_poll_gap_ms(token, flows) == -1 && device_poll_min_ms(token, flows) == 5000`:                   true,
		`bearer_of(token.http) == '' && ended_ms(token.http) == 0`:                                             true,
		`access_token_expiry_ms(flow, 'x') == 0`:                                                               true,
		`error_charset_ok('ok') && !error_uri_ok('relative')`:                                                  true,
	} {
		checkBoolExpr(t, env, vars, expr, want)
	}
}

// checkBoolExpr reports an error unless expr gives want on vars.
func checkBoolExpr(t *testing.T, env *cel.Env, vars map[string]any, expr string, want bool) {
	t.Helper()
	if out, ok := evalExpr(t, env, vars, expr); ok && out != types.Bool(want) {
		t.Errorf("%s = %v, want %v", expr, out, want)
	}
}

// evalExpr compiles expr in env and evaluates it on vars; a failure at
// any step is reported and ok is false.
func evalExpr(t *testing.T, env *cel.Env, vars map[string]any, expr string) (out ref.Val, ok bool) {
	t.Helper()
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		t.Errorf("%s: %v", expr, iss.Err())
		return nil, false
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Errorf("%s: %v", expr, err)
		return nil, false
	}
	out, _, err = prg.Eval(vars)
	if err != nil {
		t.Errorf("%s: %v", expr, err)
		return nil, false
	}
	return out, true
}

func TestTokIsIDTokenAndUnusedRefreshToken(t *testing.T) {
	tok := func(id int, resp analyze.TokenResponse) *analyze.Token {
		return &analyze.Token{HTTP: analyze.HTTP{ID: id}, GrantType: "authorization_code", Response: resp}
	}
	az := func(id int, scopes ...string) *analyze.Authorize {
		return &analyze.Authorize{HTTP: analyze.HTTP{ID: id, Endpoint: "https://as/auth"}, HasScope: len(scopes) > 0, Scopes: scopes}
	}
	issued := analyze.TokenResponse{OK: true, HasAccessToken: true, AccessToken: "at1", HasRefreshToken: true, RefreshToken: "rt1",
		HasIDToken: true, IDToken: "idt1", HasScope: true, Scopes: []string{"a", "offline_access"}}
	g := &analyze.Flow{ID: "F1", Resource: "https://mcp/x", Authorize: az(1, "a", "offline_access")}
	g.Token = tok(3, issued)
	g.Tokens = []*analyze.Token{g.Token}
	later := &analyze.Flow{ID: "F2", Resource: "https://mcp/x", Authorize: az(10, "a")}
	flows := []*analyze.Flow{g, later}

	if !tokIsIDToken(flows, "idt1") || tokIsIDToken(flows, "at1") || tokIsIDToken(flows, "") {
		t.Error("is_id_token: only the issued id_token is one")
	}
	if got := tokUnusedRefreshTokenFlow(flows, later); got != "F1" {
		t.Errorf("unused refresh token: got %q, want F1", got)
	}
	// Step-up: more scope than the old grant.
	stepUp := &analyze.Flow{ID: "F3", Resource: "https://mcp/x", Authorize: az(10, "a", "admin")}
	if got := tokUnusedRefreshTokenFlow([]*analyze.Flow{g, stepUp}, stepUp); got != "" {
		t.Errorf("step-up: got %q, want none", got)
	}
	// Another resource.
	other := &analyze.Flow{ID: "F4", Resource: "https://other/x", Authorize: az(10)}
	if got := tokUnusedRefreshTokenFlow([]*analyze.Flow{g, other}, other); got != "" {
		t.Errorf("other resource: got %q, want none", got)
	}
	// A refresh was attempted (it failed: revoked) before the new
	// authorization.
	g.Refreshes = []*analyze.Token{{HTTP: analyze.HTTP{ID: 7}, GrantType: "refresh_token", RefreshToken: "rt1"}}
	if got := tokUnusedRefreshTokenFlow(flows, later); got != "" {
		t.Errorf("refresh attempted: got %q, want none", got)
	}
	// A rotated token issued by that refresh and never used counts again.
	g.Refreshes[0].Response = analyze.TokenResponse{OK: true, HasRefreshToken: true, RefreshToken: "rt2"}
	if got := tokUnusedRefreshTokenFlow(flows, later); got != "F1" {
		t.Errorf("rotated, unused: got %q, want F1", got)
	}
}
