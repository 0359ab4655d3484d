package analyze

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oauthlint/oauthlint/capture"
)

// Fuzz targets of the parsers in analyze: the WWW-Authenticate parser,
// JWT decoding, query/form/JSON decoding of exchanges, and the whole
// classification and correlation on exchanges built from fuzzed fields.
// Seeds: the f.Add calls plus testdata/fuzz/<Target>.
// Run one: go test ./analyze -run '^$' -fuzz '^FuzzParseWWWAuthenticate$' -fuzztime 1m
// (scripts/fuzz.sh runs them all).

// FuzzParseWWWAuthenticate: no panic on any header value; every challenge
// has a scheme made of token characters; parameter names are lower-case
// and counted; and whenever the parse succeeds, printing the parameters
// back as quoted strings and parsing again yields the same parameters.
func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="http://localhost:46553/.well-known/oauth-protected-resource/mcp"`,
		`Bearer realm="mcp", scope="mcp:read mcp:write"`,
		`Basic realm="x", Bearer scope=read, Negotiate abc123==, Bearer`,
		`Bearer error_description="a \"quoted\" word", scope = "x"`,
		`Bearer scope="unterminated`,
		`DPoP algs="ES256 RS256", error="use_dpop_nonce"`,
		`Bearer scope="a", scope="b"`,
		`, ,Bearer ,`, `=`, `Bearer =`, `Bearer a=b c=d`, `Bearer "x"`, "Bearer \x00=\xff",
		`Negotiate YII=, Basic`, `Bearer realm="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		chs, err := ParseWWWAuthenticate(v)
		for _, c := range chs {
			if c.Scheme == "" {
				t.Fatalf("%q: empty scheme", v)
			}
			for i := 0; i < len(c.Scheme); i++ {
				if !isTchar(c.Scheme[i]) {
					t.Fatalf("%q: scheme %q has a non-token byte", v, c.Scheme)
				}
			}
			for k := range c.Params {
				if k != strings.ToLower(k) || c.Counts[k] < 1 {
					t.Fatalf("%q: param %q (count %d)", v, k, c.Counts[k])
				}
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("%q: challenge with both token68 and params", v)
			}
		}
		if err != nil {
			return
		}
		// Round trip: params printed as quoted-strings parse back equal.
		var b strings.Builder
		for i, c := range chs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Scheme)
			if c.Token68 != "" {
				b.WriteString(" " + c.Token68)
				continue
			}
			n := 0
			for k, val := range c.Params {
				if n == 0 {
					b.WriteString(" ")
				} else {
					b.WriteString(", ")
				}
				n++
				b.WriteString(k + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(val) + `"`)
			}
		}
		again, err := ParseWWWAuthenticate(b.String())
		if err != nil {
			t.Fatalf("%q printed as %q does not parse again: %v", v, b.String(), err)
		}
		if len(again) != len(chs) {
			t.Fatalf("%q: %d challenges, printed %q gives %d", v, len(chs), b.String(), len(again))
		}
		for i := range chs {
			if !strings.EqualFold(again[i].Scheme, chs[i].Scheme) || again[i].Token68 != chs[i].Token68 || len(again[i].Params) != len(chs[i].Params) {
				t.Fatalf("%q: challenge %d %+v, printed %q gives %+v", v, i, chs[i], b.String(), again[i])
			}
			for k, val := range chs[i].Params {
				if again[i].Params[k] != val {
					t.Fatalf("%q: param %s %q, printed %q gives %q", v, k, val, b.String(), again[i].Params[k])
				}
			}
		}
	})
}

