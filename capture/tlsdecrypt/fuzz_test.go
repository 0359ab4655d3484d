package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzKeyLog: any text parses without panicking, and what parses looks
// up.
func FuzzKeyLog(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM " + string(bytes.Repeat([]byte("ab"), 32)) + " " + string(bytes.Repeat([]byte("01"), 48)) + "\n"))
	f.Add([]byte("# comment\r\n\r\nSERVER_TRAFFIC_SECRET_0 00 00\n"))
	f.Add([]byte("\xef\xbb\xbfCLIENT_RANDOM\t" + string(bytes.Repeat([]byte("AB"), 32)) + "\t00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kl := NewKeyLog()
		st, _ := kl.ReadBytes(b, "fuzz")
		if kl.Len() != st.Randoms {
			t.Fatalf("%d randoms stored, %d counted", kl.Len(), st.Randoms)
		}
	})
}

// FuzzConn feeds arbitrary bytes as the two streams of a connection
// (split where the input says) with secrets for the client random the
// input may use: records are framed, handshakes parsed and records
// opened without panicking, and failures come with a reason.
func FuzzConn(f *testing.F) {
	s := newSynth()
	s.handshake(f, false)
	s.clientFinished(f)
	s.send(Client, s.seal(f, labelClientTraffic, 0, recApplicationData, []byte("GET / HTTP/1.1\r\n\r\n"), 0))
	s.send(Server, s.seal(f, labelServerTraffic, 0, recHandshake, hsMsg(hsKeyUpdate, []byte{0}), 0))
	s.send(Server, s.seal(f, labelServerTraffic, 1, recApplicationData, []byte("HTTP/1.1 200 OK\r\n\r\n"), 5))
	var seed []byte
	for _, c := range s.wire {
		// Each chunk: direction byte, 2-byte length, bytes.
		seed = append(seed, byte(c.d))
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(c.b)))
		seed = append(seed, c.b...)
	}
	f.Add(seed)
	f.Add([]byte{0, 0, 5, 22, 3, 1, 0, 0})
	f.Add([]byte{1, 0, 6, 23, 3, 3, 0, 1, 0})
	keys := s.keyLog(labelClientEarly, labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic)
	kl := NewKeyLog()
	kl.ReadBytes([]byte(keys+"CLIENT_RANDOM "+string(bytes.Repeat([]byte("42"), 32))[:64]+" "+string(bytes.Repeat([]byte("07"), 48))+"\n"), "fuzz")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := &collect{}
		c := NewConn(kl, h, Options{Sessions: NewSessionCache(), MaxHeld: 1 << 16})
		for len(b) >= 3 {
			d := Dir(b[0] & 1)
			n := int(binary.BigEndian.Uint16(b[1:3]))
			b = b[3:]
			if n > len(b) {
				n = len(b)
			}
			switch b0 := b; {
			case len(b0) > 0 && b[0] == 0xff && n == 1:
				c.Gap(d, 10)
			default:
				c.Feed(d, b[:n])
			}
			b = b[n:]
		}
		c.End(Client)
		c.End(Server)
		c.Finish()
		for _, fl := range h.fails {
			if fl.Reason == "" || fl.Kind == "" {
				t.Fatalf("failure without reason: %+v", fl)
			}
		}
		if len(h.fails) > 2 {
			t.Fatalf("%d failures for two directions", len(h.fails))
		}
	})
}

// FuzzRecordOpen opens arbitrary record payloads with the keys of every
// suite family (AEAD TLS 1.3 and 1.2, ChaCha20, CBC with and without
// encrypt-then-MAC): tag, MAC and padding checks reject without
// panicking, and what opens has a plausible length.
func FuzzRecordOpen(f *testing.F) {
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	master := bytes.Repeat([]byte{3}, 48)
	type keyset struct {
		seal *Sealer
		open func() *recordKeys
	}
	var sets []keyset
	for _, id := range []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xcca8, 0xc013, 0xc027, 0xc028} {
		s := suites[id]
		for _, etm := range []bool{false, true} {
			if etm && s.kind != kindCBC {
				continue
			}
			if s.tls13 {
				secret := bytes.Repeat([]byte{4}, s.hash().Size())
				seal, _ := NewSealer13(id, secret)
				sets = append(sets, keyset{seal, func() *recordKeys { k, _ := newKeys13(s, secret, "fuzz"); return k }})
				continue
			}
			seal, _, _ := NewSealers12(id, master, cr, sr, etm)
			etm := etm
			sets = append(sets, keyset{seal, func() *recordKeys {
				kb := deriveKeyBlock12(s, master, cr, sr)
				k, _ := newKeys12(s, kb.clientKey, kb.clientIV, kb.clientMAC, etm)
				return k
			}})
		}
	}
	for i, ks := range sets {
		rec := ks.seal.Seal(nil, recApplicationData, []byte("GET / HTTP/1.1\r\n\r\n"))
		f.Add(uint8(i), rec[5:])
		f.Add(uint8(i), rec[5:len(rec)-1])
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		ks := sets[int(which)%len(sets)]
		k := ks.open()
		hdr := []byte{recApplicationData, 3, 3, byte(len(payload) >> 8), byte(len(payload))}
		pt, _, err := k.open(nil, hdr, payload)
		if err == nil && len(pt) > len(payload) {
			t.Fatalf("%d bytes of plaintext from %d bytes", len(pt), len(payload))
		}
	})
}
