package secretscan

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
)

func TestFromExchangesFindsEveryKind(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/cb?code=code-0123456789ab&state=short&access_token=at-query-0123456789")
	ex := &capture.Exchange{
		Request: &capture.Request{Method: "POST", URL: u, Headers: capture.Headers{
			{Name: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte("client:basic-password-0123"))},
			{Name: "Cookie", Value: "sid=cookie-value-0123456789; theme=dark"},
		}, Body: []byte("grant_type=refresh_token&refresh_token=rt-form-0123456789&client_secret=cs-form-0123456789")},
		Response: &capture.Response{Status: 200, Headers: capture.Headers{
			{Name: "Set-Cookie", Value: "sid=set-cookie-0123456789; Path=/; HttpOnly"},
			{Name: "Location", Value: "https://app/cb#access_token=at-fragment-0123456789"},
		}, Body: []byte(`{"access_token":"at-json-0123456789","nested":{"id_token":"idt-json-0123456789"},"scope":"short"}`)},
	}
	s := FromExchanges([]*capture.Exchange{ex})
	for _, want := range []string{"code-0123456789ab", "at-query-0123456789", "basic-password-0123", "cookie-value-0123456789",
		"rt-form-0123456789", "cs-form-0123456789", "set-cookie-0123456789", "at-fragment-0123456789", "at-json-0123456789", "idt-json-0123456789"} {
		if _, ok := s[want]; !ok {
			t.Errorf("%s not found; kinds %v", want, s.Kinds())
		}
	}
	if _, ok := s["short"]; ok {
		t.Error("a short value counted as a credential")
	}
	if _, ok := s[capture.RedactToken("already-redacted-0123456789")]; ok {
		t.Error("a redacted value counted as a credential")
	}
}

func TestFindAndPlain(t *testing.T) {
	s := Set{}
	s.Add("code", "a b/c+d=e&f-0123456789")
	for _, tc := range []struct{ format, out string }{
		{"text", "x a b/c+d=e&f-0123456789 y"},
		{"text", "?code=" + url.QueryEscape("a b/c+d=e&f-0123456789")},
		{"html", "<td>a b/c+d=e&amp;f-0123456789</td>"},
		{"json", `"a b/c+d=e\u0026f-0123456789"`},
		{"markdown", `a b/c\+d=e\&f\-0123456789`},
	} {
		if len(s.Find(Plain(tc.format, []byte(tc.out)))) != 1 {
			t.Errorf("%s %q: not found", tc.format, tc.out)
		}
	}
	if l := s.Find("nothing here"); len(l) != 0 {
		t.Errorf("found %v in clean text", l)
	}
	if got := (Leak{Kind: "code", Value: "a b/c+d=e&f-0123456789", Form: "raw"}).String(); strings.Contains(got, "0123456789") {
		t.Errorf("Leak.String reveals the value: %s", got)
	}
}
