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
// at the first four bytes at each position instead: one bit of a hashed
// bitset says whether any secret starts with them (almost never), and
// only then are the candidates with that prefix compared. A text without
// a secret is returned as it is, without a copy.
type scrubber struct {
	bits []uint64
	// lens lists, per first four bytes, the distinct lengths of the
	// secrets that start with them, longest first; repl maps each
	// secret to its replacement. A match is looked up once per length,
	// not once per secret: JWTs of one issuer share their first 36
	// bytes, and a capture holds thousands of them.
	lens map[uint32][]int
	repl map[string]string
}

// scrubBits is log2 of the bitset's size in bits (128 KiB): with a few
// thousand secrets a position falsely hits about one time in 300.
const scrubBits = 20

// scrubPrefix is how many leading bytes index a secret; every searched
// form is at least minScrubLen long.
const scrubPrefix = 4

// newScrubber builds a scrubber from old, new pairs; olds must be at
// least scrubPrefix bytes long and distinct.
func newScrubber(pairs []string) *scrubber {
	s := &scrubber{bits: make([]uint64, 1<<scrubBits/64), lens: map[uint32][]int{}, repl: make(map[string]string, len(pairs)/2)}
	for i := 0; i+1 < len(pairs); i += 2 {
		s.add(pairs[i], pairs[i+1])
	}
	return s
}

// add makes the scrubber replace old (at least scrubPrefix bytes long)
// with nw. Adding to a built scrubber costs the same as building it with
// the pair: a live capture learns a secret with every token it sees, and
// rebuilding from thousands of them each time cost more than scrubbing.
func (s *scrubber) add(old, nw string) {
	_, known := s.repl[old]
	s.repl[old] = nw
	if known {
		return
	}
	k := binary.LittleEndian.Uint32([]byte(old[:scrubPrefix]))
	h := scrubHash(k)
	s.bits[h/64] |= 1 << (h % 64)
	l := s.lens[k]
	// Longest first.
	i, found := slices.BinarySearchFunc(l, len(old), func(a, b int) int { return b - a })
	if !found {
		s.lens[k] = slices.Insert(l, i, len(old))
	}
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
		for _, n := range s.lens[k] {
			if i+n > len(text) {
				continue
			}
			if nw, ok := s.repl[text[i:i+n]]; ok {
				if done == 0 {
					b.Grow(len(text))
				}
				b.WriteString(text[done:i])
				b.WriteString(nw)
				i += n
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
