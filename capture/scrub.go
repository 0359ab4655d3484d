package capture

import (
	"encoding/binary"
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
// at the first four bytes at each position instead: one bit of a hashed
// bitset says whether any secret starts with them (almost never), and
// only then are the candidates with that prefix compared. A text without
// a secret is returned as it is, without a copy.
type scrubber struct {
	bits  []uint64
	cands map[uint32][]scrubPair // by first four bytes, longest first
}

type scrubPair struct{ old, new string }

// scrubBits is log2 of the bitset's size in bits (128 KiB): with a few
// thousand secrets a position falsely hits about one time in 300.
const scrubBits = 20

// scrubPrefix is how many leading bytes index a secret; every searched
// form is at least minScrubLen long.
const scrubPrefix = 4

// newScrubber builds a scrubber from old, new pairs given longest old
// first (ties in any fixed order); olds must be at least scrubPrefix
// bytes long and distinct.
func newScrubber(pairs []string) *scrubber {
	s := &scrubber{bits: make([]uint64, 1<<scrubBits/64), cands: map[uint32][]scrubPair{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		old := pairs[i]
		k := binary.LittleEndian.Uint32([]byte(old[:scrubPrefix]))
		h := scrubHash(k)
		s.bits[h/64] |= 1 << (h % 64)
		// Appended in the given order: longest first per prefix too.
		s.cands[k] = append(s.cands[k], scrubPair{old, pairs[i+1]})
	}
	return s
}

func scrubHash(k uint32) uint32 { return (k * 0x9E3779B1) >> (32 - scrubBits) }

// Replace returns text with every secret replaced.
func (s *scrubber) Replace(text string) string {
	var b strings.Builder
	done := 0 // text[:done] is in b (when b is in use)
	for i := 0; i+scrubPrefix <= len(text); {
		k := uint32(text[i]) | uint32(text[i+1])<<8 | uint32(text[i+2])<<16 | uint32(text[i+3])<<24
		h := scrubHash(k)
		if s.bits[h/64]&(1<<(h%64)) == 0 {
			i++
			continue
		}
		matched := false
		for _, p := range s.cands[k] {
			if strings.HasPrefix(text[i:], p.old) {
				if done == 0 {
					b.Grow(len(text))
				}
				b.WriteString(text[done:i])
				b.WriteString(p.new)
				i += len(p.old)
				done = i
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}
