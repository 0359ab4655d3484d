package oauth

import (
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets of the security-sensitive helpers: URL parsing and the
// well-known constructions, scope sets and PKCE. Each checks a law the
// rules rely on, not just the absence of a panic.
// Run: go test ./analyze/oauth -run '^$' -fuzz '^FuzzWellKnown$' -fuzztime 1m

// FuzzWellKnown: for any absolute URL, the metadata URL built by
// InsertWellKnown parses back (ParseWellKnown) to the identifier it was
// built from, without its trailing slash; Origin, IsLoopbackURL, IsHTTPS
// and SecureOrLoopback never panic and agree with each other.
func FuzzWellKnown(f *testing.F) {
	for _, s := range []string{
		"https://as.example.com", "https://as.example.com/", "https://as.example.com/tenant1", "https://as.example.com/a/b/",
		"http://localhost:8080/mcp", "http://[::1]:3000/x", "https://h/%2Fescaped%20path", "https://h/.well-known/oauth-protected-resource",
		"HTTPS://Upper.Example:443/Path", "http://127.0.0.2/x?q=1#f", "javascript:alert(1)", "//no-scheme/x", "https://user:pw@h/",
		"http://localhost.evil.com/", "http://x.localhost/", "https://h/\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		o := Origin(raw)
		https := IsHTTPS(raw)
		sec := SecureOrLoopback(raw)
		loop := IsLoopbackURL(raw)
		if https && (o == "" || !sec) {
			t.Fatalf("%q: https but origin %q, secure %v", raw, o, sec)
		}
		if sec && !https && !loop {
			t.Fatalf("%q: secure-or-loopback but neither https nor loopback", raw)
		}
		if o != "" && (o != strings.ToLower(o) || !strings.Contains(o, "://")) {
			t.Fatalf("%q: origin %q", raw, o)
		}
		_ = WithoutQuery(raw)
		for _, suffix := range []string{WellKnownPRM, WellKnownOAuth, WellKnownOIDC} {
			id, form := ParseWellKnown(raw, suffix)
			if (form == FormNone) != (id == "") {
				t.Fatalf("%q: form %q with id %q", raw, form, id)
			}
			u, err := url.Parse(raw)
			if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil ||
				strings.Contains(u.EscapedPath(), "/.well-known/") || u.Opaque != "" {
				continue
			}
			built := InsertWellKnown(raw, suffix)
			if built == "" {
				t.Fatalf("%q: InsertWellKnown gave nothing", raw)
			}
			back, form := ParseWellKnown(built, suffix)
			// "https://h//" builds the same URL as "https://h/": a path of
			// only slashes is the root form.
			p := strings.TrimSuffix(u.EscapedPath(), "/")
			if p == "/" {
				p = ""
			}
			want := (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() + p
			if back != want || (form != FormInsert && form != FormRoot) {
				t.Fatalf("%q → %q → %q (%s), want %q", raw, built, back, form, want)
			}
		}
	})
}

// FuzzScopes: SplitScope yields no empty or space-containing tokens and
// keeps every non-space byte; the set operations obey their laws.
func FuzzScopes(f *testing.F) {
	f.Add("openid profile  email", "profile offline_access")
	f.Add("", "   ")
	f.Add("a a a b", "b\tc")
	f.Add("mcp:read mcp:write", "MCP:READ")
	f.Fuzz(func(t *testing.T, s1, s2 string) {
		a, b := SplitScope(s1), SplitScope(s2)
		if a == nil || b == nil {
			t.Fatal("nil scope list")
		}
		for _, x := range a {
			if x == "" || strings.Contains(x, " ") {
				t.Fatalf("%q: token %q", s1, x)
			}
		}
		if strings.Join(a, "") != strings.ReplaceAll(s1, " ", "") {
			t.Fatalf("%q: tokens %q lose bytes", s1, a)
		}
		u, i, d := Union(a, b), Intersect(a, b), Difference(a, b)
		if !Subset(a, u) || !Subset(b, u) || !Subset(i, a) || !Subset(i, b) || !Subset(d, a) {
			t.Fatalf("set laws broken for %q, %q", a, b)
		}
		if len(Intersect(d, b)) != 0 {
			t.Fatalf("difference %q meets %q", d, b)
		}
		if !SetEqual(Union(i, d), Intersect(a, a)) {
			t.Fatalf("(a∩b) ∪ (a−b) = %q, not a = %q", Union(i, d), a)
		}
		if SetEqual(a, b) != (Subset(a, b) && Subset(b, a)) {
			t.Fatal("SetEqual")
		}
	})
}

// FuzzPKCE: a verifier always matches its own S256 challenge and plain
// form, never an altered one; ValidVerifier agrees with RFC 7636 §4.1.
func FuzzPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mJ0kJ9ww2e1zCz7qBDkmnVxX4x8zgM", "S256")
	f.Add("", "plain")
	f.Add("short", "")
	f.Add(strings.Repeat("~", 129), "s256")
	f.Fuzz(func(t *testing.T, v, method string) {
		if v == "" {
			if PKCEMatches(v, S256(v), "S256") {
				t.Fatal("empty verifier matched")
			}
			return
		}
		if !PKCEMatches(v, S256(v), "S256") || !PKCEMatches(v, v, "plain") || !PKCEMatches(v, v, "") {
			t.Fatalf("%q does not match its own challenge", v)
		}
		if PKCEMatches(v, S256(v)+"x", "S256") || PKCEMatches(v, v+"x", "plain") {
			t.Fatalf("%q matches an altered challenge", v)
		}
		if method != "S256" && method != "plain" && method != "" && PKCEMatches(v, v, method) {
			t.Fatalf("unknown method %q accepted", method)
		}
		ok := len(v) >= 43 && len(v) <= 128
		for i := 0; i < len(v); i++ {
			c := v[i]
			ok = ok && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0)
		}
		if ValidVerifier(v) != ok {
			t.Fatalf("ValidVerifier(%q) = %v, want %v", v, !ok, ok)
		}
	})
}
