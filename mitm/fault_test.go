package mitm

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/certs"
)

// Fault tests: upstream servers that reset, stall, answer garbage or
// present a bad certificate, and clients that misbehave. Whatever
// happens, the exchange is recorded with what went wrong (Error, or a
// gap on the part that is missing) and the proxy keeps serving.

// rawUpstream is a TCP server that runs behave on every connection, in
// plain text or, with tlsCert, behind TLS.
type rawUpstream struct {
	ln   net.Listener
	url  string
	wg   sync.WaitGroup
	stop chan struct{}
}

func newRawUpstream(t *testing.T, tlsCert *tls.Certificate, behave func(c net.Conn, r *bufio.Reader)) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln, url: "http://" + ln.Addr().String(), stop: make(chan struct{})}
	if tlsCert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*tlsCert}})
		u.ln = ln
		u.url = "https://" + ln.Addr().String()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				// Read the request head first, as a server would.
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				behave(c, r)
			}()
		}
	}()
	t.Cleanup(func() {
		close(u.stop)
		u.ln.Close()
		u.wg.Wait()
	})
	return u
}

// reset closes the connection with a TCP RST.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	if tc, ok := c.(*tls.Conn); ok {
		if nc, ok := tc.NetConn().(*net.TCPConn); ok {
			nc.SetLinger(0)
		}
	}
	c.Close()
}

// faultHarness is a proxy whose recorded exchanges can be waited for by
// URL path.
type faultHarness struct {
	proxy  *Proxy
	pool   *x509.CertPool // trusts the proxy's CA
	purl   *url.URL
	mu     sync.Mutex
	byPath map[string]*capture.Exchange
	count  map[string]int // exchanges recorded per path
	added  chan struct{}
}

func newFaultHarness(t *testing.T, opts Options) *faultHarness {
	t.Helper()
	ca, err := certs.Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	h := &faultHarness{byPath: map[string]*capture.Exchange{}, count: map[string]int{}, added: make(chan struct{}, 1)}
	opts.CA = ca
	opts.OnExchange = func(ex *capture.Exchange) {
		h.mu.Lock()
		h.byPath[ex.Request.URL.Path] = ex
		h.count[ex.Request.URL.Path]++
		h.mu.Unlock()
		select {
		case h.added <- struct{}{}:
		default:
		}
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, _, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(ln)
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	h.proxy = p
	h.purl, _ = url.Parse("http://" + ln.Addr().String())
	h.pool = x509.NewCertPool()
	h.pool.AddCert(ca.Cert)
	return h
}

// client is a fresh client (own connections) through the proxy.
func (h *faultHarness) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: http.ProxyURL(h.purl),
		TLSClientConfig: &tls.Config{RootCAs: h.pool}, DisableCompression: true, DisableKeepAlives: true}}
}

// wait returns the exchange recorded for path, failing after d.
func (h *faultHarness) wait(t *testing.T, path string, d time.Duration) *capture.Exchange {
	t.Helper()
	deadline := time.After(d)
	for {
		h.mu.Lock()
		ex := h.byPath[path]
		h.mu.Unlock()
		if ex != nil {
			return ex
		}
		select {
		case <-h.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no exchange recorded for %s within %v", path, d)
			return nil
		}
	}
}

