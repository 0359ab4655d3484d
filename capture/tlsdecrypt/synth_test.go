package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// Synthetic TLS 1.3 connections for what Go's crypto/tls does not send:
// KeyUpdate, 0-RTT data (accepted and rejected), record padding, key logs
// with only some of the secrets. Keys come from the same derivations the
// RFC 8448 vectors check; the records are sealed here.

type synth struct {
	random  []byte
	secrets map[string][]byte
	seq     map[string]uint64
	wire    []chunk
}

func newSynth() *synth {
	s := &synth{random: bytes.Repeat([]byte{0x42}, 32), secrets: map[string][]byte{}, seq: map[string]uint64{}}
	for i, l := range []string{labelClientEarly, labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic} {
		s.secrets[l] = bytes.Repeat([]byte{byte(0x10 + i)}, 32)
	}
	return s
}

func (s *synth) keyLog(labels ...string) string {
	var b strings.Builder
	for _, l := range labels {
		fmt.Fprintf(&b, "%s %x %x\n", l, s.random, s.secrets[l])
	}
	return b.String()
}

func hsMsg(typ byte, body []byte) []byte {
	m := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(m, body...)
}

func plainRecord(typ byte, b []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(b) >> 8), byte(len(b))}, b...)
}

func ext(typ uint16, body []byte) []byte {
	e := binary.BigEndian.AppendUint16(nil, typ)
	e = binary.BigEndian.AppendUint16(e, uint16(len(body)))
	return append(e, body...)
}

func (s *synth) clientHello(early bool) []byte {
	b := []byte{3, 3}
	b = append(b, s.random...)
	b = append(b, 0)                      // session id
	b = append(b, 0, 2, 0x13, 0x01, 1, 0) // suites, compression
	exts := ext(extSupportedVersions, []byte{2, 3, 4})
	exts = append(exts, ext(extServerName, []byte{0, 9, 0, 0, 6, 's', 'e', 'r', 'v', 'e', 'r'})...)
	exts = append(exts, ext(extALPN, []byte{0, 3, 2, 'h', '2'})...)
	if early {
		exts = append(exts, ext(extEarlyData, nil)...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(exts)))
	return plainRecord(recHandshake, hsMsg(hsClientHello, append(b, exts...)))
}

func synthServerHello() []byte {
	b := []byte{3, 3}
	b = append(b, bytes.Repeat([]byte{0x77}, 32)...)
	b = append(b, 0, 0x13, 0x01, 0)
	exts := ext(extSupportedVersions, []byte{3, 4})
	b = binary.BigEndian.AppendUint16(b, uint16(len(exts)))
	return plainRecord(recHandshake, hsMsg(hsServerHello, append(b, exts...)))
}

// seal encrypts inner content of type typ with the named secret (after
// updates KeyUpdates), adding pad zero bytes of padding.
func (s *synth) seal(t testing.TB, label string, updates int, typ byte, content []byte, pad int) []byte {
	t.Helper()
	st := suites[0x1301]
	secret := s.secrets[label]
	for i := 0; i < updates; i++ {
		var err error
		if secret, err = nextSecret13(st, secret); err != nil {
			t.Fatal(err)
		}
	}
	key, iv, err := trafficKeys13(st, secret)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newAEAD(st, key)
	k := fmt.Sprintf("%s/%d", label, updates)
	seq := s.seq[k]
	s.seq[k]++
	nonce := bytes.Clone(iv)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	inner := append(append(bytes.Clone(content), typ), make([]byte, pad)...)
	n := len(inner) + a.Overhead()
	hdr := []byte{recApplicationData, 3, 3, byte(n >> 8), byte(n)}
	return append(hdr, a.Seal(nil, nonce, inner, hdr)...)
}

func (s *synth) send(d Dir, b ...[]byte) {
	for _, x := range b {
		s.wire = append(s.wire, chunk{d, x})
	}
}

// handshake writes a full 1-RTT handshake with ALPN h2.
func (s *synth) handshake(t testing.TB, early bool) {
	s.send(Client, s.clientHello(early))
	s.send(Server, synthServerHello(), plainRecord(recChangeCipherSpec, []byte{1}))
	eeExts := ext(extALPN, []byte{0, 3, 2, 'h', '2'})
	if early {
		eeExts = append(eeExts, ext(extEarlyData, nil)...)
	}
	ee := hsMsg(hsEncryptedExtension, append(binary.BigEndian.AppendUint16(nil, uint16(len(eeExts))), eeExts...))
	fin := hsMsg(hsFinished, bytes.Repeat([]byte{9}, 32))
	// EncryptedExtensions and Finished in one record, as servers do.
	s.send(Server, s.seal(t, labelServerHandshake, 0, recHandshake, append(ee, fin...), 0))
}

