package capture

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// The scrubber needs every searched form to be at least scrubPrefix long.
const _ = uint(minScrubLen - scrubPrefix)

// scrubPairs builds the pairs as SecretSet.Scrub does: distinct olds,
// longest first, ties in order.
func scrubPairs(olds []string) []string {
	seen := map[string]bool{}
	var vals []string
	for _, v := range olds {
		if len(v) >= minScrubLen && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	var pairs []string
	for i, v := range vals {
		pairs = append(pairs, v, "<"+strings.Repeat("x", i%3)+">")
	}
	return pairs
}

func TestScrubberLikeReplacer(t *testing.T) {
	for _, c := range []struct {
		text string
		olds []string
	}{
		{"no secret here at all", []string{"secret-token-1"}},
		{"Bearer secret-token-1 and secret-token-12", []string{"secret-token-1", "secret-token-12"}},
		{"code=abcdef&code=abcdefgh", []string{"abcdef", "abcdefgh", "bcdefg"}},
		{"aaaaaaaaaaaa", []string{"aaaaaa", "aaaaaaa"}},
		{"secret", []string{"secret"}},
		{"", []string{"secret"}},
		{"tok%2Fen-value tok/en-value", []string{"tok/en-value", "tok%2Fen-value"}},
		{"xyz", nil},
	} {
		pairs := scrubPairs(c.olds)
		want := strings.NewReplacer(pairs...).Replace(c.text)
		if got := newScrubber(pairs).Replace(c.text); got != want {
			t.Errorf("Replace(%q) with %q = %q, want %q", c.text, c.olds, got, want)
		}
	}
}

// The scrubber looks at every scrubStep-th position: a secret must be
// found at every offset from them, at the very end of the text, right
// after another, and overlapping one.
func TestScrubberEveryOffset(t *testing.T) {
	olds := []string{"abcdef", "abcdefghij", "bcdefg", "123456"}
	pairs := scrubPairs(olds)
	for pad := 0; pad < 2*scrubStep+1; pad++ {
		for _, tail := range []string{"", "x", "xy", "xyz", " 123456", "123456"} {
			text := strings.Repeat("-", pad) + "abcdefghij" + tail + strings.Repeat("-", pad%scrubStep) + "bcdefg"
			want := strings.NewReplacer(pairs...).Replace(text)
			if got := newScrubber(pairs).Replace(text); got != want {
				t.Errorf("Replace(%q) = %q, want %q", text, got, want)
			}
		}
	}
}

func TestScrubberRefusesShortSecret(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a secret shorter than minScrubLen was accepted: it could be missed between the positions looked at")
		}
	}()
	newScrubber([]string{"abcde", "<x>"})
}

// A text without a secret comes back as it is, not copied.
func TestScrubberNoCopyWithoutMatch(t *testing.T) {
	text := strings.Repeat(`{"id":1,"name":"item","tags":["a","b"]},`, 200)
	s := newScrubber(scrubPairs([]string{"secret-token-value", "another-secret"}))
	if n := testing.AllocsPerRun(20, func() { _ = s.Replace(text) }); n != 0 {
		t.Errorf("%v allocations for a text without a secret", n)
	}
}

// FuzzScrubber: the scrubber replaces exactly as strings.Replacer does,
// with secrets cut from the text itself (so that they match, overlap and
// nest).
func FuzzScrubber(f *testing.F) {
	f.Add("Bearer abcdefghij and abcdefgh", []byte{7, 17, 7, 15, 9, 20})
	f.Add("aaaaaaaaaaaaaaaa", []byte{0, 6, 0, 7, 1, 9})
	f.Add("code=xyz123456&state=xyz1234567", []byte{5, 14, 22, 32})
	f.Fuzz(func(t *testing.T, text string, cuts []byte) {
		var olds []string
		for i := 0; i+1 < len(cuts); i += 2 {
			a, b := int(cuts[i]), int(cuts[i+1])
			if a < b && b <= len(text) {
				olds = append(olds, text[a:b])
			}
		}
		pairs := scrubPairs(olds)
		want := strings.NewReplacer(pairs...).Replace(text)
		if got := newScrubber(pairs).Replace(text); got != want {
			t.Fatalf("Replace(%q) with %q = %q, want %q", text, olds, got, want)
		}
		// Built one pair at a time, in the other order (as SecretSet.Add
		// grows it), it replaces alike.
		inc := newScrubber(nil)
		for i := len(pairs) - 2; i >= 0; i -= 2 {
			inc.add(pairs[i], pairs[i+1])
		}
		if got := inc.Replace(text); got != want {
			t.Fatalf("incremental Replace(%q) with %q = %q, want %q", text, olds, got, want)
		}
	})
}

// BenchmarkScrubber: an 8 KiB API body and a token response holding a
// JWT, against 4000 JWT-shaped secrets that share their first 36 bytes
// (one issuer's tokens), as the live proxy's HAR writer sees them after a
// busy session.
func BenchmarkScrubber(b *testing.B) {
	head := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
	var olds []string
	for i := range 4000 {
		olds = append(olds, fmt.Sprintf("%seyJzdWIiOiJjbGllbnQtJTA2ZCIsImp0aSI6%06d.c2lnbmF0dXJl%d", head, i, i%7))
	}
	s := newScrubber(scrubPairs(olds))
	api := strings.Repeat(`{"id":1,"name":"item","tags":["a","b"]},`, 200)
	tok := `{"access_token":"` + olds[1234] + `","token_type":"Bearer","id_token":"` + head + `eyJzdWIiOiJ1c2VyIn0.sig"}`
	b.Run("api-body", func(b *testing.B) {
		b.SetBytes(int64(len(api)))
		for b.Loop() {
			s.Replace(api)
		}
	})
	b.Run("token-response", func(b *testing.B) {
		b.SetBytes(int64(len(tok)))
		for b.Loop() {
			s.Replace(tok)
		}
	})
}