// FuzzDecodeJWT: DecodeJWT never panics; a Valid result has a header and
// claims; a JWT built from any two JSON objects decodes to them.
func FuzzDecodeJWT(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add(enc([]byte(`{"alg":"RS256","typ":"at+jwt"}`))+"."+enc([]byte(`{"iss":"https://as","aud":["a","b"],"scope":"x y","exp":1e10}`))+".sig", `{"alg":"none"}`, `{"scp":["a",1,null]}`)
	f.Add("a.b.c", `{}`, `{"aud":"x","exp":"soon","iat":-1.5e300}`)
	f.Add("..", `{"alg":{"nested":[1,2,3]}}`, `{"scope":42,"scp":"fallback"}`)
	f.Add("eyJ.eyJ.", `[]`, `null`)
	f.Fuzz(func(t *testing.T, tok, header, claims string) {
		j := DecodeJWT(tok)
		if j.Valid && (j.Header == nil || j.Claims == nil) {
			t.Fatalf("%q: valid without header or claims", tok)
		}
		if !j.Valid && (j.Header != nil || j.Claims != nil || j.Scopes != nil) {
			t.Fatalf("%q: invalid but carries data: %+v", tok, j)
		}
		var h, c map[string]any
		if json.Unmarshal([]byte(header), &h) != nil || json.Unmarshal([]byte(claims), &c) != nil || h == nil || c == nil {
			return
		}
		built := enc([]byte(header)) + "." + enc([]byte(claims)) + ".c2ln"
		j = DecodeJWT(built)
		if len(built) <= 1<<20 && !j.Valid {
			t.Fatalf("JWT of %s.%s not decoded", header, claims)
		}
		if j.Valid && len(j.Claims) != len(c) {
			t.Fatalf("claims %v, want %v", j.Claims, c)
		}
	})
}

// FuzzQueryAndForm: queryMap never panics, keeps every non-empty
// parameter, and agrees with net/url wherever net/url accepts the input.
func FuzzQueryAndForm(f *testing.F) {
	for _, s := range []string{
		"response_type=code&client_id=abc&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&scope=a+b&state=x",
		"a=1&a=2&&b", "%zz=%%&x=%2", "=v&k=", "a=%E2%82%AC&b=%ff%fe", "a;b=c", strings.Repeat("x=y&", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m := queryMap(raw)
		n := 0
		for _, kv := range strings.Split(raw, "&") {
			if kv != "" {
				n++
			}
		}
		got := 0
		for _, vs := range m {
			got += len(vs)
		}
		if got != n {
			t.Fatalf("%q: %d values kept of %d parameters", raw, got, n)
		}
		if ref, err := url.ParseQuery(raw); err == nil {
			for k, vs := range ref {
				if strings.Join(m[k], "\x00") != strings.Join(vs, "\x00") {
					t.Fatalf("%q: %s = %q, net/url %q", raw, k, m[k], vs)
				}
			}
		}
	})
}

// FuzzJSONBody: jsonObject and jsonTooDeep never panic, never accept
// nesting deeper than maxJSONDepth, and bodyText always returns valid
// UTF-8 no longer than maxViewBody plus replacement growth.
func FuzzJSONBody(f *testing.F) {
	for _, s := range []string{
		`{"a":{"b":[1,2,{"c":"d"}]}}`, `{"a":"\"{{{{"}`, `[[[[`, `{"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
		"{\"a\":\"\xff\xfe\"}", `{"a":1}garbage`, ` {"a":1e999}`, `{"a":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := jsonObject(b)
		if m != nil && depthOf(m) > maxJSONDepth {
			t.Fatalf("accepted nesting %d > %d", depthOf(m), maxJSONDepth)
		}
		s := bodyText(b)
		if !utf8.ValidString(s) {
			t.Fatal("bodyText returned invalid UTF-8")
		}
	})
}