func (s *synth) clientFinished(t testing.TB) {
	s.send(Client, plainRecord(recChangeCipherSpec, []byte{1}), s.seal(t, labelClientHandshake, 0, recHandshake, hsMsg(hsFinished, bytes.Repeat([]byte{8}, 32)), 0))
}

func (s *synth) run(t testing.TB, keyLog string, opts Options) (*collect, *Conn) {
	t.Helper()
	return decryptWire(t, &wire{chunks: s.wire}, keyLogOf(t, keyLog), opts, 0)
}

func TestKeyUpdate(t *testing.T) {
	s := newSynth()
	s.handshake(t, false)
	s.clientFinished(t)
	ticket := hsMsg(hsNewSessionTicket, make([]byte, 20))
	s.send(Server, s.seal(t, labelServerTraffic, 0, recHandshake, ticket, 0))
	s.send(Client, s.seal(t, labelClientTraffic, 0, recApplicationData, []byte("req1"), 0))
	s.send(Server, s.seal(t, labelServerTraffic, 0, recApplicationData, []byte("resp1"), 0))
	// The client updates its keys and asks the server to do the same.
	s.send(Client, s.seal(t, labelClientTraffic, 0, recHandshake, hsMsg(hsKeyUpdate, []byte{1}), 0))
	s.send(Client, s.seal(t, labelClientTraffic, 1, recApplicationData, []byte("req2"), 0))
	s.send(Server, s.seal(t, labelServerTraffic, 0, recHandshake, hsMsg(hsKeyUpdate, []byte{0}), 0))
	s.send(Server, s.seal(t, labelServerTraffic, 1, recApplicationData, []byte("resp2"), 100))
	// A second update of the client's keys.
	s.send(Client, s.seal(t, labelClientTraffic, 1, recHandshake, hsMsg(hsKeyUpdate, []byte{0}), 0))
	s.send(Client, s.seal(t, labelClientTraffic, 2, recApplicationData, []byte("req3"), 3))
	h, c := s.run(t, s.keyLog(labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic), Options{})
	if len(h.fails) > 0 {
		t.Fatal(h.fails)
	}
	if string(h.data[Client]) != "req1req2req3" || string(h.data[Server]) != "resp1resp2" {
		t.Fatalf("data %q %q", h.data[Client], h.data[Server])
	}
	if in := c.Info(); in.KeyUpdates != [2]int{2, 1} || in.ALPN != "h2" {
		t.Fatalf("info %+v", in)
	}
}

func TestEarlyData(t *testing.T) {
	for _, accepted := range []bool{true, false} {
		s := newSynth()
		s.send(Client, s.clientHello(true))
		s.send(Client, s.seal(t, labelClientEarly, 0, recApplicationData, []byte("early"), 0))
		s.send(Server, synthServerHello())
		eeExts := ext(extALPN, []byte{0, 3, 2, 'h', '2'})
		if accepted {
			eeExts = append(eeExts, ext(extEarlyData, nil)...)
		}
		ee := hsMsg(hsEncryptedExtension, append(binary.BigEndian.AppendUint16(nil, uint16(len(eeExts))), eeExts...))
		s.send(Server, s.seal(t, labelServerHandshake, 0, recHandshake, append(ee, hsMsg(hsFinished, make([]byte, 32))...), 0))
		if accepted {
			s.send(Client, s.seal(t, labelClientEarly, 0, recHandshake, hsMsg(hsEndOfEarlyData, nil), 0))
		}
		s.clientFinished(t)
		s.send(Client, s.seal(t, labelClientTraffic, 0, recApplicationData, []byte("late"), 0))
		h, c := s.run(t, s.keyLog(labelClientEarly, labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic), Options{})
		want := "late"
		if accepted {
			want = "earlylate"
		}
		if len(h.fails) > 0 || string(h.data[Client]) != want {
			t.Fatalf("accepted=%v: %v %q", accepted, h.fails, h.data[Client])
		}
		if c.Info().EarlyAccepted != accepted || !c.Info().EarlyData {
			t.Fatalf("info %+v", c.Info())
		}
	}
}

