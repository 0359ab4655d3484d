package capture

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Secret is a credential seen in traffic (token, code, verifier, client
// secret, cookie, Authorization value). Its printed and JSON forms are
// redacted; only Reveal returns the raw value, so a secret reaches an output
// only when somebody asked for it explicitly.
type Secret string

// Reveal returns the raw value.
func (s Secret) Reveal() string { return string(s) }

// String returns the redacted form.
func (s Secret) String() string { return Redact(string(s)) }

// GoString keeps %#v from printing the raw value.
func (s Secret) GoString() string { return Redact(string(s)) }

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redact(string(s))) }

// minPrefixLen is the length from which a redacted value keeps its first
// characters: long tokens (JWTs, opaque 40+ char tokens) stay recognisable
// by their prefix while short values (codes, passwords) show nothing.
const minPrefixLen = 32

// Redact renders a secret as "eyJhbGci…(812 B, sha256:3f2a91c0)": a short
// prefix for long values, the length and a hash fragment so two mentions of
// the same value can be matched without revealing it.
func Redact(v string) string {
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	prefix := ""
	if len(v) >= minPrefixLen {
		prefix = safePrefix(v, 8)
	}
	return fmt.Sprintf("%s…(%d B, sha256:%s)", prefix, len(v), hex.EncodeToString(sum[:4]))
}

// safePrefix returns up to n leading bytes, stopping at a rune boundary.
func safePrefix(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && n < len(v) && v[n]&0xC0 == 0x80 {
		n--
	}
	return v[:n]
}

// IsRedacted reports whether v looks like the output of Redact.
func IsRedacted(v string) bool {
	return strings.Contains(v, "…(") && strings.Contains(v, " B, sha256:")
}

// minScrubLen: values shorter than this are not searched for in free text,
// because replacing e.g. "abc" everywhere would mangle reports; they are
// still redacted wherever they are printed as a field.
const minScrubLen = 6

// Scrubbed reports whether v is long enough to be replaced wherever it
// occurs in free text (a shorter one is only redacted as a field).
func Scrubbed(v string) bool { return len(strings.TrimSpace(v)) >= minScrubLen }

// SecretSet collects every secret value seen in the inputs so that any
// string about to be printed can be scrubbed of them, whatever path it took
// (a message template, an error, a URL). It is safe for concurrent use.
type SecretSet struct {
	// mu is held for reading while a text is scrubbed (Add updates the
	// scrubber in place).
	mu sync.RWMutex
	// values maps every searched form (the raw value and its URL
	// encodings) to the raw value, so all forms redact alike.
	values map[string]string
	form   func(string) string
	// scrub is built at the first Scrub, then kept up to date by Add.
	scrub *scrubber
}

// NewSecretSet returns an empty set whose Scrub writes Redact's form.
func NewSecretSet() *SecretSet { return NewSecretSetWith(Redact) }

// NewSecretSetWith returns an empty set whose Scrub writes form(value).
func NewSecretSetWith(form func(string) string) *SecretSet {
	return &SecretSet{values: map[string]string{}, form: form}
}

// RedactedTokenPrefix starts every value RedactToken writes.
const RedactedTokenPrefix = "oauthlint-redacted-"

// RedactToken is the redacted form used inside saved captures: safe in
// URLs, headers and JSON strings, and equal for equal values, so a
// redacted HAR still correlates (the same code in the callback and the
// token request) while revealing nothing. Readers recognise it by
// RedactedTokenPrefix and treat such exchanges as sanitized.
func RedactToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return fmt.Sprintf("%s%s-%d", RedactedTokenPrefix, hex.EncodeToString(sum[:4]), len(v))
}

// Add records values as secrets.
func (s *SecretSet) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < minScrubLen {
			continue
		}
		raw, known := s.values[v]
		if known && raw == v {
			// Known, with its encodings (a bearer token is added again
			// with every call it authorizes).
			continue
		}
		var f string // v's redacted form, when the scrubber is built
		if s.scrub != nil {
			f = s.form(v)
		}
		if !known {
			s.values[v] = v
			if s.scrub != nil {
				s.scrub.add(v, f)
			}
		}
		// A value also travels form- or percent-encoded in URLs and bodies.
		for _, enc := range encodings(v) {
			if _, ok := s.values[enc]; !ok && enc != v {
				s.values[enc] = v
				if s.scrub != nil {
					s.scrub.add(enc, f)
				}
			}
		}
	}
}

// Len returns the number of distinct values (including encoded variants).
func (s *SecretSet) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

// Values returns every searched form of every secret (raw values and
// their encodings), sorted.
func (s *SecretSet) Values() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Contains reports whether v is a known secret.
func (s *SecretSet) Contains(v string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.values[v]
	return ok
}

// Scrub replaces every known secret in text with its redacted form.
func (s *SecretSet) Scrub(text string) string {
	if s == nil || text == "" {
		return text
	}
	s.mu.RLock()
	if s.scrub == nil {
		s.mu.RUnlock()
		s.build()
		s.mu.RLock()
	}
	defer s.mu.RUnlock()
	return s.scrub.Replace(text)
}

// build makes the scrubber from every value known (once; Add keeps it up
// to date from then on). The redacted form is computed once per raw value.
func (s *SecretSet) build() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scrub != nil {
		return
	}
	formed := make(map[string]string, len(s.values))
	s.scrub = newScrubber(nil)
	for v, raw := range s.values {
		f, ok := formed[raw]
		if !ok {
			f = s.form(raw)
			formed[raw] = f
		}
		// Every searched form is at least minScrubLen long.
		s.scrub.add(v, f)
	}
}
