// Package oauth holds the security-sensitive comparisons oauthlint makes,
// written and tested once: PKCE, scope-set arithmetic, exact URL and issuer
// comparison, and the well-known URL constructions of RFC 8414 and RFC 9728.
// Both flow correlation and the rule functions call these.
package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"sort"
	"strings"
)

// S256 returns BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PKCEMatches reports whether verifier answers challenge under method
// ("S256" or "plain"; an empty method means plain, RFC 7636 §4.3).
// Comparison is exact: no normalisation of either value.
func PKCEMatches(verifier, challenge, method string) bool {
	if verifier == "" || challenge == "" {
		return false
	}
	switch method {
	case "S256":
		return S256(verifier) == challenge
	case "", "plain":
		return verifier == challenge
	default:
		return false
	}
}

// ValidVerifier reports whether v has the RFC 7636 §4.1 form:
// 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isUnreserved(v[i]) {
			return false
		}
	}
	return true
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// SplitScope splits a scope string on spaces (RFC 6749 §3.3). The value
// must already be URL-decoded once; it is not normalised further, so
// case and punctuation are kept. Empty tokens are dropped.
func SplitScope(s string) []string {
	f := strings.Split(s, " ")
	out := f[:0]
	for _, t := range f {
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []string{}
	}
	return out
}

// Subset reports whether every element of a is in b.
func Subset(a, b []string) bool {
	set := toSet(b)
	for _, x := range a {
		if _, ok := set[x]; !ok {
			return false
		}
	}
	return true
}

// Difference returns the elements of a that are not in b, in a's order,
// without duplicates.
func Difference(a, b []string) []string {
	set := toSet(b)
	out := []string{}
	seen := map[string]struct{}{}
	for _, x := range a {
		if _, ok := set[x]; ok {
			continue
		}
		if _, ok := seen[x]; ok {
			continue
		}
		seen[x] = struct{}{}
		out = append(out, x)
	}
	return out
}

// Union returns the elements of a then those of b not already present.
func Union(a, b []string) []string {
	out := []string{}
	seen := map[string]struct{}{}
	for _, l := range [][]string{a, b} {
		for _, x := range l {
			if _, ok := seen[x]; !ok {
				seen[x] = struct{}{}
				out = append(out, x)
			}
		}
	}
	return out
}

// Intersect returns the elements of a that are also in b.
func Intersect(a, b []string) []string {
	set := toSet(b)
	out := []string{}
	seen := map[string]struct{}{}
	for _, x := range a {
		if _, ok := set[x]; ok {
			if _, dup := seen[x]; !dup {
				seen[x] = struct{}{}
				out = append(out, x)
			}
		}
	}
	return out
}

// SetEqual reports whether a and b hold the same elements (order and
// duplicates ignored).
func SetEqual(a, b []string) bool { return Subset(a, b) && Subset(b, a) }

// Sorted returns a sorted copy.
func Sorted(a []string) []string {
	out := append([]string(nil), a...)
	sort.Strings(out)
	return out
}

func toSet(l []string) map[string]struct{} {
	m := make(map[string]struct{}, len(l))
	for _, x := range l {
		m[x] = struct{}{}
	}
	return m
}

// SameURL is the RFC 3986 §6.2.1 simple string comparison that RFC 8414
// §3.3, RFC 9728 §3.3 and RFC 9207 demand for issuers and resources:
// byte-for-byte, no normalisation. A trailing slash is a real difference.
func SameURL(a, b string) bool { return a == b }

// Origin returns "scheme://host[:port]" of u, or "" if u is not absolute.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(originOf(u))
}

// originOf is "scheme://host[:port]" with the host re-encoded: net/url
// decodes an IPv6 zone ("[fe80::1%25en0]" → "[fe80::1%en0]"), and joining
// the decoded form would build a URL that no longer parses.
func originOf(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// WithoutQuery returns raw without its query and fragment.
func WithoutQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// IsLoopbackHost reports whether host (with or without port) is
// localhost, a loopback IP literal or a localhost subdomain.
func IsLoopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(strings.ToLower(h), "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackURL reports whether raw is an absolute URL on a loopback host.
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && IsLoopbackHost(u.Host)
}

// IsHTTPS reports whether raw is an absolute https URL.
func IsHTTPS(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.EqualFold(u.Scheme, "https") && u.Host != ""
}

// SecureOrLoopback reports whether raw is https, or http on loopback (the
// exception every OAuth profile makes for local development and native
// redirect URIs).
func SecureOrLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return IsLoopbackHost(u.Host)
	}
	return false
}

// Well-known suffixes.
const (
	WellKnownPRM   = "/.well-known/oauth-protected-resource"
	WellKnownOAuth = "/.well-known/oauth-authorization-server"
	WellKnownOIDC  = "/.well-known/openid-configuration"
)

// InsertWellKnown builds a metadata URL by inserting suffix between the
// host and the path of id, after removing a terminating "/" (RFC 8414 §3.1,
// RFC 9728 §3.1): "https://h/tenant" → "https://h/.well-known/x/tenant".
func InsertWellKnown(id, suffix string) string {
	u, err := url.Parse(id)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return originOf(u) + suffix + path
}

// AppendWellKnown builds the OIDC Discovery form "{issuer}/.well-known/…".
func AppendWellKnown(id, suffix string) string {
	return strings.TrimSuffix(id, "/") + suffix
}

// WellKnownForm describes how a metadata URL was built.
type WellKnownForm string

const (
	FormInsert WellKnownForm = "insert" // {origin}/.well-known/x{path}
	FormAppend WellKnownForm = "append" // {origin}{path}/.well-known/x
	FormRoot   WellKnownForm = "root"   // {origin}/.well-known/x
	FormNone   WellKnownForm = ""       // not a well-known URL
)

// ParseWellKnown finds suffix in the URL raw and returns the identifier it
// was built from and the form. For the root form the identifier is the
// origin without a trailing slash (RFC 8414 §3.1 removes it before
// building, so "https://h" and "https://h/" map to the same URL).
func ParseWellKnown(raw, suffix string) (id string, form WellKnownForm) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", FormNone
	}
	origin := originOf(u)
	p := u.EscapedPath()
	switch {
	case p == suffix || p == suffix+"/":
		return origin, FormRoot
	case strings.HasPrefix(p, suffix+"/"):
		return origin + strings.TrimPrefix(p, suffix), FormInsert
	case strings.HasSuffix(p, suffix):
		return origin + strings.TrimSuffix(p, suffix), FormAppend
	}
	return "", FormNone
}
