package tlsdecrypt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real sessions of Go's crypto/tls, recorded byte for byte in both
// directions, must decrypt to exactly what the applications wrote.

type chunk struct {
	d Dir
	b []byte
}

// wire records what each side writes, in the order it was written.
type wire struct {
	mu     sync.Mutex
	chunks []chunk
}

type recConn struct {
	net.Conn
	d Dir
	w *wire
}

func (c recConn) Write(b []byte) (int, error) {
	c.w.mu.Lock()
	c.w.chunks = append(c.w.chunks, chunk{c.d, bytes.Clone(b)})
	c.w.mu.Unlock()
	return c.Conn.Write(b)
}

var (
	certOnce           sync.Once
	ecdsaCert, rsaCert tls.Certificate
)

func testCerts(t testing.TB) {
	certOnce.Do(func() {
		mk := func(key any, pub any) tls.Certificate {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test.local"}, DNSNames: []string{"test.local"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
			if err != nil {
				panic(err)
			}
			return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
		}
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecdsaCert = mk(ek, &ek.PublicKey)
		rk, _ := rsa.GenerateKey(rand.Reader, 2048)
		rsaCert = mk(rk, &rk.PublicKey)
	})
}

// session runs one TLS connection: the client writes each of reqs and
// reads the server's answer (the request echoed with a prefix, padded to
// respLen). It returns the wire and the key log.
type session struct {
	client, server *tls.Config
	reqs           [][]byte
	respLen        int
}

func (s session) run(t testing.TB) (*wire, string, [2][]byte) {
	t.Helper()
	var keys bytes.Buffer
	var mu sync.Mutex
	kw := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return keys.Write(p) })
	s.client.KeyLogWriter = kw
	s.client.InsecureSkipVerify = true
	if s.client.ServerName == "" {
		s.client.ServerName = "test.local"
	}
	// Loopback TCP, not net.Pipe: both sides may write at once (close
	// alerts), which would deadlock an unbuffered pipe.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	var want [2][]byte
	errc := make(chan error, 1)
	go func() {
		// Report only after Close has written its close_notify alert, so
		// the recorded wire is complete (and not raced) when run returns.
		var serr error
		defer func() { errc <- serr }()
		srv := tls.Server(recConn{b, Server, w}, s.server)
		defer srv.Close()
		buf := make([]byte, 64<<10)
		for range s.reqs {
			var got []byte
			for {
				n, err := srv.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					serr = err
					return
				}
				if bytes.HasSuffix(got, []byte("\n\n")) {
					break
				}
			}
			resp := append([]byte("echo:"), got...)
			for len(resp) < s.respLen {
				resp = append(resp, 'x')
			}
			want[Server] = append(want[Server], resp...)
			if _, err := srv.Write(resp); err != nil {
				serr = err
				return
			}
		}
	}()
	cl := tls.Client(recConn{a, Client, w}, s.client)
	for _, r := range s.reqs {
		if _, err := cl.Write(r); err != nil {
			t.Fatal(err)
		}
		want[Client] = append(want[Client], r...)
		n := len(r) + 5
		if n < s.respLen {
			n = s.respLen
		}
		if _, err := io.ReadFull(cl, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := <-errc; err != nil && err != io.EOF && !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
	return w, keys.String(), want
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func request(i, size int) []byte {
	b := []byte(fmt.Sprintf("GET /r%d HTTP/1.1\r\nHost: test.local\r\n", i))
	for len(b) < size {
		b = append(b, "X-Pad: 0123456789abcdef\r\n"...)
	}
	return append(b, "\n\n"...)
}

// decryptWire feeds the recorded chunks (re-split into pieces of at most
// split bytes) to a Conn.
func decryptWire(t testing.TB, w *wire, keys KeySource, opts Options, split int) (*collect, *Conn) {
	t.Helper()
	h := &collect{}
	c := NewConn(keys, h, opts)
	for _, ch := range w.chunks {
		b := ch.b
		for len(b) > 0 {
			k := len(b)
			if split > 0 && k > split {
				k = split
			}
			c.Feed(ch.d, b[:k])
			b = b[k:]
		}
	}
	c.End(Client)
	c.End(Server)
	c.Finish()
	return h, c
}

func keyLogOf(t testing.TB, text string) *KeyLog {
	t.Helper()
	kl := NewKeyLog()
	if _, err := kl.Read(strings.NewReader(text), "keys"); err != nil {
		t.Fatal(err)
	}
	return kl
}

func TestGoTLS(t *testing.T) {
	testCerts(t)
	type tc struct {
		name    string
		version uint16
		suite   uint16
		cert    tls.Certificate
	}
	var cases []tc
	for _, s := range []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	} {
		cases = append(cases, tc{tls.CipherSuiteName(s), tls.VersionTLS12, s, ecdsaCert})
	}
	for _, s := range []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	} {
		cases = append(cases, tc{tls.CipherSuiteName(s), tls.VersionTLS12, s, rsaCert})
	}
	cases = append(cases, tc{"TLS 1.3 ECDSA", tls.VersionTLS13, 0, ecdsaCert}, tc{"TLS 1.3 RSA", tls.VersionTLS13, 0, rsaCert})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := &tls.Config{MinVersion: c.version, MaxVersion: c.version, NextProtos: []string{"h2", "http/1.1"}}
			sc := &tls.Config{Certificates: []tls.Certificate{c.cert}, MinVersion: c.version, MaxVersion: c.version, NextProtos: []string{"http/1.1"}}
			if c.suite != 0 {
				cc.CipherSuites = []uint16{c.suite}
				sc.CipherSuites = []uint16{c.suite}
			}
			// Requests from tiny to several records long.
			s := session{client: cc, server: sc, reqs: [][]byte{request(0, 10), request(1, 3000), request(2, 40000)}, respLen: 50000}
			w, keys, want := s.run(t)
			for _, split := range []int{0, 1, 7, 1448} {
				h, conn := decryptWire(t, w, keyLogOf(t, keys), Options{}, split)
				if len(h.fails) > 0 {
					t.Fatalf("split %d: %v", split, h.fails)
				}
				for d := range want {
					if !bytes.Equal(h.data[d], want[d]) {
						t.Fatalf("split %d: %s data differs: %d bytes, want %d", split, Dir(d), len(h.data[d]), len(want[d]))
					}
				}
				in := conn.Info()
				if in.Version != c.version || (c.suite != 0 && in.Suite != c.suite) || in.ALPN != "http/1.1" || in.SNI != "test.local" {
					t.Fatalf("info %+v", in)
				}
			}
		})
	}
}