// stillServes checks that a normal request goes through and is recorded.
func (h *faultHarness) stillServes(t *testing.T, good *httptest.Server, path string) {
	t.Helper()
	resp, err := h.client(5 * time.Second).Get(good.URL + path)
	if err != nil {
		t.Fatalf("after the fault the proxy no longer serves: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "fine" {
		t.Fatalf("after the fault: %d %q", resp.StatusCode, b)
	}
	if ex := h.wait(t, path, 5*time.Second); ex.Response == nil || string(ex.Response.Body) != "fine" {
		t.Fatalf("after the fault, recorded %+v", ex.Response)
	}
}

func goodUpstream(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") }))
	t.Cleanup(s.Close)
	return s
}

// leafFor issues a certificate for host from a throwaway CA, returning
// it and a pool trusting that CA.
func leafFor(t *testing.T, host string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	ca, err := certs.Create(filepath.Join(t.TempDir(), "upstream-ca"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf(host)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return leaf, pool
}

func TestUpstreamFaultsRecorded(t *testing.T) {
	good := goodUpstream(t)
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			var cert *tls.Certificate
			var roots *x509.CertPool
			if scheme == "https" {
				cert, roots = leafFor(t, "127.0.0.1")
			}
			h := newFaultHarness(t, Options{UpstreamRoots: roots})
			faults := []struct {
				name   string
				behave func(c net.Conn, r *bufio.Reader)
				// check inspects the recorded exchange.
				check func(t *testing.T, ex *capture.Exchange)
			}{
				{"reset-before-response", func(c net.Conn, _ *bufio.Reader) { reset(c) }, wantError},
				{"close-before-response", func(c net.Conn, _ *bufio.Reader) {}, wantError},
				{"garbage", func(c net.Conn, _ *bufio.Reader) {
					io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\nthis is not HTTP at all\r\n\r\n")
				}, wantError},
				{"reset-mid-body", func(c net.Conn, _ *bufio.Reader) {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"access_token\":\"partial")
					time.Sleep(100 * time.Millisecond)
					reset(c)
				}, wantBodyGap},
				{"short-body", func(c net.Conn, _ *bufio.Reader) {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"access_token\":\"short")
				}, wantBodyGap},
				{"bad-chunking", func(c net.Conn, _ *bufio.Reader) {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
				}, wantBodyGap},
				{"bad-gzip", func(c net.Conn, _ *bufio.Reader) {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!")
				}, func(t *testing.T, ex *capture.Exchange) {
					if ex.Response == nil || !ex.HasGap(capture.GapDecode) {
						t.Errorf("undecodable body: response %v gaps %v", ex.Response != nil, ex.Gaps)
					}
				}},
			}
			for _, f := range faults {
				up := newRawUpstream(t, cert, f.behave)
				path := "/" + f.name
				resp, err := h.client(5 * time.Second).Get(up.url + path)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				ex := h.wait(t, path, 10*time.Second)
				t.Logf("%s: client %v; recorded error %q gaps %v", f.name, errOr(resp, err), ex.Error, ex.Gaps)
				f.check(t, ex)
				h.stillServes(t, good, "/after-"+f.name)
			}
		})
	}
}

func errOr(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

func wantError(t *testing.T, ex *capture.Exchange) {
	t.Helper()
	if ex.Response != nil || ex.Error == "" {
		t.Errorf("want no response and an error, got response %v error %q", ex.Response != nil, ex.Error)
	}
}

func wantBodyGap(t *testing.T, ex *capture.Exchange) {
	t.Helper()
	if ex.Response == nil || !ex.HasGap(capture.GapResponseBody) {
		t.Errorf("want a response with a body gap, got response %v gaps %v error %q", ex.Response != nil, ex.Gaps, ex.Error)
	}
}

// TestUpstreamBadCertificates: untrusted, wrong-host and expired upstream
// certificates are refused (502), recorded with the reason, and the proxy
// keeps serving.
func TestUpstreamBadCertificates(t *testing.T) {
	good := goodUpstream(t)
	wrongHost, pool := leafFor(t, "upstream.example.com")
	self := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer self.Close()
	h := newFaultHarness(t, Options{UpstreamRoots: pool})
	for _, c := range []struct {
		name, url, want string
	}{
		{"untrusted", self.URL, "certificate"},
		{"wrong-host", newRawUpstream(t, wrongHost, func(net.Conn, *bufio.Reader) {}).url, "certificate"},
	} {
		path := "/" + c.name
		resp, err := h.client(5 * time.Second).Get(c.url + path)
		if err != nil {
			t.Fatalf("%s: client: %v", c.name, err)
		}
		resp.Body.Close()
		ex := h.wait(t, path, 5*time.Second)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(ex.Error, c.want) {
			t.Errorf("%s: client %d, recorded %q", c.name, resp.StatusCode, ex.Error)
		}
		h.stillServes(t, good, "/after-"+c.name)
	}
}

// stallFaults are upstreams that accept the request and never answer, or
// stop in the middle of their body.
var stallFaults = []struct {
	name   string
	behave func(c net.Conn, r *bufio.Reader, stop chan struct{})
}{
	{"stall-before-headers", func(c net.Conn, _ *bufio.Reader, stop chan struct{}) { <-stop }},
	{"stall-mid-body", func(c net.Conn, _ *bufio.Reader, stop chan struct{}) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
		<-stop
	}},
}

