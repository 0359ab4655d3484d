// Package mitm is oauthlint's live capture: an explicit HTTP/HTTPS proxy
// (CONNECT + MITM with oauthlint's own CA, never goproxy's built-in one)
// that emits a capture.Exchange as each response completes. Bodies are
// teed with a cap while they stream through, so server-sent event streams
// reach the client untouched and unbuffered. Upstream TLS is verified
// unless the user says otherwise; upstream failures are recorded on the
// exchange and answered with a 502 that says why. An exchange is recorded
// once, however it ends: its response completes, the upstream fails or
// sends no headers within the upstream timeout, the client hangs up (the
// upstream call ends with it), or the capture ends while it is in flight.
package mitm

import (
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

// DefaultUpstreamTimeout is how long the proxy waits for an upstream's
// response headers by default.
const DefaultUpstreamTimeout = 60 * time.Second

// Options configure a Proxy.
type Options struct {
	CA *certs.CA
	// UpstreamInsecure skips verification of upstream certificates (test
	// servers); UpstreamRoots replaces the system roots when set.
	UpstreamInsecure bool
	UpstreamRoots    *x509.CertPool
	// MaxBody caps each recorded body (0: DefaultMaxBody).
	MaxBody int64
	// UpstreamTimeout bounds the wait for an upstream's response headers
	// once the request is sent (0: DefaultUpstreamTimeout; negative: no
	// limit). The exchange is recorded with the timeout as its error and
	// the client gets a 502. Response bodies (event streams) are not
	// limited.
	UpstreamTimeout time.Duration
	// OnExchange receives every completed exchange; it must not block
	// for long (it runs on the connection's goroutine).
	OnExchange func(*capture.Exchange)
	// AllowRemote lets peers other than loopback use the proxy; only set
	// it when the user listens on a non-loopback address explicitly.
	AllowRemote bool
	// Warn reports problems that do not stop the proxy.
	Warn func(format string, args ...any)

	// watchAfter is how long a MITM exchange runs before its client
	// connection is watched for a hang-up (0: watchAfterDefault; tests
	// set a nanosecond to watch every exchange).
	watchAfter time.Duration
}

// watchAfterDefault: a MITM exchange still going after this long has its
// client connection watched for a hang-up (see clientConn). Watching
// costs a goroutine hand-off on every later read from that client, about
// a tenth of the proxy's CPU per request when every exchange was
// watched, so an exchange that ends sooner, nearly every one, is not
// watched; one that waits on a slow upstream or streams is, and its
// client's hang-up is noticed at most this late.
const watchAfterDefault = 250 * time.Millisecond

// Proxy is a running capture proxy.
type Proxy struct {
	opts    Options
	gp      *goproxy.ProxyHttpServer
	tr      *http.Transport
	seq     atomic.Int64
	watched atomic.Int64 // exchanges whose client was watched (tests)
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
	if opts.UpstreamTimeout == 0 {
		opts.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if opts.watchAfter <= 0 {
		opts.watchAfter = watchAfterDefault
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
		ResponseHeaderTimeout: max(opts.UpstreamTimeout, 0),
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
		// The MITM requests of this tunnel carry UserData over: roundTrip
		// watches the client connection through it.
		if cc := clientConnOf(ctx.Req.Context()); cc != nil {
			ctx.UserData = cc
		}
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
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: nil,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if cc, ok := c.(*clientConn); ok {
				return context.WithValue(ctx, clientConnKey{}, cc)
			}
			return ctx
		}}
	srv := p.srv
	p.mu.Unlock()
	err := srv.Serve(clientListener{ln})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits up to ctx for exchanges in flight and
// records those still going as such: a request still waiting for its
// response with that as its error (its upstream call is then ended), a
// response still streaming with a gap on its body.
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
		if r.finish("", errCaptureEnded) {
			r.cancel(errCaptureEnded)
		}
	}
	p.tr.CloseIdleConnections()
	return err
}