func depthOf(v any) int {
	switch x := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

// FuzzAnalyze builds a small authorization flow (401 challenge, PRM, AS
// metadata, registration, authorize, callback, token, resource call)
// whose interesting fields come from the fuzzer, and runs the whole
// classification and correlation on it. It must not panic; every flow it
// returns must point at exchanges of the input; and secret collection
// must accept whatever the exchanges hold.
func FuzzAnalyze(f *testing.F) {
	f.Add("Bearer resource_metadata=\"https://mcp.test/.well-known/oauth-protected-resource\", scope=\"a b\"",
		`{"resource":"https://mcp.test/mcp","authorization_servers":["https://as.test"],"scopes_supported":["a","b"]}`,
		`{"issuer":"https://as.test","authorization_endpoint":"https://as.test/authorize","token_endpoint":"https://as.test/token","code_challenge_methods_supported":["S256"]}`,
		"response_type=code&client_id=c1&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s1&scope=a+b&resource=https%3A%2F%2Fmcp.test%2Fmcp",
		"code=c0de-value-123&state=s1&iss=https%3A%2F%2Fas.test",
		"grant_type=authorization_code&code=c0de-value-123&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&code_verifier=dBjftJeZ4CVP-mJ0kJ9ww2e1zCz7qBDkmnVxX4x8zgM&client_id=c1",
		`{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6ImEgYiJ9.c2ln","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"a b"}`,
		`{"client_id":"c1","redirect_uris":["http://localhost:3000/cb"],"token_endpoint_auth_method":"none"}`,
		uint16(200))
	f.Add("", "null", "[]", "%", "&&&", "=", `{"access_token":{"x":1},"expires_in":"x","scope":["a"]}`, `{"redirect_uris":"x"}`, uint16(0))
	f.Add("Basic", `{"authorization_servers":"https://as.test","scopes_supported":[1,null,{}]}`, `{"issuer":7,"response_types_supported":null}`,
		"response_type=code&response_type=token&redirect_uri=javascript:alert(1)", "error=access_denied&error_description=%ff",
		"grant_type=refresh_token&refresh_token=rt-1&scope=", `{"error":"invalid_grant"}`, `{"client_secret":"s","client_secret_expires_at":-1}`, uint16(400))
	f.Fuzz(func(t *testing.T, challenge, prm, asm, authzQuery, callbackQuery, tokenForm, tokenResp, regResp string, status uint16) {
		exs := fuzzFlow(challenge, prm, asm, authzQuery, callbackQuery, tokenForm, tokenResp, regResp, int(status%600))
		res := Analyze(capture.Timeline(exs), Options{MCPRevision: "auto"})
		if res == nil {
			t.Fatal("nil result")
		}
		seen := map[*capture.Exchange]bool{}
		for _, ex := range res.Exchanges {
			seen[ex] = true
		}
		for _, m := range res.Messages {
			if m.HTTP == nil || (m.HTTP.ex != nil && !seen[m.HTTP.ex]) {
				t.Fatalf("message %s points outside the input", m.Kind)
			}
		}
		for _, fl := range res.Flows {
			if fl.ID == "" {
				t.Fatal("flow without an id")
			}
		}
		for _, ex := range exs {
			CollectSecrets(capture.NewSecretSet(), ex)
		}
	})
}

func fuzzFlow(challenge, prm, asm, authzQuery, callbackQuery, tokenForm, tokenResp, regResp string, status int) []*capture.Exchange {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	ex := func(method, raw string, reqH capture.Headers, reqBody string, st int, respH capture.Headers, respBody string) *capture.Exchange {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			// The fuzzed part broke the URL: keep the exchange with the
			// query dropped, as a reader would have refused the URL.
			u, _ = url.Parse(raw[:strings.IndexByte(raw, '?')])
		}
		n++
		e := &capture.Exchange{Start: t0.Add(time.Duration(n) * time.Second), Ref: capture.Ref{File: "fuzz.har", Entry: n - 1},
			Request: &capture.Request{Method: method, URL: u, Proto: "HTTP/1.1", Headers: reqH, Body: []byte(reqBody), BodySize: int64(len(reqBody))}}
		if st > 0 {
			e.Response = &capture.Response{Status: st, Proto: "HTTP/1.1", Headers: respH, Body: []byte(respBody), BodySize: int64(len(respBody))}
		}
		return e
	}
	js := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	form := capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	return []*capture.Exchange{
		ex("POST", "https://mcp.test/mcp", capture.Headers{{Name: "MCP-Protocol-Version", Value: "2025-11-25"}}, `{"jsonrpc":"2.0","method":"initialize","id":1}`,
			401, capture.Headers{{Name: "WWW-Authenticate", Value: challenge}}, ""),
		ex("GET", "https://mcp.test/.well-known/oauth-protected-resource/mcp", nil, "", 200, js, prm),
		ex("GET", "https://as.test/.well-known/oauth-authorization-server", nil, "", 200, js, asm),
		ex("POST", "https://as.test/register", js, `{"redirect_uris":["http://localhost:3000/cb"],"client_name":"x"}`, 201, js, regResp),
		ex("GET", "https://as.test/authorize?"+authzQuery, nil, "", 302, capture.Headers{{Name: "Location", Value: "http://localhost:3000/cb?" + callbackQuery}}, ""),
		ex("GET", "http://localhost:3000/cb?"+callbackQuery, nil, "", 200, nil, "ok"),
		ex("POST", "https://as.test/token", form, tokenForm, status, js, tokenResp),
		ex("POST", "https://mcp.test/mcp", capture.Headers{{Name: "Authorization", Value: "Bearer " + tokenResp}}, `{"jsonrpc":"2.0","method":"tools/list","id":2}`, 200, js, `{"jsonrpc":"2.0","id":2,"result":{}}`),
	}
}

