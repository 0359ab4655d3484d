// Package mitm is oauthlint's live capture: an explicit HTTP/HTTPS proxy
// (CONNECT + MITM with oauthlint's own CA, never goproxy's built-in one)
// that emits a capture.Exchange as each response completes. Bodies are
// teed with a cap while they stream through, so server-sent event streams
// reach the client untouched and unbuffered. Upstream TLS is verified
// unless the user says otherwise; upstream failures are recorded on the
// exchange and answered with a 502 that says why.
package mitm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/decode"
	"github.com/oauthlint/oauthlint/certs"
)

// DefaultMaxBody caps each recorded body.
const DefaultMaxBody = 16 << 20

// Options configure a Proxy.
type Options struct {
	CA *certs.CA
	// UpstreamInsecure skips verification of upstream certificates (test
	// servers); UpstreamRoots replaces the system roots when set.
	UpstreamInsecure bool
	UpstreamRoots    *x509.CertPool
	// MaxBody caps each recorded body (0: DefaultMaxBody).
	MaxBody int64
	// OnExchange receives every completed exchange; it must not block
	// for long (it runs on the connection's goroutine).
	OnExchange func(*capture.Exchange)
	// AllowRemote lets peers other than loopback use the proxy; only set
	// it when the user listens on a non-loopback address explicitly.
	AllowRemote bool
	// Warn reports problems that do not stop the proxy.
	Warn func(format string, args ...any)
}

// Proxy is a running capture proxy.
type Proxy struct {
	opts    Options
	gp      *goproxy.ProxyHttpServer
	tr      *http.Transport
	seq     atomic.Int64
	srv     *http.Server
	mu      sync.Mutex
	pending map[*recorder]struct{}
	closed  bool
}

// New builds a proxy.
func New(opts Options) (*Proxy, error) {
	if opts.CA == nil {
		return nil, errors.New("mitm: a CA is required (see 'oauthlint ca init')")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Warn == nil {
		opts.Warn = func(string, ...any) {}
	}
	p := &Proxy{opts: opts, pending: map[*recorder]struct{}{}}
	p.tr = &http.Transport{
		// Never chain to the environment's proxy: clients run with
		// HTTPS_PROXY pointing here.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: opts.UpstreamRoots, InsecureSkipVerify: opts.UpstreamInsecure},
		ForceAttemptHTTP2:     true,
		DisableCompression:    true, // bodies reach the client exactly as the server sent them
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	gp := goproxy.NewProxyHttpServer()
	gp.Tr = p.tr
	gp.KeepAcceptEncoding = true
	gp.CertStore = opts.CA
	gp.Logger = discardLogger{}
	gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oauthlint capture is an HTTP proxy: configure the client with HTTP_PROXY/HTTPS_PROXY pointing here", http.StatusBadRequest)
	})
	tlsFor := func(host string, ctx *goproxy.ProxyCtx) (*tls.Config, error) {
		h := host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			h = hh
		}
		leaf, err := opts.CA.Leaf(h)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{*leaf}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}, nil
	}
	gp.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: tlsFor}, host
	})
	gp.OnRequest().DoFunc(func(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		ctx.RoundTripper = goproxy.RoundTripperFunc(p.roundTrip)
		return req, nil
	})
	p.gp = gp
	return p, nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// ServeHTTP refuses peers that are not on loopback unless the proxy was
// explicitly opened to the network.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.opts.AllowRemote {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || !ip.IsLoopback() {
			p.opts.Warn("refused a connection from %s: the proxy listens for this machine only (listen on an explicit address to allow others)", r.RemoteAddr)
			http.Error(w, "oauthlint capture accepts loopback clients only", http.StatusForbidden)
			return
		}
	}
	p.gp.ServeHTTP(w, r)
}

// Serve accepts connections on ln until Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: nil}
	srv := p.srv
	p.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits up to ctx for exchanges in flight and
// records streams still open as such.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	srv := p.srv
	p.closed = true
	p.mu.Unlock()
	var err error
	if srv != nil {
		// MITM connections are hijacked, so Shutdown does not wait for
		// them; give in-flight exchanges a moment to finish.
		err = srv.Shutdown(ctx)
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	open := make([]*recorder, 0, len(p.pending))
	for r := range p.pending {
		open = append(open, r)
	}
	p.mu.Unlock()
	for _, r := range open {
		r.finish(errStillOpen)
	}
	p.tr.CloseIdleConnections()
	return err
}

var errStillOpen = errors.New("the response was still streaming when the capture ended")

// Listen opens addr for the proxy. An address without a host (":8888")
// means loopback; any other interface needs an explicit host and the
// caller should warn (remote is true then).
func Listen(addr string) (ln net.Listener, remote bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := strconv.Atoi(addr); perr == nil {
			host, port = "", addr
		} else {
			return nil, false, fmt.Errorf("--proxy %q: want [HOST]:PORT, e.g. :8888 or 127.0.0.1:8888", addr)
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil {
			ips, lerr := net.LookupIP(host)
			if lerr != nil || len(ips) == 0 {
				return nil, false, fmt.Errorf("--proxy %q: cannot resolve %s", addr, host)
			}
			ip = ips[0]
		}
		remote = !ip.IsLoopback()
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, false, fmt.Errorf("--proxy %s: %w", addr, err)
	}
	return ln, remote, nil
}