var (
	// errCaptureEnded ends the exchanges still waiting for a response
	// at Shutdown.
	errCaptureEnded = errors.New("the capture ended")
	// errClientGone ends the exchanges of a client that hung up.
	errClientGone = errors.New("the client closed the connection")
)

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
func (p *Proxy) roundTrip(req *http.Request, pctx *goproxy.ProxyCtx) (*http.Response, error) {
	rec := &recorder{p: p, start: time.Now(), seq: p.seq.Add(1)}
	rec.ex = &capture.Exchange{
		Start:      rec.start,
		Ref:        capture.Ref{Entry: -1, ProxySeq: rec.seq},
		ClientAddr: req.RemoteAddr,
	}
	u := *req.URL
	rec.ex.Request = &capture.Request{Method: req.Method, URL: &u, Proto: req.Proto, Headers: headersOf(req.Header, req.Host, true), BodySize: req.ContentLength}
	// The upstream call ends when the client hangs up: net/http cancels
	// a plain request's context then; a MITM request's needs the client
	// connection watched (see clientConn).
	ctx, cancel := context.WithCancelCause(req.Context())
	rec.ctx, rec.cancel = ctx, cancel
	if cc, ok := pctx.UserData.(*clientConn); ok {
		rec.watch = time.AfterFunc(p.opts.watchAfter, func() { rec.watchClient(cc) })
	}
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		rec.reqBody = newCappedBuffer(p.opts.MaxBody, req.ContentLength)
		req.Body = &teeBody{ReadCloser: req.Body, buf: rec.reqBody}
	}
	// Remove hop-by-hop proxy headers before forwarding.
	req.Header.Del("Proxy-Connection")
	req.Header.Del("Proxy-Authorization")
	req.RequestURI = ""
	// Pending from now on: Shutdown records the exchange even if the
	// upstream never answers.
	p.mu.Lock()
	p.pending[rec] = struct{}{}
	p.mu.Unlock()
	resp, err := p.tr.RoundTrip(req)
	if err != nil {
		msg := rec.upstreamError(err)
		rec.finish(msg, nil)
		msg = "oauthlint capture: upstream error: " + msg + "\n"
		return &http.Response{
			StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Oauthlint-Error": {"upstream"}},
			Body:          io.NopCloser(strings.NewReader(msg)),
			ContentLength: int64(len(msg)),
			Request:       req,
		}, nil
	}
	hasBody := resp.Body != nil && resp.Body != http.NoBody && req.Method != http.MethodHead
	if !rec.respond(resp, hasBody) {
		// Already recorded: the capture ended while it waited. The
		// client still gets what arrived.
		return resp, nil
	}
	if !hasBody {
		rec.finish("", nil)
		return resp, nil
	}
	resp.Body = &recordingBody{ReadCloser: resp.Body, rec: rec, buf: rec.respBody, length: resp.ContentLength}
	return resp, nil
}

// upstreamError says why the upstream call failed.
func (r *recorder) upstreamError(err error) string {
	if why := r.ended(); why != nil {
		return fmt.Sprintf("%v before the upstream answered (after %v)", why, time.Since(r.start).Round(time.Millisecond))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && strings.Contains(err.Error(), "timeout awaiting response headers") {
		return fmt.Sprintf("the upstream sent no response headers within %v (raise --upstream-timeout to wait longer)", r.p.opts.UpstreamTimeout)
	}
	return err.Error()
}

// watchClient ends the exchange's upstream call when its MITM client
// hangs up, from now until the exchange's context ends (goproxy cancels
// it once the response is written). It runs once the exchange has gone
// on for watchAfter; the client connection stays watched after it.
func (r *recorder) watchClient(cc *clientConn) {
	if r.ctx.Err() != nil {
		return
	}
	r.p.watched.Add(1)
	cc.watch()
	stop := cc.onGone(func() { r.cancel(errClientGone) })
	context.AfterFunc(r.ctx, stop)
}

// ended says why the exchange's context ended, or nil if it has not:
// the capture ended, or else the client hung up (net/http cancels a plain
// request's context when its client goes; a MITM request's is cancelled
// with errClientGone).
func (r *recorder) ended() error {
	if r.ctx.Err() == nil {
		return nil
	}
	if why := context.Cause(r.ctx); errors.Is(why, errCaptureEnded) {
		return why
	}
	return errClientGone
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

// recorder collects one exchange while it streams. It is pending in its
// proxy from before the request goes upstream until it is recorded, which
// happens once: whichever of the response's end, the upstream's failure
// or Shutdown comes first records it.
type recorder struct {
	p       *Proxy
	start   time.Time
	seq     int64
	ex      *capture.Exchange
	reqBody *cappedBuffer
	ctx     context.Context // the upstream call's
	cancel  context.CancelCauseFunc
	watch   *time.Timer // starts watchClient (MITM exchanges only)

	mu       sync.Mutex // guards ex.Response, respBody and done
	respBody *cappedBuffer
	done     bool
}

// respond records the response head (and whether a body follows); false
// if the exchange was already recorded.
func (r *recorder) respond(resp *http.Response, hasBody bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	r.ex.Response = &capture.Response{Status: resp.StatusCode, StatusText: strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))),
		Proto: resp.Proto, Headers: headersOf(resp.Header, "", false), BodySize: resp.ContentLength}
	if resp.TLS != nil {
		r.ex.TLS = &capture.TLSInfo{Version: tls.VersionName(resp.TLS.Version), CipherSuite: cipherSuiteName(resp.TLS.CipherSuite),
			ServerName: resp.TLS.ServerName, ALPN: resp.TLS.NegotiatedProtocol}
	}
	if hasBody {
		r.respBody = newCappedBuffer(r.p.opts.MaxBody, resp.ContentLength)
	}
	return true
}

