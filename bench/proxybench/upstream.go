package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The upstream: a small JSON API and an OAuth-ish authorization server,
// with bodies of 1–20 KB built once so the upstream costs little CPU.
//
//	GET  /api/items?page=N&size=KB   a JSON list of about KB KiB (1–20)
//	POST /api/items                  echoes a created item (~0.5 KB)
//	POST /oauth/token                a fresh token response each time (~1.3 KB)
//	GET  /.well-known/oauth-authorization-server   metadata (~1.5 KB)
//
// Its certificates come from its own CA (upstream-ca.pem in -dir, which the
// proxies are told to trust), one per host it is reached as, minted on
// first use: the wildcard listener answers for every 127.x.y.z.

func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	dir := fs.String("dir", ".", "where to write upstream-ca.pem and upstream.addr (host:port)")
	port := fs.Int("port", 0, "port (0: any free one)")
	fs.Parse(args)

	ca, err := newUpstreamCA()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "upstream-ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}), 0o644); err != nil {
		return err
	}
	ln, err := listenLoopbackAll(*port)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	srv := &http.Server{
		Handler:           newAPI(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
		TLSConfig: &tls.Config{
			GetCertificate: ca.certFor,
			NextProtos:     []string{"h2", "http/1.1"},
		},
	}
	// Silence "TLS handshake error" lines from clients that go away.
	srv.ErrorLog = discardLog()
	if err := os.WriteFile(filepath.Join(*dir, "upstream.addr"), []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "upstream: listening on %s (and every 127.x.y.z on that port)\n", addr)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() { <-sigs; srv.Close() }()
	err = srv.ServeTLS(ln, "", "")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// listenLoopbackAll listens on port on every address of this machine but
// bound to the loopback device (root; Linux), and drops any peer that is
// not a loopback address whatever happened with the device binding.
func listenLoopbackAll(port int) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		c.Control(func(fd uintptr) {
			// Best effort: without it the loopback check below still
			// turns every outside peer away at once.
			_ = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "lo")
		})
		return nil
	}}
	ln, err := lc.Listen(nilCtx(), "tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return loopbackOnly{ln}, nil
}

type loopbackOnly struct{ net.Listener }

func (l loopbackOnly) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && a.IP.IsLoopback() {
			return c, nil
		}
		c.Close()
	}
}

// upstreamCA signs one leaf per host the upstream is reached as, all with
// the same key (minting costs one signature).
type upstreamCA struct {
	cert   *x509.Certificate
	der    []byte
	key    *ecdsa.PrivateKey
	leafKy *ecdsa.PrivateKey
	leaves sync.Map // host -> *tls.Certificate
}

func newUpstreamCA() (*upstreamCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "proxybench upstream CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &upstreamCA{cert: cert, der: der, key: key, leafKy: leafKey}, nil
}

var serial atomic.Int64

func (ca *upstreamCA) certFor(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := hello.ServerName
	if host == "" && hello.Conn != nil {
		if a, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
			host = a.IP.String()
		}
	}
	if c, ok := ca.leaves.Load(host); ok {
		return c.(*tls.Certificate), nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1) + 1),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leafKy.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, _ := x509.ParseCertificate(der)
	c := &tls.Certificate{Certificate: [][]byte{der, ca.der}, PrivateKey: ca.leafKy, Leaf: leaf}
	got, _ := ca.leaves.LoadOrStore(host, c)
	return got.(*tls.Certificate), nil
}

// api serves the upstream's endpoints from bodies built once.
type api struct {
	items    [21][]byte // items[kb]: a JSON list of about kb KiB
	created  []byte
	metadata []byte
	tokens   atomic.Int64
}

