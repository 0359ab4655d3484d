package capture

import (
	"encoding/binary"
	"slices"
	"strings"
)

// scrubber replaces every occurrence of a set of strings (the forms of
// the secrets seen) in a text, like a strings.Replacer built from the
// pairs longest first: leftmost match, the longest at that position.
//
// strings.Replacer walks a trie at every byte of the text, and tokens are
// made of the same letters and digits as the bodies they hide in, so it
// descends at nearly every byte; the live proxy scrubs every body it
// writes to its HAR file against thousands of secrets. The scrubber looks
// at four bytes every scrubStep positions instead: every secret is at
// least minScrubLen long, so any occurrence holds, at one of its first
// scrubStep offsets, four bytes at such a position. One bit of a hashed
// bitset says whether any secret has those four bytes at one of its
// first scrubStep offsets (almost never), and only then are the
// candidates compared. A text without a secret is returned as it is,
// without a copy.
type scrubber struct {
	bits []uint64
	// grams lists, per four bytes, where they sit in a secret (offset
	// below scrubStep) and the secret's length, each pair once; repl
	// maps each secret to its replacement. A match is looked up once per
	// pair, not once per secret: JWTs of one issuer share their first 36
	// bytes, and a capture holds thousands of them.
	grams map[uint32][]scrubAt
	repl  map[string]string
}

// scrubAt is a secret's length and the offset in it of four bytes.
type scrubAt struct{ off, n int }

// scrubBits is log2 of the bitset's size in bits (128 KiB): with a few
// thousand secrets a position falsely hits about one time in 100.
const scrubBits = 20

// scrubPrefix is how many bytes index a secret; scrubStep is the stride
// of the positions looked at, so that an occurrence of a secret of
// minScrubLen bytes or more always covers four bytes at one of them.
const (
	scrubPrefix = 4
	scrubStep   = minScrubLen - scrubPrefix + 1
)

// newScrubber builds a scrubber from old, new pairs; olds must be at
// least minScrubLen bytes long and distinct.
func newScrubber(pairs []string) *scrubber {
	s := &scrubber{bits: make([]uint64, 1<<scrubBits/64), grams: map[uint32][]scrubAt{}, repl: make(map[string]string, len(pairs)/2)}
	for i := 0; i+1 < len(pairs); i += 2 {
		s.add(pairs[i], pairs[i+1])
	}
	return s
}

// add makes the scrubber replace old (at least minScrubLen bytes long)
// with nw. Adding to a built scrubber costs the same as building it with
// the pair: a live capture learns a secret with every token it sees, and
// rebuilding from thousands of them each time cost more than scrubbing.
func (s *scrubber) add(old, nw string) {
	if len(old) < minScrubLen {
		panic("capture: scrubber: secret shorter than minScrubLen")
	}
	_, known := s.repl[old]
	s.repl[old] = nw
	if known {
		return
	}
	for off := 0; off < scrubStep; off++ {
		k := binary.LittleEndian.Uint32([]byte(old[off : off+scrubPrefix]))
		h := scrubHash(k)
		s.bits[h/64] |= 1 << (h % 64)
		at := scrubAt{off, len(old)}
		if !slices.Contains(s.grams[k], at) {
			s.grams[k] = append(s.grams[k], at)
		}
	}
}

func scrubHash(k uint32) uint32 { return (k * 0x9E3779B1) >> (32 - scrubBits) }

// Replace returns text with every secret replaced.
func (s *scrubber) Replace(text string) string {
	var b strings.Builder
	done := 0 // text[:done] is in b, or is text's part before any match
	for q := 0; q+scrubPrefix <= len(text); {
		k := uint32(text[q]) | uint32(text[q+1])<<8 | uint32(text[q+2])<<16 | uint32(text[q+3])<<24
		h := scrubHash(k)
		if s.bits[h/64]&(1<<(h%64)) == 0 {
			q += scrubStep
			continue
		}
		// Every occurrence starting in (q-scrubStep, q] and not overlapping
		// the last match is seen here; take the leftmost, then longest.
		at, n, nw := -1, 0, ""
		for _, g := range s.grams[k] {
			p := q - g.off
			if p < done || p+g.n > len(text) || at >= 0 && (p > at || p == at && g.n <= n) {
				continue
			}
			if r, ok := s.repl[text[p:p+g.n]]; ok {
				at, n, nw = p, g.n, r
			}
		}
		if at < 0 {
			q += scrubStep
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[done:at])
		b.WriteString(nw)
		done = at + n
		q = done
	}
	if b.Cap() == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}
