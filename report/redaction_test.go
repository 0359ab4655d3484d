package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// secretsHAR is a generated capture full of real-looking credentials:
// two MCP authorizations against ORY Hydra and a generic AS, with a
// confidential client (client_secret in the registration response,
// Basic credentials on the token request), JWT access tokens, refresh
// tokens, CSRF and session cookies, a login form with a password, a
// token in a query string, a wrong PKCE verifier (so the verifier is
// finding evidence), and a second flow whose browser leg was not
// captured (missing legs, not-checked findings).
const secretsHAR = "testdata/secrets.har"

// TestSecretsHARParses: the committed capture is there and is JSON. It
// is an input, not a golden file: a change of the generator does not
// have to rewrite it (regenerate with
// go test ./report -tags gen -run TestGenerateSecretsHAR -update).
func TestSecretsHARParses(t *testing.T) {
	data, err := os.ReadFile(secretsHAR)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("%s is not valid JSON", secretsHAR)
	}
}

// secretNames are the parameters and members whose values are
// credentials. This list is the test's own, independent of the one in
// analyze that drives redaction.
var secretNames = map[string]bool{
	"code": true, "code_verifier": true, "access_token": true, "refresh_token": true, "id_token": true,
	"client_secret": true, "registration_access_token": true, "password": true, "csrf_token": true,
}

// harSecrets collects every credential of a HAR by reading it directly:
// Authorization values and their credential part (and the decoded Basic
// pair), every cookie value, and secret-named query, form and JSON
// values. Only values of 12+ characters count: shorter ones are not
// credentials in these captures.
func harSecrets(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Entries []struct {
				Request struct {
					URL      string `json:"url"`
					Headers  []struct{ Name, Value string }
					PostData *struct {
						Text string `json:"text"`
					} `json:"postData"`
				} `json:"request"`
				Response struct {
					Headers []struct{ Name, Value string }
					Content struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		if _, seen := out[v]; !seen && len(v) >= 12 {
			out[v] = kind
		}
	}
	params := func(raw string) {
		q, _ := url.ParseQuery(raw)
		for k, vs := range q {
			if secretNames[k] {
				for _, v := range vs {
					add(k, v)
				}
			}
		}
	}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch x := v.(type) {
			case string:
				if secretNames[k] {
					add(k, x)
				}
			case map[string]any:
				walk(x)
			}
		}
	}
	jsonBody := func(s string) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			walk(m)
		}
	}
	headers := func(hs []struct{ Name, Value string }) {
		for _, h := range hs {
			switch strings.ToLower(h.Name) {
			case "authorization":
				add("Authorization header", h.Value)
				scheme, cred, _ := strings.Cut(h.Value, " ")
				add("Authorization credentials", cred)
				if strings.EqualFold(scheme, "basic") {
					if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
						id, secret, _ := strings.Cut(string(dec), ":")
						_ = id
						s, _ := url.QueryUnescape(secret)
						add("Basic password", s)
					}
				}
			case "cookie":
				add("Cookie header", h.Value)
				for _, c := range strings.Split(h.Value, ";") {
					_, v, _ := strings.Cut(c, "=")
					add("cookie", v)
				}
			case "set-cookie":
				nv, _, _ := strings.Cut(h.Value, ";")
				_, v, _ := strings.Cut(nv, "=")
				add("Set-Cookie", v)
			case "location":
				if u, err := url.Parse(h.Value); err == nil {
					params(u.RawQuery)
					params(u.Fragment)
				}
			}
		}
	}
	for _, e := range doc.Log.Entries {
		if u, err := url.Parse(e.Request.URL); err == nil {
			params(u.RawQuery)
		}
		headers(e.Request.Headers)
		headers(e.Response.Headers)
		if e.Request.PostData != nil {
			params(e.Request.PostData.Text)
			jsonBody(e.Request.PostData.Text)
		}
		jsonBody(e.Response.Content.Text)
	}
	return out
}

var mdBackslash = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")

// plain undoes the escaping a format applies to text, so a secret is
// found however it was encoded: HTML/XML entities, Markdown backslash
// escapes, JSON \u escapes.
func plain(format string, out []byte) string {
	s := string(out)
	switch format {
	case "html", "junit":
		s = html.UnescapeString(s)
	case "markdown":
		s = mdBackslash.ReplaceAllString(s, "$1")
		s = html.UnescapeString(s)
	case "json", "sarif":
		s = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\/`, "/").Replace(s)
	}
	return s
}

// TestNoSecretInAnyFormat feeds the credential-laden capture through every
// format and looks for every raw credential (and its URL-encoded form):
// none may appear unless --show-secrets, and then the ones the report
// carries (the code in the callback URL, the verifier as evidence) must
// appear, which shows the check can fail.
func TestNoSecretInAnyFormat(t *testing.T) {
	secrets := harSecrets(t, secretsHAR)
	kinds := map[string]bool{}
	for _, k := range secrets {
		kinds[k] = true
	}
	for _, want := range []string{"code", "code_verifier", "access_token", "refresh_token", "client_secret", "registration_access_token",
		"password", "Authorization credentials", "cookie", "Set-Cookie"} {
		if !kinds[want] {
			t.Fatalf("the test capture has no %s; kinds found: %v", want, sortedSet(kinds))
		}
	}
	t.Logf("%d distinct credential values in %s", len(secrets), secretsHAR)

	redacted := pipeline(t, false, secretsHAR)
	shown := pipeline(t, true, secretsHAR)
	for format := range allFormats {
		t.Run(format, func(t *testing.T) {
			out := plain(format, render(t, format, redacted))
			for v, kind := range secrets {
				for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
					if strings.Contains(out, form) {
						t.Errorf("%s output leaks a %s (%.12s…)", format, kind, form)
						break
					}
				}
			}
			if !strings.Contains(out, "sha256:") {
				t.Errorf("%s output shows no redacted value at all", format)
			}

			out = plain(format, render(t, format, shown))
			var appeared []string
			for v, kind := range secrets {
				if strings.Contains(out, v) || strings.Contains(out, url.QueryEscape(v)) {
					appeared = append(appeared, kind)
				}
			}
			sort.Strings(appeared)
			// Every format prints the finding evidence (the verifier);
			// the formats that list each flow's requests print the
			// callback URL with the code too.
			want := []string{"code_verifier"}
			if format == "json" || format == "markdown" || format == "html" {
				want = append(want, "code")
			}
			for _, k := range want {
				if !containsStr(appeared, k) {
					t.Errorf("--show-secrets %s output does not show the %s; it shows %v", format, k, appeared)
				}
			}
		})
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestShowSecretsIsMarked: a report with secrets says so in the formats
// people read.
func TestShowSecretsIsMarked(t *testing.T) {
	r := pipeline(t, true, secretsHAR)
	for _, format := range []string{"markdown", "html"} {
		if !bytes.Contains(render(t, format, r), []byte("secrets shown unredacted")) {
			t.Errorf("%s does not warn that secrets are shown", format)
		}
	}
}
