package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/certs"
	"github.com/oauthlint/oauthlint/mitm"
)

// The baseline: a bare goproxy MITM. Same CA files as oauthlint capture
// (signed by goproxy's own signer, with a certificate cache as goproxy's
// docs advise), the same upstream transport settings as oauthlint's (so
// the difference measured is recording and analysis, not pooling), no
// handlers, nothing recorded.

func runGoproxy(args []string) error {
	fs := flag.NewFlagSet("goproxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address (loopback)")
	caDir := fs.String("ca-dir", "", "oauthlint CA directory (ca.pem, ca-key.pem); created if missing")
	upstreamCA := fs.String("upstream-ca", "", "PEM CA to trust for upstream servers")
	addrFile := fs.String("addr-file", "", "write the listen address here once listening")
	pprofAddr := fs.String("pprof", "", "serve /debug/pprof/ on this loopback address")
	fs.Parse(args)
	servePprof(*pprofAddr)

	if _, _, err := certs.LoadOrCreate(*caDir); err != nil {
		return err
	}
	ca, err := tls.LoadX509KeyPair(filepath.Join(*caDir, certs.CertFile), filepath.Join(*caDir, certs.KeyFile))
	if err != nil {
		return err
	}
	if ca.Leaf, err = x509.ParseCertificate(ca.Certificate[0]); err != nil {
		return err
	}
	var roots *x509.CertPool
	if *upstreamCA != "" {
		b, err := os.ReadFile(*upstreamCA)
		if err != nil {
			return err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return fmt.Errorf("%s: no PEM certificate", *upstreamCA)
		}
	}
	gp := goproxy.NewProxyHttpServer()
	// As in mitm.New.
	gp.Tr = &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	gp.KeepAcceptEncoding = true
	gp.CertStore = &certCache{m: map[string]*tls.Certificate{}}
	gp.Logger = log.New(io.Discard, "", 0)
	action := &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: goproxy.TLSConfigFromCA(&ca)}
	gp.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		return action, host
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: gp, ReadHeaderTimeout: 30 * time.Second}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	fmt.Fprintf(os.Stderr, "goproxy: MITM proxy on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// certCache is the certificate cache goproxy leaves to its users.
type certCache struct {
	mu sync.Mutex
	m  map[string]*tls.Certificate
}

func (c *certCache) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	c.mu.Lock()
	cert, ok := c.m[host]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	cert, err := gen()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[host] = cert
	c.mu.Unlock()
	return cert, nil
}

// runMitm serves oauthlint's own proxy (package mitm: its certificates,
// its recording of every exchange with bodies) with the exchanges thrown
// away instead of written and analyzed: between the baseline and oauthlint
// capture, it tells the cost of recording from that of the HAR file and
// the analysis.
func runMitm(args []string) error {
	fs := flag.NewFlagSet("mitm", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address (loopback)")
	caDir := fs.String("ca-dir", "", "oauthlint CA directory; created if missing")
	upstreamCA := fs.String("upstream-ca", "", "PEM CA to trust for upstream servers")
	pprofAddr := fs.String("pprof", "", "serve /debug/pprof/ on this loopback address")
	fs.Parse(args)
	servePprof(*pprofAddr)
	ca, _, err := certs.LoadOrCreate(*caDir)
	if err != nil {
		return err
	}
	var roots *x509.CertPool
	if *upstreamCA != "" {
		if roots, err = pool(*upstreamCA); err != nil {
			return err
		}
	}
	var n atomic.Int64
	p, err := mitm.New(mitm.Options{CA: ca, UpstreamRoots: roots, OnExchange: func(*capture.Exchange) { n.Add(1) }})
	if err != nil {
		return err
	}
	ln, _, err := mitm.Listen(*listen)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	}()
	fmt.Fprintf(os.Stderr, "mitm: oauthlint's proxy without HAR or analysis on http://%s\n", ln.Addr())
	err = p.Serve(ln)
	fmt.Fprintf(os.Stderr, "mitm: %d exchanges recorded\n", n.Load())
	return err
}

// servePprof serves the Go profiler on addr (loopback), if set.
func servePprof(addr string) {
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprof:", err)
		return
	}
	go http.Serve(ln, nil)
}