// stall sends one request to an upstream that stalls as f says; the
// client gives up after a second. It returns the proxy-side exchange, or
// nil if none was recorded within wait.
func stall(t *testing.T, h *faultHarness, cert *tls.Certificate, name string, behave func(net.Conn, *bufio.Reader, chan struct{}), wait time.Duration) *capture.Exchange {
	t.Helper()
	var up *rawUpstream
	up = newRawUpstream(t, cert, func(c net.Conn, r *bufio.Reader) { behave(c, r, up.stop) })
	path := "/" + name
	resp, err := h.client(time.Second).Get(up.url + path)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatalf("%s: the client got a whole response from a stalled upstream", name)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		ex := h.byPath[path]
		h.mu.Unlock()
		if ex != nil {
			return ex
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// TestUpstreamStallRecorded: over plain HTTP, a stalled upstream is
// recorded once the client gives up (its request context ends the
// upstream call), with an error or a body gap, and the proxy keeps
// serving. (HTTPS: see TestMITMUpstreamStallRecorded.)
func TestUpstreamStallRecorded(t *testing.T) {
	good := goodUpstream(t)
	h := newFaultHarness(t, Options{})
	for _, f := range stallFaults {
		ex := stall(t, h, nil, f.name, f.behave, 10*time.Second)
		if ex == nil {
			t.Fatalf("%s: no exchange recorded within 10s of the client giving up", f.name)
		}
		if ex.Error == "" && !ex.HasGap(capture.GapResponseBody) {
			t.Errorf("%s: recorded without saying what is missing: error %q gaps %v", f.name, ex.Error, ex.Gaps)
		}
		h.stillServes(t, good, "/after-"+f.name)
	}
}

// TestMITMUpstreamStallRecorded: through the MITM (HTTPS) path too, an
// upstream that accepts a request and never sends its response headers,
// or stops in the middle of its body, is recorded promptly once the client
// gives up: the proxy notices the hang-up on the hijacked client
// connection and ends the upstream call, and the exchange says what is
// missing (an error, or a gap on the response body). The proxy keeps
// serving, and Shutdown has nothing left to record twice.
func TestMITMUpstreamStallRecorded(t *testing.T) {
	good := goodUpstream(t)
	cert, roots := leafFor(t, "127.0.0.1")
	h := newFaultHarness(t, Options{UpstreamRoots: roots})
	for _, f := range stallFaults {
		ex := stall(t, h, cert, f.name, f.behave, 5*time.Second)
		if ex == nil {
			t.Errorf("%s over HTTPS: no exchange recorded within 5s of the client giving up", f.name)
			continue
		}
		t.Logf("%s: recorded error %q gaps %v", f.name, ex.Error, ex.Gaps)
		if ex.Error == "" && !ex.HasGap(capture.GapResponseBody) {
			t.Errorf("%s: recorded without saying what is missing: error %q gaps %v", f.name, ex.Error, ex.Gaps)
		}
		if !strings.Contains(ex.Error+fmt.Sprint(ex.Gaps), "client closed the connection") {
			t.Errorf("%s: the record does not say the client hung up: error %q gaps %v", f.name, ex.Error, ex.Gaps)
		}
		h.stillServes(t, good, "/after-"+f.name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	h.proxy.Shutdown(ctx)
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range stallFaults {
		if n := h.count["/"+f.name]; n != 1 {
			t.Errorf("%s over HTTPS: recorded %d times, want once", f.name, n)
		}
	}
}

// TestUpstreamTimeout: an upstream that sends no response headers within
// Options.UpstreamTimeout is recorded with the timeout as its error,
// naming the flag that raises it, and the client gets a 502 at once;
// the limit does not apply to a body that is slow to come.
func TestUpstreamTimeout(t *testing.T) {
	good := goodUpstream(t)
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			var cert *tls.Certificate
			var roots *x509.CertPool
			if scheme == "https" {
				cert, roots = leafFor(t, "127.0.0.1")
			}
			h := newFaultHarness(t, Options{UpstreamRoots: roots, UpstreamTimeout: 300 * time.Millisecond})

			stop := make(chan struct{})
			silent := newRawUpstream(t, cert, func(net.Conn, *bufio.Reader) { <-stop })
			t.Cleanup(func() { close(stop) })
			start := time.Now()
			resp, err := h.client(5 * time.Second).Get(silent.url + "/silent")
			if err != nil {
				t.Fatalf("client: %v (want a 502 once the upstream timeout passes)", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if took := time.Since(start); resp.StatusCode != http.StatusBadGateway || took > 3*time.Second {
				t.Errorf("client got %d after %v, want 502 soon after 300ms", resp.StatusCode, took)
			}
			ex := h.wait(t, "/silent", 5*time.Second)
			t.Logf("recorded error %q; client got %q", ex.Error, body)
			if ex.Response != nil || !strings.Contains(ex.Error, "300ms") || !strings.Contains(ex.Error, "--upstream-timeout") {
				t.Errorf("recorded response %v error %q, want the timeout and the flag that raises it", ex.Response != nil, ex.Error)
			}
			if !strings.Contains(string(body), "--upstream-timeout") {
				t.Errorf("the client's 502 does not say why: %q", body)
			}

			// Headers in time, then a body slower than the timeout.
			slow := newRawUpstream(t, cert, func(c net.Conn, _ *bufio.Reader) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"a\":")
				time.Sleep(700 * time.Millisecond)
				io.WriteString(c, "\"slow\"}")
			})
			resp, err = h.client(5 * time.Second).Get(slow.url + "/slow-body")
			if err != nil {
				t.Fatal(err)
			}
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(body) != `{"a":"slow"}` {
				t.Errorf("slow body: %q, %v", body, err)
			}
			ex = h.wait(t, "/slow-body", 5*time.Second)
			if ex.Error != "" || len(ex.Gaps) > 0 || ex.Response == nil || string(ex.Response.Body) != `{"a":"slow"}` {
				t.Errorf("slow body recorded as error %q gaps %v response %+v", ex.Error, ex.Gaps, ex.Response)
			}
			h.stillServes(t, good, "/after-timeout")
		})
	}
}

// TestExchangesRecordedOnce: an exchange that waited on a slow upstream
// is recorded exactly once however it ends (the upstream answers late,
// the client gives up, or the capture ends while it waits), and Shutdown
// does not record it again. Shutdown records one still waiting as such
// and ends its upstream call, so its client gets an answer.
func TestExchangesRecordedOnce(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			var cert *tls.Certificate
			var roots *x509.CertPool
			if scheme == "https" {
				cert, roots = leafFor(t, "127.0.0.1")
			}
			h := newFaultHarness(t, Options{UpstreamRoots: roots})

			late := newRawUpstream(t, cert, func(c net.Conn, _ *bufio.Reader) {
				time.Sleep(700 * time.Millisecond)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")
			})
			resp, err := h.client(5 * time.Second).Get(late.url + "/late")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if ex := h.wait(t, "/late", 5*time.Second); ex.Response == nil || string(ex.Response.Body) != "late" || ex.Error != "" {
				t.Errorf("late answer recorded as error %q response %+v", ex.Error, ex.Response)
			}

			if ex := stall(t, h, cert, "abandoned", stallFaults[0].behave, 5*time.Second); ex == nil {
				t.Fatal("an exchange the client gave up on was not recorded")
			}

			// A request still waiting when the capture ends.
			arrived := make(chan struct{})
			stop := make(chan struct{})
			waiting := newRawUpstream(t, cert, func(net.Conn, *bufio.Reader) {
				close(arrived)
				<-stop
			})
			t.Cleanup(func() { close(stop) })
			type result struct {
				status int
				err    error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := h.client(10 * time.Second).Get(waiting.url + "/waiting")
				if err != nil {
					got <- result{err: err}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				got <- result{status: resp.StatusCode}
			}()
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatal("the request never reached the upstream")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			h.proxy.Shutdown(ctx)
			cancel()
			h.mu.Lock()
			ex := h.byPath["/waiting"]
			h.mu.Unlock()
			if ex == nil {
				t.Fatal("a request still waiting when the capture ended was not recorded by Shutdown")
			}
			if ex.Response != nil || !strings.Contains(ex.Error, "no response when the capture ended") {
				t.Errorf("recorded at Shutdown as response %v error %q", ex.Response != nil, ex.Error)
			}
			select {
			case r := <-got:
				if r.err != nil || r.status != http.StatusBadGateway {
					t.Errorf("the waiting client got %d, %v; want a 502", r.status, r.err)
				}
			case <-time.After(3 * time.Second):
				t.Error("the waiting client got no answer after Shutdown: its upstream call goes on")
			}

			// Give any second recording time to show up.
			time.Sleep(300 * time.Millisecond)
			h.mu.Lock()
			defer h.mu.Unlock()
			for _, path := range []string{"/late", "/abandoned", "/waiting"} {
				if n := h.count[path]; n != 1 {
					t.Errorf("%s recorded %d times, want once", path, n)
				}
			}
		})
	}
}

