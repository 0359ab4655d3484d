package tlsdecrypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// Vectors from RFC 8448 §3 (Simple 1-RTT Handshake, TLS_AES_128_GCM_SHA256).

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

var (
	rfcClientRandom = hx(`cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7`)
	rfcClientHS     = hx(`b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21`)
	rfcServerHS     = hx(`b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38`)
	rfcClientAP     = hx(`9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5`)
	rfcServerAP     = hx(`a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43`)

	// The ClientHello and ServerHello records as sent.
	rfcClientHelloRecord = hx(`16 03 01 00 c4 01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12
		ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 06 73 65
		72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
		23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1
		3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04
		08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01`)
	rfcServerHelloRecord = hx(`16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14
		34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76
		2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04`)
	// {client} send handshake record: the encrypted Finished (client
	// handshake keys, sequence 0).
	rfcClientFinishedRecord = hx(`17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc
		44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46`)
	rfcClientFinished = hx(`14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2
		ed d5 ce 61`)
	// {client} send application_data record (client application keys,
	// sequence 0) and {server} the same payload (sequence 1, after its
	// NewSessionTicket).
	rfcClientAppRecord = hx(`17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b
		98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb
		21 69 49 15 e4`)
	rfcServerAppRecord = hx(`17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 e3
		0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32
		e1 67 c2 95 5d`)
)