// TestGoTLSHelloRetry: the server accepts only P-256, so the client's
// first key share is refused with a HelloRetryRequest.
func TestGoTLSHelloRetry(t *testing.T) {
	testCerts(t)
	cc := &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	sc := &tls.Config{Certificates: []tls.Certificate{ecdsaCert}, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP256}}
	w, keys, want := session{client: cc, server: sc, reqs: [][]byte{request(0, 100)}, respLen: 100}.run(t)
	h, conn := decryptWire(t, w, keyLogOf(t, keys), Options{}, 0)
	if len(h.fails) > 0 || !bytes.Equal(h.data[Client], want[Client]) || !bytes.Equal(h.data[Server], want[Server]) {
		t.Fatalf("fails %v, data %q / %q", h.fails, h.data[Client], h.data[Server])
	}
	if !conn.Info().HelloRetry {
		t.Fatal("no HelloRetryRequest seen: the test did not force one")
	}
}

// TestGoTLSResumption: a TLS 1.2 session resumed from a ticket is not
// logged again by Go's client; the master secret of the first connection
// is used.
func TestGoTLSResumption(t *testing.T) {
	testCerts(t)
	cache := tls.NewLRUClientSessionCache(4)
	sc := &tls.Config{Certificates: []tls.Certificate{ecdsaCert}, MaxVersion: tls.VersionTLS12}
	sessions := NewSessionCache()
	var kl = NewKeyLog()
	for i := 0; i < 2; i++ {
		cc := &tls.Config{MaxVersion: tls.VersionTLS12, ClientSessionCache: cache}
		w, keys, want := session{client: cc, server: sc, reqs: [][]byte{request(i, 100)}, respLen: 100}.run(t)
		if _, err := kl.Read(strings.NewReader(keys), "keys"); err != nil && i == 0 {
			t.Fatal(err)
		}
		h, conn := decryptWire(t, w, kl, Options{Sessions: sessions}, 0)
		if len(h.fails) > 0 || !bytes.Equal(h.data[Server], want[Server]) {
			t.Fatalf("connection %d: %v", i, h.fails)
		}
		if got := conn.Info().Resumed; got != (i == 1) {
			t.Fatalf("connection %d: resumed %v", i, got)
		}
	}
	// Without the session cache the resumed connection has no keys.
	cc := &tls.Config{MaxVersion: tls.VersionTLS12, ClientSessionCache: cache}
	w, _, _ := session{client: cc, server: sc, reqs: [][]byte{request(9, 100)}, respLen: 100}.run(t)
	h, _ := decryptWire(t, w, kl, Options{}, 0)
	if len(h.fails) != 2 || h.fails[0].Kind != FailNoKeys {
		t.Fatalf("fails %v", h.fails)
	}
}

