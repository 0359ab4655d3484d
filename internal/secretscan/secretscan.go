// Package secretscan finds the credentials a capture holds, independently
// of analyze's own list (which drives redaction), so that tests can prove
// that no output of oauthlint carries one: reports of every format, logs,
// error messages and the HAR files capture writes.
//
// A credential is the value of an Authorization or Proxy-Authorization
// header and its credential part (and the password of a Basic pair), a
// cookie value, an API-key header, or the value of a secret-named query,
// form or JSON member (code, access_token, client_secret, …). Values
// shorter than MinLen are left out: short strings occur by chance in any
// report, and real credentials are long.
package secretscan

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
)

// MinLen is the shortest value treated as a credential.
const MinLen = 12

// names are the parameters and JSON members whose values are credentials.
var names = map[string]bool{
	"code": true, "code_verifier": true, "access_token": true, "refresh_token": true, "id_token": true,
	"client_secret": true, "registration_access_token": true, "password": true, "csrf_token": true,
	"device_code": true, "client_assertion": true, "assertion": true, "subject_token": true, "actor_token": true,
	"token": true, "session_token": true, "api_key": true, "apikey": true,
}

// Set maps each credential value to what it is ("code", "cookie", …).
type Set map[string]string

func (s Set) add(kind, v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinLen || strings.HasPrefix(v, capture.RedactedTokenPrefix) || capture.IsRedacted(v) {
		return
	}
	if _, seen := s[v]; !seen {
		s[v] = kind
	}
}

func (s Set) params(raw string) {
	q, _ := url.ParseQuery(raw)
	for k, vs := range q {
		if names[strings.ToLower(k)] {
			for _, v := range vs {
				s.add(k, v)
			}
		}
	}
}

func (s Set) jsonBody(b []byte) {
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		s.walk(m, 0)
	}
}

func (s Set) walk(m map[string]any, depth int) {
	if depth > 16 {
		return
	}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if names[strings.ToLower(k)] {
				s.add(k, x)
			}
		case map[string]any:
			s.walk(x, depth+1)
		}
	}
}

func (s Set) headers(hs capture.Headers) {
	for _, h := range hs {
		switch strings.ToLower(h.Name) {
		case "authorization", "proxy-authorization":
			s.add("Authorization header", h.Value)
			scheme, cred, _ := strings.Cut(strings.TrimSpace(h.Value), " ")
			s.add("Authorization credentials", cred)
			if strings.EqualFold(scheme, "basic") {
				if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
					_, secret, _ := strings.Cut(string(dec), ":")
					if p, err := url.QueryUnescape(secret); err == nil {
						secret = p
					}
					s.add("Basic password", secret)
				}
			}
		case "cookie":
			s.add("Cookie header", h.Value)
			for _, c := range strings.Split(h.Value, ";") {
				_, v, _ := strings.Cut(c, "=")
				s.add("cookie", v)
			}
		case "set-cookie":
			nv, _, _ := strings.Cut(h.Value, ";")
			_, v, _ := strings.Cut(nv, "=")
			s.add("Set-Cookie", v)
		case "x-api-key", "api-key", "x-auth-token":
			s.add(h.Name+" header", h.Value)
		case "location":
			if u, err := url.Parse(h.Value); err == nil {
				s.params(u.RawQuery)
				s.params(u.Fragment)
			}
		}
	}
}

// FromExchanges collects the credentials of exchanges as read from any
// input format.
func FromExchanges(exs []*capture.Exchange) Set {
	s := Set{}
	for _, ex := range exs {
		if ex.Request == nil {
			continue
		}
		if ex.Request.URL != nil {
			s.params(ex.Request.URL.RawQuery)
			s.params(ex.Request.URL.Fragment)
		}
		s.headers(ex.Request.Headers)
		s.params(string(ex.Request.Body))
		s.jsonBody(ex.Request.Body)
		if r := ex.Response; r != nil {
			s.headers(r.Headers)
			s.jsonBody(r.Body)
			s.params(string(r.Body))
		}
	}
	return s
}

// Add records a value known to be secret (a test's own credential).
func (s Set) Add(kind, v string) { s.add(kind, v) }

var mdBackslash = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")

// Plain undoes the escaping an output format applies to text, so that a
// credential is found however it was written: HTML and XML entities,
// Markdown backslash escapes, JSON \u escapes. format is a report format
// name, "har" or "text".
func Plain(format string, out []byte) string {
	s := string(out)
	switch format {
	case "html", "junit", "xml":
		s = html.UnescapeString(s)
	case "markdown":
		s = mdBackslash.ReplaceAllString(s, "$1")
		s = html.UnescapeString(s)
	case "json", "sarif", "har":
		s = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\/`, "/", `\"`, `"`).Replace(s)
	}
	return s
}

// Leak is one credential found in an output.
type Leak struct {
	Kind  string
	Value string
	Form  string // "raw", "query-escaped", "path-escaped"
}

// Find returns the credentials of s that appear in text (already made
// plain), in raw or URL-encoded form, sorted by kind.
//
// The text is scanned once: every form of every credential is indexed by
// its first MinLen bytes (no form is shorter), and each position of the
// text is looked up in that index. A sweep over every fixture matches
// thousands of credentials against megabytes of output, where one
// strings.Contains per credential and form took minutes.
func (s Set) Find(text string) []Leak {
	type form struct {
		value, text string
		rank        int // index in forms: raw is reported before escaped
	}
	forms := []string{"raw", "query-escaped", "path-escaped"}
	index := map[string][]form{}
	for v := range s {
		for rank, t := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			k := t[:MinLen]
			index[k] = append(index[k], form{v, t, rank})
		}
	}
	found := map[string]int{} // value -> best rank seen
	for i := 0; i+MinLen <= len(text); i++ {
		fs, ok := index[text[i:i+MinLen]]
		if !ok {
			continue
		}
		for _, f := range fs {
			if r, seen := found[f.value]; (!seen || f.rank < r) && strings.HasPrefix(text[i:], f.text) {
				found[f.value] = f.rank
			}
		}
	}
	out := make([]Leak, 0, len(found))
	for v, rank := range found {
		out = append(out, Leak{Kind: s[v], Value: v, Form: forms[rank]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// Kinds lists the kinds of credential in s, sorted.
func (s Set) Kinds() []string {
	seen := map[string]bool{}
	for _, k := range s {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String renders a leak without revealing the whole value.
func (l Leak) String() string {
	v := l.Value
	if len(v) > 10 {
		v = v[:10] + "…"
	}
	return l.Kind + " " + l.Form + " (" + v + ")"
}
