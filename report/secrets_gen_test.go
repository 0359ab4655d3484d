//go:build gen

package report

import (
	"net/url"
	"os"
	"testing"
	"time"

	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

// The generator of testdata/secrets.har, behind the "gen" build tag so
// that the package tests do not depend on the HAR builder's API:
//
//	go test ./report -tags gen -run TestGenerateSecretsHAR -update

func TestGenerateSecretsHAR(t *testing.T) {
	data := buildSecretsHAR()
	if !*update {
		t.Skip("run with -update to rewrite " + secretsHAR)
	}
	if err := os.WriteFile(secretsHAR, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func buildSecretsHAR() []byte {
	start := time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	h := hb.New("mitmproxy", "11.0.2", start)
	f := hb.Scenario{
		Seed: 71, Revision: "2025-11-25", Confidential: true, JWTAccessTokens: true, WrongVerifier: true,
		TokenNoStore: true, NoState: true, ChallengeScope: "notes:read",
		PRMScopes: []string{"notes:read", "notes:write"}, ASScopes: []string{"notes:read", "notes:write", "offline_access"},
		AuthScope: hb.Str("notes:read offline_access"), TokenScopeInResponse: true,
	}.Build(h)
	// The same client logs in again later with a form post (password) and
	// calls the resource with the token in the query string (RFC 6750
	// §2.3, discouraged but seen).
	login := "https://auth.example.com/self-service/login?flow=" + "7c1f6b52-0d7e-4b6a-9a3e-2f5c8d9e1a47"
	form := "identifier=alice%40example.com&password=Corr3ct-Horse-Battery-Staple%21&csrf_token=" + url.QueryEscape("Zm9vYmFyYmF6cXV4Y3NyZnRva2VuMTIzNDU2Nzg5MA==")
	h.Add(&hb.Entry{Method: "POST", URL: login,
		ReqHeaders: [][2]string{{"Host", "auth.example.com"}, {"Content-Type", "application/x-www-form-urlencoded"},
			{"Cookie", "ory_kratos_session=MTczMjA5NDQ0M3xEdi1CQkFFQ180SUFBUkFCRUFBQVJfLUNBQUVHYzNSeWFXNW5EQThBRFhObGMzTnBiMjVmZEc5clpXND18"}},
		ReqBody: form, ReqMime: "application/x-www-form-urlencoded", Status: 303,
		RespHeaders: [][2]string{{"Location", "https://auth.example.com/oauth2/auth"},
			{"Set-Cookie", "ory_kratos_session=MTczMjA5NDQ0NHxOd3dBTkZKU1ZsbFlUMFpWVVVkWVJGZEhUbEZNVjFwSE4wMUNUMVZSUVRSWFZrRk1XVU5hVWpaVFFVRk5WMFZMTjBWU1VVTlpVa0U9; Path=/; HttpOnly; Secure; SameSite=Lax"}}})
	q := "https://mcp.example.com/mcp?access_token=" + url.QueryEscape(f.AccessToken)
	h.Add(&hb.Entry{Method: "GET", URL: q, ReqHeaders: [][2]string{{"Host", "mcp.example.com"}, {"Accept", "text/event-stream"}},
		Status: 200, RespHeaders: [][2]string{{"Content-Type", "text/event-stream"}}, RespBody: "event: ping\n\n", RespMime: "text/event-stream"})
	h.Wait(3 * time.Minute)
	// A second client, captured by a proxy only: the browser leg is
	// missing, so rules on the authorization request cannot be checked.
	hb.Scenario{
		Seed: 72, Revision: "2025-11-25", AS: hb.Generic, Issuer: "https://login.example.org", MCPURL: "https://tools.example.org/mcp",
		NoBrowserLeg: true, ASScopes: []string{"tools"}, AuthScope: hb.Str("tools"), GrantedScopes: []string{"tools", "offline_access"},
		Start: start.Add(10 * time.Minute),
	}.Build(h)
	return h.Marshal()
}
