package analyze

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/repocaptures"
)

// CollectSecrets skips decoding bodies without a credential member name;
// it must find exactly what collecting from the full view finds. Checked
// on every rule fixture and example capture of the repository (thousands
// of real-shaped OAuth messages) and on bodies built to trip a scanner.
func TestCollectSecretsMatchesFullView(t *testing.T) {
	var exs []*capture.Exchange
	for _, got := range repocaptures.Read(t, "..") {
		exs = append(exs, got...)
	}
	u, _ := url.Parse("https://as.example/token")
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	for _, body := range []string{
		`{"x":"a\"b","access_token":"tok-escaped-quote-before"}`,
		`{"ACCESS_TOKEN":"tok-upper-case-name"}`,
		`{"acc\u0065ss_token":"tok-unicode-escaped-name"}`,
		`{"outer":{"inner":{"refresh_token":"tok-nested-member"}}}`,
		`{"list":[{"code":"in-an-array-not-collected"}],"id_token":"tok-after-array"}`,
		`{"note":"\\","client_secret":"sec-after-backslash"}`,
		`{"items":[{"id":1,"name":"item"}]}`,
	} {
		exs = append(exs, &capture.Exchange{
			Request:  &capture.Request{Method: "POST", URL: u, Headers: json, Body: []byte(body)},
			Response: &capture.Response{Status: 200, Headers: json, Body: []byte(body)}})
	}
	total := 0
	for i, ex := range exs {
		full, fast := capture.NewSecretSet(), capture.NewSecretSet()
		h := newHTTP(ex)
		collectSecrets(full, ex, &h)
		CollectSecrets(fast, ex)
		if a, b := full.Values(), fast.Values(); !slices.Equal(a, b) {
			t.Errorf("exchange %d (%s): full view finds %q, CollectSecrets %q", i, ex, a, b)
		}
		total += full.Len()
	}
	if total < 1000 {
		t.Errorf("only %d secrets in all: the comparison proves little", total)
	}
	for _, tok := range []string{"tok-escaped-quote-before", "tok-upper-case-name", "tok-unicode-escaped-name", "tok-nested-member", "tok-after-array", "sec-after-backslash"} {
		s := capture.NewSecretSet()
		for _, ex := range exs[len(exs)-7:] {
			CollectSecrets(s, ex)
		}
		if !s.Contains(tok) {
			t.Errorf("%s not collected", tok)
		}
	}
}

func TestMayHoldSecretMember(t *testing.T) {
	for body, want := range map[string]bool{
		`{"items":[{"id":1}]}`:              false,
		`{"token_type":"Bearer"}`:           false,
		`{"Token":"x"}`:                     true,
		`{"a":"\"code\""}`:                  false,
		`{"a":"x","code":"y"}`:              true,
		`{"a":"\u0063ode"}`:                 true, // decoded to be sure
		`not json "access_token"`:           false,
		`  {"registration_access_token":1}`: true,
	} {
		if got := mayHoldSecretMember([]byte(body)); got != want {
			t.Errorf("mayHoldSecretMember(%s) = %v, want %v", body, got, want)
		}
	}
}

func TestJSONTooDeep(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	for _, c := range []struct {
		body string
		want bool
	}{
		{string(nest(maxJSONDepth)), false},
		{string(nest(maxJSONDepth + 1)), true},
		{`{"a":"` + strings.Repeat("[", 100) + `"}`, false}, // brackets inside a string
		{`{"a":"\"` + strings.Repeat("{", 100) + `"}`, false},
	} {
		if got := jsonTooDeep([]byte(c.body)); got != c.want {
			t.Errorf("jsonTooDeep(%.40s…) = %v, want %v", c.body, got, c.want)
		}
	}
}

// A resource server's answers are decoded as JSON only when something
// reads them (needsResponseJSON): a plain API list stays undecoded, a
// JSON-RPC message, an error body and a non-2xx answer are decoded, and
// a credential in an undecoded body is still collected for redaction.
func TestResourceResponseJSONDecodedOnlyWhenRead(t *testing.T) {
	u, _ := url.Parse("https://api.example/items")
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	call := func(status int, body string) *capture.Exchange {
		return &capture.Exchange{
			Request: &capture.Request{Method: "GET", URL: u,
				Headers: capture.Headers{{Name: "Host", Value: "api.example"}, {Name: "Authorization", Value: "Bearer tok-api-call"}}},
			Response: &capture.Response{Status: status, Headers: json, Body: []byte(body)}}
	}
	exs := []*capture.Exchange{
		call(200, `{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}]}`),
		call(200, `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`),
		call(200, `{"error":"server_error"}`),
		call(403, `{"message":"forbidden"}`),
		call(200, `{"items":[],"access_token":"tok-in-an-api-body"}`),
	}
	// Twice with one cache, as the live proxy does: the second analysis
	// reads the views the first made.
	views := NewViewCache()
	for round := range 2 {
		res := Analyze(exs, Options{MCPRevision: "auto", Views: views})
		for i, want := range []bool{false, true, true, true, true} {
			m := res.Messages[i]
			if m.Kind != KindResource {
				t.Fatalf("analysis %d: exchange %d classified %s, want resource", round, i, m.Kind)
			}
			if got := m.HTTP.ResponseJSONValid; got != want {
				t.Errorf("analysis %d: exchange %d (%s): response decoded %v, want %v", round, i, exs[i].Response.Body, got, want)
			}
		}
		if !slices.Contains(res.Secrets.Values(), "tok-in-an-api-body") {
			t.Errorf("analysis %d: the credential in an API body was not collected: %q", round, res.Secrets.Values())
		}
	}
}