// scanJSONByteByByte is the plain walk scanJSON must agree with.
func scanJSONByteByByte(b []byte, str func(raw []byte) bool, punct func(c byte) bool) {
	inStr, esc, from := false, false, 0
	for i, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if str != nil && !str(b[from:i]) {
					return
				}
			}
			continue
		}
		if c == '"' {
			inStr, from = true, i+1
			continue
		}
		if punct != nil && !punct(c) {
			return
		}
	}
}

// FuzzScanJSON: scanJSON (which skips with bytes.IndexByte) reports the
// same strings and punctuation, in the same order, as a byte-by-byte walk,
// with and without a punct callback, and stops where it does.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":"b","c":["d",1]}`, `{"a":"x\"y","b":"\\","c":"\\\"","d":"\\\\"}`, `"unterminated`, `{"a":"b\`,
		`\\"x"`, `""`, `{"ACCESS_TOKEN":"v"}`, `{"list":[{"code":"x"}],"id_token":"t"}`, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, stopAt uint8) {
		for _, withPunct := range []bool{false, true} {
			record := func(log *[]string) (func([]byte) bool, func(byte) bool) {
				n := 0
				str := func(raw []byte) bool {
					*log = append(*log, "s:"+string(raw))
					n++
					return stopAt == 0 || n < int(stopAt)
				}
				if !withPunct {
					return str, nil
				}
				return str, func(c byte) bool {
					*log = append(*log, "p:"+string(c))
					n++
					return stopAt == 0 || n < int(stopAt)
				}
			}
			var want, got []string
			s1, p1 := record(&want)
			scanJSONByteByByte(b, s1, p1)
			s2, p2 := record(&got)
			scanJSON(b, s2, p2)
			if !slices.Equal(want, got) {
				t.Fatalf("punct %v: scanJSON gave %q, byte by byte %q", withPunct, got, want)
			}
		}
	})
}

// FuzzMayHoldSecretMember: the prefilter never misses a member name that
// decoding finds (in any object of the document, arrays included, in any
// case), whatever the spacing, escapes and nesting.
func FuzzMayHoldSecretMember(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"id":1,"token":"x"}]}`, `{"a" : "b", "ACCESS_TOKEN"` + "\t\n:" + `1}`, `{"x\"code":1}`,
		`{"a":"code","b":{"client_secret":{}}}`, `{"` + strings.Repeat("k", 40) + `":"v"}`, `{"code":1}`, `{"":{"id_token":"t"}}`,
		"{\"api_\u212Aey\":\"v\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc any
		if json.Unmarshal(b, &doc) != nil {
			return
		}
		if _, isObject := doc.(map[string]any); !isObject {
			return
		}
		if name, ok := secretMemberIn(doc); ok && !mayHoldSecretMember(b) {
			t.Fatalf("member %q of %s missed", name, b)
		}
	})
}

// secretMemberIn finds a member named in secretParams anywhere in a
// decoded document.
func secretMemberIn(v any) (string, bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretParams[strings.ToLower(k)] {
				return k, true
			}
			if n, ok := secretMemberIn(e); ok {
				return n, true
			}
		}
	case []any:
		for _, e := range x {
			if n, ok := secretMemberIn(e); ok {
				return n, true
			}
		}
	}
	return "", false
}