// cipherSuiteNames holds the names of the suites crypto/tls knows:
// tls.CipherSuiteName builds the list of every suite at each call, and
// each upstream response asks for one.
var cipherSuiteNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[cs.ID] = cs.Name
	}
	return m
}()

// cipherSuiteName is tls.CipherSuiteName without building the list.
func cipherSuiteName(id uint16) string {
	if name, ok := cipherSuiteNames[id]; ok {
		return name
	}
	return tls.CipherSuiteName(id)
}

// finish records the exchange unless it already was: with errMsg as its
// error, and streamErr saying why its response, if any, is incomplete
// (errCaptureEnded at Shutdown). It reports whether it recorded an
// exchange that was still waiting for its response.
func (r *recorder) finish(errMsg string, streamErr error) (waiting bool) {
	p := r.p
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return false
	}
	r.done = true
	if r.watch != nil {
		// Over: a hang-up from now on shows as a failed write.
		r.watch.Stop()
	}
	ex := r.ex
	waiting = ex.Response == nil
	ex.Duration = time.Since(r.start)
	if errMsg != "" {
		ex.Error = errMsg
	}
	if r.reqBody != nil {
		body, cut := r.reqBody.take()
		ex.Request.Body = body
		if cut {
			ex.AddGap(capture.GapRequestBody, fmt.Sprintf("request body larger than %d bytes: the rest was forwarded, not recorded (raise --max-body)", p.opts.MaxBody))
		}
	}
	if ex.Response != nil && r.respBody != nil {
		body, cut := r.respBody.take()
		if cut {
			ex.AddGap(capture.GapResponseBody, fmt.Sprintf("response body larger than %d bytes: the rest was forwarded, not recorded (raise --max-body)", p.opts.MaxBody))
		}
		if ce := ex.Response.Headers.Get("Content-Encoding"); ce != "" && len(body) > 0 && !cut {
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
	switch {
	case errors.Is(streamErr, errCaptureEnded) && waiting:
		ex.Error = "no response when the capture ended (waited " + ex.Duration.Round(time.Millisecond).String() + ")"
	case errors.Is(streamErr, errCaptureEnded):
		ex.AddGap(capture.GapResponseBody, "the response was still streaming when the capture ended")
	case errors.Is(streamErr, errClientGone):
		ex.AddGap(capture.GapResponseBody, "the client closed the connection before the response ended: the rest was not read from the upstream")
	case streamErr != nil:
		ex.AddGap(capture.GapResponseBody, "response stream broke: "+streamErr.Error())
	}
	r.mu.Unlock()
	p.mu.Lock()
	delete(p.pending, r)
	p.mu.Unlock()
	if p.opts.OnExchange != nil {
		p.opts.OnExchange(ex)
	}
	return waiting
}

// recordingBody tees the response to the recorder and ends the exchange at
// EOF, on error or when the client side closes it.
type recordingBody struct {
	io.ReadCloser
	rec    *recorder
	buf    *cappedBuffer
	length int64 // Content-Length, or -1
	n      int64
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.buf.Write(p[:n])
		b.n += int64(n)
	}
	switch {
	case errors.Is(err, io.EOF):
		b.rec.finish("", nil)
	case err != nil:
		why := err
		if ended := b.rec.ended(); ended != nil {
			why = ended
		}
		b.rec.finish("", why)
	}
	return n, err
}

// Close before EOF means the proxy stopped forwarding the response: the
// client went away.
func (b *recordingBody) Close() error {
	err := b.ReadCloser.Close()
	var why error
	if b.length < 0 || b.n < b.length {
		why = errClientGone
	}
	b.rec.finish("", why)
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
// Its bytes are taken once, when the exchange is recorded; what is written
// after that is not kept.
type cappedBuffer struct {
	mu    sync.Mutex
	buf   []byte
	max   int64
	cut   bool
	taken bool
}

// maxPrealloc bounds the room reserved up front from a Content-Length
// (a large one is believed only as the bytes arrive).
const maxPrealloc = 1 << 20

// newCappedBuffer returns a buffer keeping up to max bytes, with room for
// size bytes (the Content-Length, -1 if unknown) made at once: a body
// is then recorded in one allocation rather than by repeated doubling.
func newCappedBuffer(max, size int64) *cappedBuffer {
	c := &cappedBuffer{max: max}
	if size > 0 {
		c.buf = make([]byte, 0, min(size, max, maxPrealloc))
	}
	return c
}

func (c *cappedBuffer) Write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.taken {
		return
	}
	room := c.max - int64(len(c.buf))
	if room <= 0 {
		c.cut = c.cut || len(p) > 0
		return
	}
	if int64(len(p)) > room {
		p = p[:room]
		c.cut = true
	}
	c.buf = append(c.buf, p...)
}

// take returns the bytes kept (nil if none) and whether some were not;
// the buffer keeps nothing from then on.
func (c *cappedBuffer) take() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	if len(b) == 0 {
		b = nil
	}
	c.buf, c.taken = nil, true
	return b, c.cut
}
