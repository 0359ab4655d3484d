package analyze

import (
	"fmt"
	"strings"
)

// AuthChallenge is one challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1): a scheme with either a token68 or auth-params.
type AuthChallenge struct {
	Scheme string `json:"scheme"`
	// Params maps lower-case parameter names to the first value seen.
	Params map[string]string `json:"params,omitempty"`
	// Counts says how often each parameter appeared (RFC 6750 §3 forbids
	// repeating realm, scope, error, error_description and error_uri).
	Counts  map[string]int `json:"-"`
	Token68 string         `json:"token68,omitempty"`
}

// ParseWWWAuthenticate parses the values of one or more WWW-Authenticate
// header lines into challenges. It is lenient: a malformed part is reported
// in the error while everything parsed before it is returned.
func ParseWWWAuthenticate(values ...string) ([]AuthChallenge, error) {
	var out []AuthChallenge
	var firstErr error
	for _, v := range values {
		cs, err := parseChallenges(v)
		out = append(out, cs...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return out, firstErr
}

type wwwLexer struct {
	s string
	i int
}

func (l *wwwLexer) skipSpace() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t') {
		l.i++
	}
}

func (l *wwwLexer) skipOWSCommas() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == ',') {
		l.i++
	}
}

func isTchar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (l *wwwLexer) token() string {
	start := l.i
	for l.i < len(l.s) && isTchar(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

func (l *wwwLexer) token68() string {
	start := l.i
	n, _ := token68Len(l.s[l.i:])
	l.i += n
	return l.s[start:l.i]
}

// token68Len returns how far the token68 at the start of s runs (RFC 9110
// §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"="), and how much of it precedes the "=" padding.
func token68Len(s string) (n, chars int) {
	for chars < len(s) {
		c := s[chars]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			chars++
			continue
		}
		break
	}
	n = chars
	for n < len(s) && s[n] == '=' {
		n++
	}
	return n, chars
}

// IsToken68 reports whether s is exactly one token68: at least one of its
// characters, then any "=" padding. (A byte loop: it is checked on every
// API call's Authorization header, where a regular expression was a
// twentieth of judging a flow.)
func IsToken68(s string) bool {
	n, chars := token68Len(s)
	return chars > 0 && n == len(s)
}

func (l *wwwLexer) quoted() (string, error) {
	// at opening quote
	l.i++
	var b strings.Builder
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch c {
		case '\\':
			if l.i+1 < len(l.s) {
				b.WriteByte(l.s[l.i+1])
				l.i += 2
				continue
			}
			l.i++
		case '"':
			l.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	return b.String(), fmt.Errorf("unterminated quoted-string")
}

func parseChallenges(v string) ([]AuthChallenge, error) {
	l := &wwwLexer{s: v}
	var out []AuthChallenge
	for {
		l.skipOWSCommas()
		if l.i >= len(l.s) {
			return out, nil
		}
		scheme := l.token()
		if scheme == "" {
			return out, fmt.Errorf("expected an auth-scheme at position %d in %q", l.i, v)
		}
		ch := AuthChallenge{Scheme: scheme, Params: map[string]string{}, Counts: map[string]int{}}
		l.skipSpace()
		// Either a token68, or auth-params, or nothing.
		if l.i < len(l.s) && l.s[l.i] != ',' {
			save := l.i
			name := l.token()
			l.skipSpace()
			if name != "" && l.i < len(l.s) && l.s[l.i] == '=' && !endsToken68(l.s, l.i) {
				// auth-param list
				l.i = save
				if err := parseParams(l, &ch); err != nil {
					out = append(out, ch)
					return out, err
				}
			} else {
				l.i = save
				t := l.token68()
				if t == "" {
					out = append(out, ch)
					return out, fmt.Errorf("unexpected %q after scheme %s", l.s[l.i:], scheme)
				}
				ch.Token68 = t
			}
		}
		out = append(out, ch)
	}
}

// parseParams reads "name=value" pairs separated by commas until the next
// challenge starts (a token followed by a space and not by "=").
func parseParams(l *wwwLexer, ch *AuthChallenge) error {
	for {
		l.skipOWSCommas()
		if l.i >= len(l.s) {
			return nil
		}
		save := l.i
		name := l.token()
		if name == "" {
			return fmt.Errorf("expected a parameter name at position %d", l.i)
		}
		l.skipSpace()
		if l.i >= len(l.s) || l.s[l.i] != '=' {
			// Not a parameter: the start of the next challenge.
			l.i = save
			return nil
		}
		l.i++
		l.skipSpace()
		var val string
		if l.i < len(l.s) && l.s[l.i] == '"' {
			q, err := l.quoted()
			if err != nil {
				ch.add(name, q)
				return err
			}
			val = q
		} else {
			val = l.token()
		}
		ch.add(name, val)
		l.skipSpace()
		if l.i < len(l.s) && l.s[l.i] != ',' {
			return fmt.Errorf("expected \",\" after parameter %s at position %d", name, l.i)
		}
	}
}

func (c *AuthChallenge) add(name, val string) {
	k := strings.ToLower(name)
	c.Counts[k]++
	if _, ok := c.Params[k]; !ok {
		c.Params[k] = val
	}
}

// endsToken68 reports whether the "=" at i is token68 padding ("abc==",
// "abc=" at the end or before a comma) rather than a parameter's "=".
func endsToken68(s string, i int) bool {
	j := i
	for j < len(s) && s[j] == '=' {
		j++
	}
	if j-i > 1 {
		return true
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	return j >= len(s) || s[j] == ','
}