// TestPartialKeyLog: a key log with only the application secrets still
// gives the application data; one with only the handshake secrets gives
// the ALPN and says which secret is missing.
func TestPartialKeyLog(t *testing.T) {
	s := newSynth()
	s.handshake(t, false)
	s.clientFinished(t)
	s.send(Client, s.seal(t, labelClientTraffic, 0, recApplicationData, []byte("req"), 0))
	s.send(Server, s.seal(t, labelServerTraffic, 0, recApplicationData, []byte("resp"), 0))
	h, _ := s.run(t, s.keyLog(labelClientTraffic, labelServerTraffic), Options{})
	if len(h.fails) > 0 || string(h.data[Client]) != "req" || string(h.data[Server]) != "resp" {
		t.Fatalf("traffic secrets only: %v %q %q", h.fails, h.data[Client], h.data[Server])
	}
	h, c := s.run(t, s.keyLog(labelClientHandshake, labelServerHandshake), Options{})
	if len(h.fails) != 2 || h.fails[0].Kind != FailNoKeys || !strings.Contains(h.fails[0].Reason, "TRAFFIC_SECRET_0") || c.Info().ALPN != "h2" {
		t.Fatalf("handshake secrets only: %v %+v", h.fails, c.Info())
	}
	h, _ = s.run(t, s.keyLog(labelServerHandshake, labelServerTraffic), Options{})
	if len(h.fails) != 1 || h.fails[0].Dir != Client || string(h.data[Server]) != "resp" {
		t.Fatalf("server secrets only: %v", h.fails)
	}
}

// TestBadRecords: a record header that is not TLS, an oversized record,
// a gap and a stream cut inside a record stop the direction with a
// reason; nothing panics.
func TestBadRecords(t *testing.T) {
	base := func() *synth {
		s := newSynth()
		s.handshake(t, false)
		s.clientFinished(t)
		return s
	}
	keys := func(s *synth) string {
		return s.keyLog(labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic)
	}
	s := base()
	s.send(Server, []byte("HTTP/1.1 200 OK\r\n\r\n"))
	h, _ := s.run(t, keys(s), Options{})
	if len(h.fails) != 1 || h.fails[0].Kind != FailMalformed || h.fails[0].Dir != Server {
		t.Fatalf("not TLS: %v", h.fails)
	}
	s = base()
	s.send(Server, []byte{23, 3, 3, 0xff, 0xff})
	h, _ = s.run(t, keys(s), Options{})
	if len(h.fails) != 1 || !strings.Contains(h.fails[0].Reason, "more than the protocol allows") {
		t.Fatalf("oversized: %v", h.fails)
	}
	s = base()
	rec := s.seal(t, labelServerTraffic, 0, recApplicationData, []byte("resp"), 0)
	s.send(Server, rec[:10])
	h, _ = s.run(t, keys(s), Options{})
	if len(h.fails) != 1 || h.fails[0].Kind != FailTruncated {
		t.Fatalf("cut record: %v", h.fails)
	}
	s = base()
	h = &collect{}
	c := NewConn(keyLogOf(t, keys(s)), h, Options{})
	for _, ch := range s.wire {
		c.Feed(ch.d, ch.b)
	}
	c.Gap(Server, 100)
	c.Feed(Server, rec)
	c.Finish()
	if len(h.fails) != 1 || h.fails[0].Kind != FailBytesMissing || len(h.data[Server]) != 0 {
		t.Fatalf("gap: %v", h.fails)
	}
	// Midstream: nothing can be matched.
	h = &collect{}
	c = NewConn(keyLogOf(t, keys(s)), h, Options{})
	c.Midstream()
	c.Feed(Server, rec)
	c.Finish()
	if len(h.fails) != 2 || h.fails[0].Kind != FailNoHandshake {
		t.Fatalf("midstream: %v", h.fails)
	}
	// A connection that ends after the ClientHello.
	h = &collect{}
	c = NewConn(keyLogOf(t, keys(s)), h, Options{})
	ch := s.clientHello(false)
	c.Feed(Client, ch[:len(ch)-3])
	c.End(Client)
	c.Finish()
	if len(h.fails) == 0 || h.fails[0].Kind != FailTruncated {
		t.Fatalf("cut ClientHello: %v", h.fails)
	}
	_ = hex.EncodeToString
}