func TestGoTLSBadKeys(t *testing.T) {
	testCerts(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc := &tls.Config{MaxVersion: v}
		sc := &tls.Config{Certificates: []tls.Certificate{ecdsaCert}, MaxVersion: v}
		w, keys, _ := session{client: cc, server: sc, reqs: [][]byte{request(0, 100)}, respLen: 100}.run(t)
		// No key log at all, and a key log for other connections.
		for _, ks := range []KeySource{nil, keyLogOf(t, "# nothing\n")} {
			h, _ := decryptWire(t, w, ks, Options{}, 0)
			if len(h.fails) != 2 || h.fails[0].Kind != FailNoKeys || !strings.Contains(h.fails[0].Reason, "client random") {
				t.Fatalf("%s: %v", VersionName(v), h.fails)
			}
		}
		// Every secret with one bit flipped: authentication fails.
		var bad strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(keys), "\n") {
			f := strings.Fields(line)
			s := []byte(f[2])
			if s[0] == '0' {
				s[0] = '1'
			} else {
				s[0] = '0'
			}
			fmt.Fprintf(&bad, "%s %s %s\n", f[0], f[1], s)
		}
		h, _ := decryptWire(t, w, keyLogOf(t, bad.String()), Options{}, 0)
		if len(h.fails) != 2 || h.fails[0].Kind != FailAuth || len(h.data[0])+len(h.data[1]) != 0 {
			t.Fatalf("%s: wrong keys: %v, %d bytes", VersionName(v), h.fails, len(h.data[0])+len(h.data[1]))
		}
		// A damaged record in the server's direction stops that
		// direction only.
		dam := &wire{}
		last := -1
		for i, c := range w.chunks {
			if c.d == Server && len(c.b) > 60 {
				last = i
			}
		}
		for i, c := range w.chunks {
			b := bytes.Clone(c.b)
			if i == last {
				b[len(b)-3] ^= 0x40
			}
			dam.chunks = append(dam.chunks, chunk{c.d, b})
		}
		h, _ = decryptWire(t, dam, keyLogOf(t, keys), Options{}, 0)
		if len(h.fails) != 1 || h.fails[0].Dir != Server || h.fails[0].Kind != FailAuth || len(h.data[Client]) == 0 {
			t.Fatalf("%s: damaged record: %v", VersionName(v), h.fails)
		}
		// Keys that arrive later (a Decryption Secrets Block after the
		// connection) are used when the connection waits for them.
		kl := NewKeyLog()
		h = &collect{}
		c := NewConn(kl, h, Options{WaitForKeys: true})
		for _, ch := range w.chunks {
			c.Feed(ch.d, ch.b)
		}
		if !c.Waiting() || len(h.data[0]) > 0 {
			t.Fatalf("not waiting")
		}
		kl.Read(strings.NewReader(keys), "late")
		if !c.Retry() {
			t.Fatalf("%s: retry failed: %v", VersionName(v), h.fails)
		}
		c.Finish()
		if len(h.fails) > 0 || len(h.data[Server]) == 0 {
			t.Fatalf("%s: late keys: %v", VersionName(v), h.fails)
		}
	}
}