func rfcPayload() []byte {
	b := make([]byte, 50)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestRFC8448TrafficKeys(t *testing.T) {
	s := suites[0x1301]
	for _, tc := range []struct {
		name    string
		secret  []byte
		key, iv string
	}{
		{"server handshake", rfcServerHS, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc", "5d 31 3e b2 67 12 76 ee 13 00 0b 30"},
		{"client handshake", rfcClientHS, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01", "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"},
		{"server application", rfcServerAP, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
		{"client application", rfcClientAP, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
	} {
		key, iv, err := trafficKeys13(s, tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(key, hx(tc.key)) || !bytes.Equal(iv, hx(tc.iv)) {
			t.Errorf("%s: key %x iv %x, want %s / %s", tc.name, key, iv, tc.key, tc.iv)
		}
	}
	// HKDF-Expand-Label's encoding (RFC 8448 shows the info bytes): the
	// derived "tls13 derived" secret of the early secret.
	early := hx(`33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2 10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a`)
	empty := sha256.Sum256(nil)
	got, err := hkdfExpandLabel(s.hash, early, "derived", empty[:], 32)
	if err != nil {
		t.Fatal(err)
	}
	if want := hx(`6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97 16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba`); !bytes.Equal(got, want) {
		t.Errorf("derived secret %x, want %x", got, want)
	}
}

func TestRFC8448Records(t *testing.T) {
	s := suites[0x1301]
	open := func(secret, rec []byte, seq uint64) ([]byte, byte) {
		t.Helper()
		k, err := newKeys13(s, secret, "test")
		if err != nil {
			t.Fatal(err)
		}
		k.seq = seq
		pt, typ, err := k.open(nil, rec[:5], rec[5:])
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if k.seq != seq+1 {
			t.Errorf("sequence %d after opening record %d", k.seq, seq)
		}
		return pt, typ
	}
	if pt, typ := open(rfcClientHS, rfcClientFinishedRecord, 0); typ != recHandshake || !bytes.Equal(pt, rfcClientFinished) {
		t.Errorf("client Finished: type %d, %x", typ, pt)
	}
	if pt, typ := open(rfcClientAP, rfcClientAppRecord, 0); typ != recApplicationData || !bytes.Equal(pt, rfcPayload()) {
		t.Errorf("client application data: type %d, %x", typ, pt)
	}
	if pt, typ := open(rfcServerAP, rfcServerAppRecord, 1); typ != recApplicationData || !bytes.Equal(pt, rfcPayload()) {
		t.Errorf("server application data: type %d, %x", typ, pt)
	}
	// A flipped bit, the wrong sequence number or the wrong secret fail
	// authentication and do not advance the sequence.
	k, _ := newKeys13(s, rfcClientAP, "test")
	bad := bytes.Clone(rfcClientAppRecord)
	bad[20] ^= 1
	if _, _, err := k.open(nil, bad[:5], bad[5:]); err != errAuth || k.seq != 0 {
		t.Errorf("tampered record: %v, seq %d", err, k.seq)
	}
	k.seq = 1
	if _, _, err := k.open(nil, rfcClientAppRecord[:5], rfcClientAppRecord[5:]); err != errAuth {
		t.Errorf("wrong sequence: %v", err)
	}
	k, _ = newKeys13(s, rfcServerAP, "test")
	if _, _, err := k.open(nil, rfcClientAppRecord[:5], rfcClientAppRecord[5:]); err != errAuth {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestRFC8448Conn runs the client side of the RFC 8448 trace through a
// Conn: ClientHello, ServerHello, the client's encrypted Finished and
// its application data, split at every byte boundary.
func TestRFC8448Conn(t *testing.T) {
	kl := NewKeyLog()
	log := "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + hex.EncodeToString(rfcClientRandom) + " " + hex.EncodeToString(rfcClientHS) + "\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + hex.EncodeToString(rfcClientRandom) + " " + hex.EncodeToString(rfcServerHS) + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + hex.EncodeToString(rfcClientRandom) + " " + hex.EncodeToString(rfcClientAP) + "\n" +
		"SERVER_TRAFFIC_SECRET_0 " + hex.EncodeToString(rfcClientRandom) + " " + hex.EncodeToString(rfcServerAP) + "\n"
	if st, err := kl.Read(strings.NewReader(log), "rfc8448.keys"); err != nil || st.Secrets != 4 || st.Randoms != 1 {
		t.Fatalf("key log: %+v %v", st, err)
	}
	client := append(append(bytes.Clone(rfcClientHelloRecord), 0x14, 3, 3, 0, 1, 1), append(bytes.Clone(rfcClientFinishedRecord), rfcClientAppRecord...)...)
	for split := 1; split <= len(client); split += 7 {
		h := &collect{}
		c := NewConn(kl, h, Options{})
		feedSplit(c, Client, rfcClientHelloRecord, split)
		feedSplit(c, Server, rfcServerHelloRecord, split)
		feedSplit(c, Client, client[len(rfcClientHelloRecord):], split)
		c.End(Client)
		c.Finish()
		if len(h.fails) > 0 {
			t.Fatalf("split %d: %v", split, h.fails)
		}
		if !bytes.Equal(h.data[Client], rfcPayload()) {
			t.Fatalf("split %d: client data %x", split, h.data[Client])
		}
		in := c.Info()
		if in.Version != 0x0304 || in.Suite != 0x1301 || in.SNI != "server" || !bytes.Equal(in.ClientRandom, rfcClientRandom) {
			t.Fatalf("info %+v", in)
		}
		// The record's range in the client stream.
		wantStart := int64(len(client) - len(rfcClientAppRecord))
		if h.ranges[0] != [2]int64{wantStart, int64(len(client))} {
			t.Errorf("split %d: range %v, want [%d %d]", split, h.ranges[0], wantStart, len(client))
		}
	}
}

func feedSplit(c *Conn, d Dir, b []byte, n int) {
	for len(b) > 0 {
		k := min(n, len(b))
		c.Feed(d, b[:k])
		b = b[k:]
	}
}

// collect is a Handler that keeps everything.
type collect struct {
	data   [2][]byte
	ranges [][2]int64
	fails  []Failure
}

func (h *collect) Data(d Dir, b []byte, start, end int64) {
	h.data[d] = append(h.data[d], b...)
	h.ranges = append(h.ranges, [2]int64{start, end})
}

func (h *collect) Failed(f Failure) { h.fails = append(h.fails, f) }

// TestPRF12 checks the TLS 1.2 PRF against the P_SHA256 test vector
// published on the IETF TLS working group list (also what `openssl kdf
// TLS1-PRF` prints for the same input).
func TestPRF12(t *testing.T) {
	got := prf12(sha256.New, hx("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"), "test label", hx("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"), 100)
	want := hx(`e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab
		4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66`)
	if !bytes.Equal(got, want) {
		t.Fatalf("PRF\n got %x\nwant %x", got, want)
	}
}
