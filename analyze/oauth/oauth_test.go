package oauth

import (
	"reflect"
	"testing"
)

func TestS256RFC7636AppendixB(t *testing.T) {
	// RFC 7636 Appendix B test vector.
	v := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	want := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := S256(v); got != want {
		t.Fatalf("S256 = %s, want %s", got, want)
	}
	if !PKCEMatches(v, want, "S256") {
		t.Error("PKCEMatches S256 false")
	}
	if PKCEMatches(v, want, "plain") || PKCEMatches(v, want, "") {
		t.Error("plain matched an S256 challenge")
	}
	if !PKCEMatches("abc", "abc", "") || PKCEMatches("abc", "abc", "S512") {
		t.Error("plain/unknown method")
	}
	if PKCEMatches("", "", "plain") {
		t.Error("empty verifier matched")
	}
}

func TestValidVerifier(t *testing.T) {
	for v, want := range map[string]bool{
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk": true,
		"short": false,
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+": false, // '+' not unreserved
		string(make([]byte, 129)):                     false,
	} {
		if got := ValidVerifier(v); got != want {
			t.Errorf("ValidVerifier(%q) = %v", v, got)
		}
	}
}

func TestScopeSets(t *testing.T) {
	if got := SplitScope("  mcp:read  mcp:write "); !reflect.DeepEqual(got, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("SplitScope = %q", got)
	}
	if got := SplitScope(""); got == nil || len(got) != 0 {
		t.Errorf("SplitScope(\"\") = %#v", got)
	}
	a, b := []string{"a", "b", "b"}, []string{"b", "c"}
	if !reflect.DeepEqual(Difference(a, b), []string{"a"}) || !reflect.DeepEqual(Union(a, b), []string{"a", "b", "c"}) ||
		!reflect.DeepEqual(Intersect(a, b), []string{"b"}) {
		t.Error("set arithmetic")
	}
	if Subset(a, b) || !Subset([]string{"b"}, b) || !SetEqual([]string{"x", "y"}, []string{"y", "x", "x"}) {
		t.Error("subset/equal")
	}
	// Case matters (RFC 6749 §3.3: case-sensitive).
	if Subset([]string{"Read"}, []string{"read"}) {
		t.Error("scope comparison is case-insensitive")
	}
}

func TestWellKnown(t *testing.T) {
	cases := []struct {
		id, suffix, insert, append string
	}{
		{"https://as.example.com", WellKnownOAuth, "https://as.example.com/.well-known/oauth-authorization-server", "https://as.example.com/.well-known/oauth-authorization-server"},
		{"https://as.example.com/", WellKnownOAuth, "https://as.example.com/.well-known/oauth-authorization-server", "https://as.example.com/.well-known/oauth-authorization-server"},
		{"https://as.example.com/tenant1", WellKnownOIDC, "https://as.example.com/.well-known/openid-configuration/tenant1", "https://as.example.com/tenant1/.well-known/openid-configuration"},
		{"http://localhost:3000/mcp", WellKnownPRM, "http://localhost:3000/.well-known/oauth-protected-resource/mcp", "http://localhost:3000/mcp/.well-known/oauth-protected-resource"},
	}
	for _, c := range cases {
		if got := InsertWellKnown(c.id, c.suffix); got != c.insert {
			t.Errorf("Insert(%s) = %s", c.id, got)
		}
		if got := AppendWellKnown(c.id, c.suffix); got != c.append {
			t.Errorf("Append(%s) = %s", c.id, got)
		}
	}
	for raw, want := range map[string]struct {
		id   string
		form WellKnownForm
	}{
		"https://h/.well-known/oauth-authorization-server":         {"https://h", FormRoot},
		"https://h/.well-known/oauth-authorization-server/tenant1": {"https://h/tenant1", FormInsert},
		"https://h/tenant1/.well-known/openid-configuration":       {"https://h/tenant1", FormAppend},
		"https://h/custom/metadata.json":                           {"", FormNone},
	} {
		suffix := WellKnownOAuth
		if want.form == FormAppend {
			suffix = WellKnownOIDC
		}
		id, form := ParseWellKnown(raw, suffix)
		if id != want.id || form != want.form {
			t.Errorf("ParseWellKnown(%s) = %s %s", raw, id, form)
		}
	}
}

func TestURLHelpers(t *testing.T) {
	if SameURL("https://h/", "https://h") {
		t.Error("trailing slash ignored")
	}
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/cb": true, "http://localhost/cb": true, "http://[::1]:9/x": true,
		"http://example.com/": false, "https://app.localhost/": true,
	} {
		if got := IsLoopbackURL(u); got != want {
			t.Errorf("IsLoopbackURL(%s) = %v", u, got)
		}
	}
	if !SecureOrLoopback("https://x/") || !SecureOrLoopback("http://127.0.0.1/") || SecureOrLoopback("http://x/") || SecureOrLoopback("javascript:alert(1)") {
		t.Error("SecureOrLoopback")
	}
	if Origin("HTTPS://H.example:8443/p?q") != "https://h.example:8443" || Origin("/rel") != "" {
		t.Error("Origin")
	}
	if WithoutQuery("https://h/p?x=1#f") != "https://h/p" {
		t.Error("WithoutQuery")
	}
}
