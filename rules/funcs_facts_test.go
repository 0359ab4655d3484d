package rules

import (
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
)

// The capture-wide facts answer what the comprehensions they replace
// answered over the flows: ID tokens, mTLS token endpoint aliases,
// successful password grants and origins that answered 401, found in any
// flow (not only the one asking), compared without query.
func TestCaptureFactsInCEL(t *testing.T) {
	env, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	pw := &analyze.Token{HTTP: analyze.HTTP{ID: 5, Endpoint: "https://as.example/token"}, GrantType: "password",
		Response: analyze.TokenResponse{OK: true, HasIDToken: true, IDToken: "idt-1"}}
	pwFailed := &analyze.Token{HTTP: analyze.HTTP{ID: 6, Endpoint: "https://as2.example/token"}, GrantType: "password",
		Response: analyze.TokenResponse{Status: 400}}
	asm := &analyze.ASMetadata{HTTP: analyze.HTTP{ID: 2}, Doc: map[string]any{
		"mtls_endpoint_aliases": map[string]any{"token_endpoint": "https://mtls.as.example/token?x=1"}}}
	ch := &analyze.Challenge{HTTP: analyze.HTTP{ID: 1, Origin: "https://rs.example"}, Status: 401}
	ch403 := &analyze.Challenge{HTTP: analyze.HTTP{ID: 9, Origin: "https://rs2.example"}, Status: 403}
	asking := &analyze.Flow{ID: "F1"}
	other := &analyze.Flow{ID: "F2", Tokens: []*analyze.Token{pw, pwFailed}, ASMetadatas: []*analyze.ASMetadata{asm},
		Challenges: []*analyze.Challenge{ch, ch403}}
	vars := map[string]any{"flow": asking, "flows": []*analyze.Flow{asking, other}}
	for expr, want := range map[string]bool{
		`is_id_token(flows, 'idt-1')`:                                     true,
		`is_id_token(flows, 'other')`:                                     false,
		`mtls_token_endpoint(flows, 'https://mtls.as.example/token')`:     true,
		`mtls_token_endpoint(flows, 'https://mtls.as.example/token?y=2')`: true,
		`mtls_token_endpoint(flows, 'https://as.example/token')`:          false,
		`password_grant_succeeded(flows, 'https://as.example/token?a=b')`: true,
		`password_grant_succeeded(flows, 'https://as2.example/token')`:    false,
		`answered_401(flows, 'https://rs.example')`:                       true,
		`answered_401(flows, 'https://rs2.example')`:                      false,
		`answered_401([], 'https://rs.example')`:                          false,
		`mtls_token_endpoint([flow], 'https://mtls.as.example/token')`:    false,
	} {
		checkBoolExpr(t, env, vars, expr, want)
	}
}
