// Command gen is the server and the Go client used to record the TLS
// test captures of capture/pcap/testdata/tls (see gen.sh, which also runs
// curl, Node, OpenSSL and Chromium against the server and captures the
// loopback traffic with tcpdump).
//
//	go run ./capture/pcap/testdata/tls/gen server -addr 127.0.0.1:8443
//	go run ./capture/pcap/testdata/tls/gen client -url https://127.0.0.1:8443 -version 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 -keylog k.log
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: gen server|client [flags]")
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		log.Fatalf("unknown mode %q", os.Args[1])
	}
}

func certs() []tls.Certificate {
	mk := func(key, pub any) tls.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "as.oauthlint.test"},
			DNSNames: []string{"as.oauthlint.test", "localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
		if err != nil {
			log.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	return []tls.Certificate{mk(ek, &ek.PublicKey), mk(rk, &rk.PublicKey)}
}

// handler answers like a small authorization server and MCP resource.
func handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case r.URL.Path == "/.well-known/oauth-authorization-server":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": "https://" + r.Host, "authorization_endpoint": "https://" + r.Host + "/authorize",
			"token_endpoint": "https://" + r.Host + "/token", "response_types_supported": []string{"code"},
			"code_challenge_methods_supported": []string{"S256"},
		})
	case r.URL.Path == "/authorize":
		q := r.URL.Query()
		loc := q.Get("redirect_uri") + "?code=SplxlOBeZQQYbYS6WxSbIA&state=" + url.QueryEscape(q.Get("state"))
		http.Redirect(w, r, loc, http.StatusFound)
	case r.URL.Path == "/token":
		w.Header().Set("Content-Type", "application/json")
		if !strings.Contains(string(body), "grant_type=") {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_request"}`)
			return
		}
		io.WriteString(w, `{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600}`)
	case r.URL.Path == "/mcp" && r.Header.Get("Authorization") == "":
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://`+r.Host+`/.well-known/oauth-protected-resource"`)
		w.WriteHeader(401)
	default:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s (%d bytes)\n", r.Method, r.URL.RequestURI(), len(body))
	}
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8443", "listen address")
	p256 := fs.Bool("p256-only", false, "accept only P-256 key shares (forces a HelloRetryRequest from X25519 clients)")
	fs.Parse(args)
	suites := []uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		suites = append(suites, s.ID)
	}
	cfg := &tls.Config{Certificates: certs(), CipherSuites: suites, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if *p256 {
		cfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	}
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(handler), TLSConfig: cfg}
	http2.ConfigureServer(srv, nil)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Serve(tls.NewListener(ln, cfg)))
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	base := fs.String("url", "https://127.0.0.1:8443", "server")
	version := fs.String("version", "1.3", "TLS version: 1.2 or 1.3")
	suite := fs.String("suite", "", "TLS 1.2 cipher suite name")
	h2 := fs.Bool("h2", false, "speak HTTP/2")
	keylog := fs.String("keylog", "", "key log file (appended)")
	fs.Parse(args)
	kw, err := os.OpenFile(*keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer kw.Close()
	cfg := &tls.Config{InsecureSkipVerify: true, KeyLogWriter: kw, ServerName: "as.oauthlint.test"}
	switch *version {
	case "1.2":
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	case "1.3":
		cfg.MinVersion = tls.VersionTLS13
	}
	if *suite != "" {
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if s.Name == *suite {
				cfg.CipherSuites = []uint16{s.ID}
			}
		}
		if cfg.CipherSuites == nil {
			log.Fatalf("unknown suite %s", *suite)
		}
	}
	var rt http.RoundTripper
	if *h2 {
		rt = &http2.Transport{TLSClientConfig: cfg}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
		rt = &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: false, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	}
	c := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, body string, hdr ...string) {
		req, _ := http.NewRequest(method, *base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("GET", "/mcp", "")
	do("GET", "/.well-known/oauth-authorization-server", "")
	do("GET", "/authorize?response_type=code&client_id=demo&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&state=af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", "")
	do("POST", "/token", "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&client_id=demo&code_verifier=dBjftJeZ4CVP-mJ92K1s-QQ4cm6Z8b4v3yZ0xW9J3nc")
	do("GET", "/mcp", "", "Authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA")
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