// TestClientFaults: clients that send garbage, open CONNECT tunnels and
// speak no TLS, or hang up mid-response do not stop the proxy, and a
// response the client abandoned is still recorded.
func TestClientFaults(t *testing.T) {
	good := goodUpstream(t)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := 0; i < 200; i++ {
			if _, err := w.Write([]byte(strings.Repeat("x", 4096))); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}))
	defer big.Close()
	h := newFaultHarness(t, Options{})
	addr := h.purl.Host
	raw := func(payload string) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, payload)
		io.Copy(io.Discard, c)
		c.Close()
	}
	raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage, not a proxy request\r\n\r\n")
	raw("GET http://" + strings.TrimPrefix(good.URL, "http://") + "/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
	raw("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\nplain bytes where TLS should be\r\n\r\n")
	raw("GET http://" + strings.TrimPrefix(good.URL, "http://") + "/y HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Long: "+strings.Repeat("a", 1000)+"\r\n", 2000) + "\r\n")
	h.stillServes(t, good, "/after-garbage")

	// A client that reads the start of a streamed response and hangs up.
	resp, err := h.client(5 * time.Second).Get(big.URL + "/abandoned")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10000)
	io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	ex := h.wait(t, "/abandoned", 10*time.Second)
	if ex.Response == nil || len(ex.Response.Body) == 0 {
		t.Errorf("abandoned response recorded as %+v", ex.Response)
	}
	h.stillServes(t, good, "/after-abandon")
}