func newAPI() *api {
	a := &api{}
	for kb := 1; kb <= 20; kb++ {
		a.items[kb] = itemsJSON(kb << 10)
	}
	a.created, _ = json.Marshal(map[string]any{
		"id": "itm_01HZX3K8Q2V7N9", "status": "created", "name": "bench item", "owner": "usr_4821",
		"created_at": "2025-01-01T12:00:00Z", "tags": []string{"bench", "proxy", "load"},
		"links":       map[string]string{"self": "/api/items/itm_01HZX3K8Q2V7N9", "owner": "/api/users/usr_4821"},
		"description": strings.Repeat("A created item, echoed back by the benchmark upstream. ", 5),
	})
	a.metadata, _ = json.MarshalIndent(map[string]any{
		"issuer":                                "https://127.0.0.1",
		"authorization_endpoint":                "https://127.0.0.1/oauth/authorize",
		"token_endpoint":                        "https://127.0.0.1/oauth/token",
		"jwks_uri":                              "https://127.0.0.1/.well-known/jwks.json",
		"registration_endpoint":                 "https://127.0.0.1/oauth/register",
		"revocation_endpoint":                   "https://127.0.0.1/oauth/revoke",
		"introspection_endpoint":                "https://127.0.0.1/oauth/introspect",
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access", "items:read", "items:write"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"service_documentation":                 "https://127.0.0.1/docs",
		"ui_locales_supported":                  []string{"en-US", "fr-FR", "de-DE"},
	}, "", "  ")
	return a
}

func itemsJSON(size int) []byte {
	type item struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Owner       string   `json:"owner"`
		Email       string   `json:"email"`
		CreatedAt   string   `json:"created_at"`
		Tags        []string `json:"tags"`
		Price       float64  `json:"price"`
		Description string   `json:"description"`
	}
	var list []item
	n := 0
	for i := 0; n < size-200; i++ {
		it := item{ID: fmt.Sprintf("itm_%08d", i), Name: fmt.Sprintf("Item number %d", i), Owner: fmt.Sprintf("usr_%04d", i%977),
			Email: fmt.Sprintf("user%d@example.com", i%977), CreatedAt: time.Date(2025, 1, 1+i%28, i%24, i%60, 0, 0, time.UTC).Format(time.RFC3339),
			Tags: []string{"alpha", "beta", "gamma"}[:1+i%3], Price: float64(i%10000) / 100,
			Description: "A realistic-looking item description of moderate length for the proxy benchmark."}
		b, _ := json.Marshal(it)
		n += len(b) + 1
		list = append(list, it)
	}
	b, _ := json.Marshal(map[string]any{"items": list, "next": "/api/items?page=2", "total": 12345})
	return b
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch {
	case r.URL.Path == "/api/items" && r.Method == http.MethodGet:
		kb, _ := strconv.Atoi(r.URL.Query().Get("size"))
		kb = min(max(kb, 1), 20)
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "private, max-age=0")
		h.Set("Content-Length", strconv.Itoa(len(a.items[kb])))
		w.Write(a.items[kb])
	case r.URL.Path == "/api/items" && r.Method == http.MethodPost:
		io.Copy(io.Discard, r.Body)
		h.Set("Content-Type", "application/json")
		h.Set("Location", "/api/items/itm_01HZX3K8Q2V7N9")
		h.Set("Content-Length", strconv.Itoa(len(a.created)))
		w.WriteHeader(http.StatusCreated)
		w.Write(a.created)
	case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
		r.ParseForm()
		b := a.token(r.PostForm.Get("scope"))
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	case r.URL.Path == "/.well-known/oauth-authorization-server":
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Content-Length", strconv.Itoa(len(a.metadata)))
		w.Write(a.metadata)
	default:
		http.NotFound(w, r)
	}
}

// token is a fresh token response: a JWT-shaped access token (unsigned
// padding in place of a signature) and a refresh token, unique per call.
func (a *api) token(scope string) []byte {
	n := a.tokens.Add(1)
	if scope == "" {
		scope = "items:read items:write"
	}
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"ES256","typ":"at+jwt","kid":"bench-2025"}`))
	now := time.Now().Unix()
	claims := fmt.Sprintf(`{"iss":"https://127.0.0.1","sub":"client-%d","aud":"https://127.0.0.1/api","client_id":"bench-client","scope":%q,"iat":%d,"exp":%d,"jti":"%016x"}`,
		n%64, scope, now, now+3600, n)
	sig := make([]byte, 64)
	for i := range sig {
		sig[i] = byte(n >> (i % 8))
	}
	at := head + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
	b, _ := json.Marshal(map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    3600,
		"refresh_token": fmt.Sprintf("rt_%016x%016x", n*7919, n*104729),
		"scope":         scope,
	})
	return b
}
