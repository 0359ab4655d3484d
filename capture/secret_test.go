package capture

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestRedact(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
	r := Redact(jwt)
	if !strings.HasPrefix(r, "eyJhbGci…(") || strings.Contains(r, jwt[8:]) || !IsRedacted(r) {
		t.Errorf("Redact(jwt) = %s", r)
	}
	if r := Redact("short-code"); strings.Contains(r, "short") {
		t.Errorf("short value leaked a prefix: %s", r)
	}
	if same1, same2 := Redact("same"), Redact("same"); Redact("a") == Redact("b") || same1 != same2 {
		t.Error("redaction is not a function of the value")
	}
	s := Secret("hunter2-very-secret")
	if fmt.Sprint(s) == s.Reveal() || fmt.Sprintf("%#v", s) == s.Reveal() {
		t.Error("Secret prints raw")
	}
	b, _ := json.Marshal(struct{ S Secret }{s})
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("Secret marshals raw: %s", b)
	}
}

func TestSecretSetScrubsEveryForm(t *testing.T) {
	ss := NewSecretSet()
	v := "abc+def/ghi=~jkl"
	ss.Add(v, "tiny")
	text := "raw " + v + " query code=abc%2Bdef%2Fghi%3D~jkl path abc+def%2Fghi=~jkl tiny"
	out := ss.Scrub(text)
	if strings.Contains(out, "def") {
		t.Errorf("a form of the secret survived: %s", out)
	}
	if !strings.Contains(out, "tiny") {
		t.Errorf("values under the length floor must not be scrubbed from free text: %s", out)
	}
	// Every form redacts to the same placeholder.
	if strings.Count(out, Redact(v)) != 3 {
		t.Errorf("forms redacted differently: %s", out)
	}
}

func TestRedactTokenKeepsEquality(t *testing.T) {
	ss := NewSecretSetWith(RedactToken)
	code := "ory_ac_Zm9v+YmFy/YmF6="
	ss.Add(code)
	a := ss.Scrub("https://cb/?code=" + "ory_ac_Zm9v%2BYmFy%2FYmF6%3D")
	b := ss.Scrub(`{"code":"` + code + `"}`)
	tok := RedactToken(code)
	if !strings.Contains(a, tok) || !strings.Contains(b, tok) || strings.ContainsAny(tok, " ()…") {
		t.Errorf("a=%s b=%s tok=%s", a, b, tok)
	}
}

// TestSecretSetAddAfterScrub: secrets added after the first Scrub (the
// scrubber is then updated in place, not rebuilt) are scrubbed exactly
// as by a set that knew them all from the start, in every encoding.
func TestSecretSetAddAfterScrub(t *testing.T) {
	vals := []string{"first-token-aaaa", "second token/with+chars", "first-token-aaaaXL", "café-secret-value"}
	text := "a=first-token-aaaa b=first-token-aaaaXL c=second+token%2Fwith%2Bchars d=second%20token%2Fwith+chars e=caf%C3%A9-secret-value"
	whole := NewSecretSetWith(RedactToken)
	whole.Add(vals...)
	want := whole.Scrub(text)
	grown := NewSecretSetWith(RedactToken)
	if got := grown.Scrub(text); got != text {
		t.Fatalf("empty set changed the text: %q", got)
	}
	for _, v := range vals {
		grown.Add(v)
		grown.Scrub(text)
	}
	if got := grown.Scrub(text); got != want {
		t.Errorf("grown set scrubs to\n%s\nwant\n%s", got, want)
	}
	for _, v := range vals {
		if strings.Contains(want, v) {
			t.Errorf("%q left in %s", v, want)
		}
	}
}

// TestSecretSetConcurrent: Add and Scrub from many goroutines (run with
// -race: the scrubber is updated in place under the lock).
func TestSecretSetConcurrent(t *testing.T) {
	s := NewSecretSet()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				v := fmt.Sprintf("secret-%d-%04d", g, i)
				s.Add(v)
				if out := s.Scrub("x " + v + " y"); strings.Contains(out, v) {
					t.Errorf("%q not scrubbed: %q", v, out)
					return
				}
			}
		})
	}
	wg.Wait()
}
