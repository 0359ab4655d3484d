package tlsdecrypt

import (
	"bytes"
	"testing"
)

// TestSealOpen: records sealed by the Sealer (used to write benchmark
// captures) open with the decryptor's keys, for every suite family.
func TestSealOpen(t *testing.T) {
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	master := bytes.Repeat([]byte{3}, 48)
	for id, s := range suites {
		for _, etm := range []bool{false, true} {
			if etm && s.kind != kindCBC {
				continue
			}
			var seal *Sealer
			var open *recordKeys
			if s.tls13 {
				secret := bytes.Repeat([]byte{4}, s.hash().Size())
				seal, _ = NewSealer13(id, secret)
				open, _ = newKeys13(s, secret, "test")
			} else {
				c, _, err := NewSealers12(id, master, cr, sr, etm)
				if err != nil {
					t.Fatal(err)
				}
				seal = c
				kb := deriveKeyBlock12(s, master, cr, sr)
				open, _ = newKeys12(s, kb.clientKey, kb.clientIV, kb.clientMAC, etm)
			}
			for _, n := range []int{0, 1, 15, 16, 17, 1000, 16384} {
				pt := bytes.Repeat([]byte{byte(n)}, n)
				rec := seal.Seal(nil, recApplicationData, pt)
				got, typ, err := open.open(nil, rec[:5], rec[5:])
				if err != nil || typ != recApplicationData || !bytes.Equal(got, pt) {
					t.Fatalf("%s etm=%v %d bytes: %v type %d", s.name, etm, n, err, typ)
				}
			}
			if s.tls13 {
				seal.Update()
				open, _ = open.update()
				rec := seal.Seal(nil, recHandshake, []byte("after update"))
				if got, _, err := open.open(nil, rec[:5], rec[5:]); err != nil || string(got) != "after update" {
					t.Fatalf("%s after update: %v", s.name, err)
				}
			}
		}
	}
}