// BenchmarkMayHoldSecretMember: a REST API's answer (an object holding a
// list of items, about 10 KiB, no credential), which the live proxy asks
// about for every call it records.
func BenchmarkMayHoldSecretMember(b *testing.B) {
	item := `{"id":"itm_01HZX3K8Q2V7N9","name":"Widget 42","price":{"amount":1299,"currency":"EUR"},"tags":["blue","large"],"created_at":"2026-11-20T09:00:00Z","links":{"self":"/api/items/itm_01HZX3K8Q2V7N9","owner":"/api/users/usr_4821"}}`
	body := []byte(`{"items":[` + strings.Repeat(item+",", 42) + item + `],"next":"/api/items?page=2","total":12345}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if mayHoldSecretMember(body) {
			b.Fatal("found a member that is not there")
		}
	}
}

// TestRequestJSONDecodedOnlyWhenRead: a REST call's JSON request body is
// kept as text, not decoded; a request body that classification reads
// (JSON-RPC, a grant, a registration), that may hold a credential, or
// that goes to an endpoint the metadata names for registration is
// decoded, in the first analysis and from cached views.
func TestRequestJSONDecodedOnlyWhenRead(t *testing.T) {
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	mustURL := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	post := func(u, body string, hs capture.Headers) *capture.Exchange {
		return &capture.Exchange{
			Request:  &capture.Request{Method: "POST", URL: mustURL(u), Headers: hs, Body: []byte(body)},
			Response: &capture.Response{Status: 200, Headers: json, Body: []byte(`{"ok":true}`)}}
	}
	bearer := append(capture.Headers{{Name: "Authorization", Value: "Bearer tok-api-call"}}, json...)
	exs := []*capture.Exchange{
		{Request: &capture.Request{Method: "GET", URL: mustURL("https://as.example/.well-known/oauth-authorization-server")},
			Response: &capture.Response{Status: 200, Headers: json, Body: []byte(`{"issuer":"https://as.example","authorization_endpoint":"https://as.example/authorize","token_endpoint":"https://as.example/token","registration_endpoint":"https://as.example/connect/new"}`)}},
		post("https://api.example/items", `{"name":"Widget 42","price":{"amount":1299}}`, bearer),
		post("https://api.example/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, bearer),
		post("https://api.example/items", `{"name":"x","client_secret":"s3cr3t-in-a-rest-body"}`, bearer),
		post("https://as.example/connect/new", `{"client_uri":"https://app.example","software_id":"app"}`, json),
		post("https://as.example/token", `{"grant_type":"client_credentials","scope":"read"}`, json),
		post("https://api.example/items", `{"name":"no media type"}`, capture.Headers{{Name: "Authorization", Value: "Bearer tok-api-call"}}),
	}
	want := []struct {
		kind    Kind
		decoded bool
	}{
		{KindASMetadata, false},
		{KindResource, false},
		{KindResource, true},
		{KindResource, true},
		{KindRegistration, true},
		{KindToken, true},
		{KindResource, true},
	}
	views := NewViewCache()
	for round := range 2 {
		res := Analyze(exs, Options{MCPRevision: "auto", Views: views})
		for i, w := range want {
			m := res.Messages[i]
			if m.Kind != w.kind {
				t.Fatalf("analysis %d: exchange %d classified %s, want %s", round, i, m.Kind, w.kind)
			}
			if i == 0 {
				continue
			}
			if got := m.HTTP.RequestJSON != nil; got != w.decoded {
				t.Errorf("analysis %d: exchange %d (%s): request decoded %v, want %v", round, i, exs[i].Request.Body, got, w.decoded)
			}
			if m.HTTP.RequestBody != string(exs[i].Request.Body) || m.HTTP.Form != nil {
				t.Errorf("analysis %d: exchange %d: body text %q, form %v", round, i, m.HTTP.RequestBody, m.HTTP.Form)
			}
		}
		if r, ok := res.Messages[4].View.(*Registration); !ok || r.Metadata["client_uri"] != "https://app.example" {
			t.Errorf("analysis %d: registration metadata %+v", round, res.Messages[4].View)
		}
		if r, ok := res.Messages[2].View.(*Resource); !ok || r.MCPMethod != "tools/list" {
			t.Errorf("analysis %d: MCP call read as %+v", round, res.Messages[2].View)
		}
		if !slices.Contains(res.Secrets.Values(), "s3cr3t-in-a-rest-body") {
			t.Errorf("analysis %d: the credential in a REST request body was not collected: %q", round, res.Secrets.Values())
		}
	}
}