// roundTrip forwards one request upstream and records it.
func (p *Proxy) roundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	rec := &recorder{p: p, start: time.Now(), seq: p.seq.Add(1)}
	rec.ex = &capture.Exchange{
		Start:      rec.start,
		Ref:        capture.Ref{Entry: -1, ProxySeq: rec.seq},
		ClientAddr: req.RemoteAddr,
	}
	u := *req.URL
	rec.ex.Request = &capture.Request{Method: req.Method, URL: &u, Proto: req.Proto, Headers: headersOf(req.Header, req.Host, true), BodySize: req.ContentLength}
	if req.Body != nil && req.Body != http.NoBody {
		rec.reqBody = &cappedBuffer{max: p.opts.MaxBody}
		req.Body = &teeBody{ReadCloser: req.Body, buf: rec.reqBody}
	}
	// Remove hop-by-hop proxy headers before forwarding.
	req.Header.Del("Proxy-Connection")
	req.Header.Del("Proxy-Authorization")
	req.RequestURI = ""
	resp, err := p.tr.RoundTrip(req)
	if err != nil {
		rec.ex.Error = err.Error()
		rec.finish(nil)
		msg := "oauthlint capture: upstream error: " + err.Error() + "\n"
		return &http.Response{
			StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Oauthlint-Error": {"upstream"}},
			Body:          io.NopCloser(strings.NewReader(msg)),
			ContentLength: int64(len(msg)),
			Request:       req,
		}, nil
	}
	rec.ex.Response = &capture.Response{Status: resp.StatusCode, StatusText: strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))),
		Proto: resp.Proto, Headers: headersOf(resp.Header, "", false), BodySize: resp.ContentLength}
	if resp.TLS != nil {
		rec.ex.TLS = &capture.TLSInfo{Version: tls.VersionName(resp.TLS.Version), CipherSuite: tls.CipherSuiteName(resp.TLS.CipherSuite),
			ServerName: resp.TLS.ServerName, ALPN: resp.TLS.NegotiatedProtocol}
	}
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		rec.finish(nil)
		return resp, nil
	}
	rec.respBody = &cappedBuffer{max: p.opts.MaxBody}
	p.mu.Lock()
	p.pending[rec] = struct{}{}
	p.mu.Unlock()
	resp.Body = &recordingBody{ReadCloser: resp.Body, rec: rec}
	return resp, nil
}

// headersOf returns the headers in a stable order (net/http does not keep
// the wire order); Host first for requests.
func headersOf(h http.Header, host string, request bool) capture.Headers {
	out := capture.Headers{}
	if request && host != "" {
		out = append(out, capture.Header{Name: "Host", Value: host})
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, capture.Header{Name: k, Value: v})
		}
	}
	return out
}

// recorder collects one exchange while it streams.
type recorder struct {
	p        *Proxy
	start    time.Time
	seq      int64
	ex       *capture.Exchange
	reqBody  *cappedBuffer
	respBody *cappedBuffer
	once     sync.Once
}

func (r *recorder) finish(streamErr error) {
	r.once.Do(func() {
		p := r.p
		p.mu.Lock()
		delete(p.pending, r)
		p.mu.Unlock()
		ex := r.ex
		ex.Duration = time.Since(r.start)
		if r.reqBody != nil {
			ex.Request.Body = r.reqBody.Bytes()
			if r.reqBody.cut {
				ex.AddGap(capture.GapRequestBody, fmt.Sprintf("request body larger than %d bytes: the rest was forwarded, not recorded (raise --max-body)", p.opts.MaxBody))
			}
		}
		if ex.Response != nil && r.respBody != nil {
			body := r.respBody.Bytes()
			if r.respBody.cut {
				ex.AddGap(capture.GapResponseBody, fmt.Sprintf("response body larger than %d bytes: the rest was forwarded, not recorded (raise --max-body)", p.opts.MaxBody))
			}
			if ce := ex.Response.Headers.Get("Content-Encoding"); ce != "" && len(body) > 0 && !r.respBody.cut {
				dec, err := decode.Body(ce, body, p.opts.MaxBody)
				switch {
				case errors.Is(err, decode.ErrTooLarge):
					ex.AddGap(capture.GapResponseBody, "decoded body truncated at --max-body")
					body = dec
				case err != nil:
					ex.AddGap(capture.GapDecode, fmt.Sprintf("Content-Encoding %s: %v", ce, err))
				default:
					body = dec
				}
			}
			ex.Response.Body = body
		}
		if streamErr != nil {
			if errors.Is(streamErr, errStillOpen) {
				ex.AddGap(capture.GapResponseBody, streamErr.Error())
			} else {
				ex.AddGap(capture.GapResponseBody, "response stream broke: "+streamErr.Error())
			}
		}
		if p.opts.OnExchange != nil {
			p.opts.OnExchange(ex)
		}
	})
}

// recordingBody tees the response to the recorder and ends the exchange at
// EOF, on error or when the client side closes it.
type recordingBody struct {
	io.ReadCloser
	rec *recorder
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.rec.respBody.Write(p[:n])
	}
	switch {
	case errors.Is(err, io.EOF):
		b.rec.finish(nil)
	case err != nil:
		b.rec.finish(err)
	}
	return n, err
}

func (b *recordingBody) Close() error {
	err := b.ReadCloser.Close()
	b.rec.finish(nil)
	return err
}

type teeBody struct {
	io.ReadCloser
	buf *cappedBuffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.buf.Write(p[:n])
	}
	return n, err
}

// cappedBuffer keeps the first max bytes written and notes the rest.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int64
	cut bool
}

func (c *cappedBuffer) Write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - int64(c.buf.Len())
	if room <= 0 {
		c.cut = c.cut || len(p) > 0
		return
	}
	if int64(len(p)) > room {
		p = p[:room]
		c.cut = true
	}
	c.buf.Write(p)
}

func (c *cappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}
