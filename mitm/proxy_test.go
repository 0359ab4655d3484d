package mitm

import (
	"bufio"
	"compress/gzip"
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

type harness struct {
	proxy  *Proxy
	url    string
	client *http.Client
	mu     sync.Mutex
	got    []*capture.Exchange
	done   chan *capture.Exchange
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	ca, err := certs.Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{done: make(chan *capture.Exchange, 64)}
	opts.CA = ca
	opts.OnExchange = func(ex *capture.Exchange) {
		h.mu.Lock()
		h.got = append(h.got, ex)
		h.mu.Unlock()
		h.done <- ex
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
	h.url = "http://" + ln.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	pu, _ := url.Parse(h.url)
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}, DisableCompression: true}}
	return h
}

func (h *harness) next(t *testing.T) *capture.Exchange {
	t.Helper()
	select {
	case ex := <-h.done:
		return ex
	case <-time.After(5 * time.Second):
		t.Fatal("no exchange recorded")
	}
	return nil
}

func upstream(t *testing.T, tlsOn bool) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"access_token":"at-123","echo":%q}`, b)
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(`{"issuer":"https://as.example"}`))
		zw.Close()
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		fmt.Fprint(w, "event: message\ndata: {\"n\":1}\n\n")
		fl.Flush()
		// Hold the stream until the client has seen the first event.
		select {
		case <-r.Context().Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
		fmt.Fprint(w, "event: message\ndata: {\"n\":2}\n\n")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 5000)))
	})
	if tlsOn {
		return httptest.NewTLSServer(mux)
	}
	return httptest.NewServer(mux)
}

func TestProxyHTTPAndHTTPS(t *testing.T) {
	up := upstream(t, true)
	defer up.Close()
	pool := x509.NewCertPool()
	pool.AddCert(up.Certificate())
	h := newHarness(t, Options{UpstreamRoots: pool})
	resp, err := h.client.Post(up.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=authorization_code&code=abc"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "at-123") {
		t.Fatalf("client got %s", body)
	}
	ex := h.next(t)
	if ex.Request.Method != "POST" || ex.Request.URL.Scheme != "https" || string(ex.Request.Body) != "grant_type=authorization_code&code=abc" {
		t.Errorf("request = %+v body %q", ex.Request, ex.Request.Body)
	}
	if ex.Response == nil || ex.Response.Status != 200 || !strings.Contains(string(ex.Response.Body), "at-123") || ex.Response.Headers.Get("Cache-Control") != "no-store" {
		t.Errorf("response = %+v", ex.Response)
	}
	if ex.Ref.ProxySeq == 0 || ex.TLS == nil {
		t.Errorf("ref %+v tls %v", ex.Ref, ex.TLS)
	}

	// Plain HTTP through the same proxy.
	plain := upstream(t, false)
	defer plain.Close()
	resp, err = h.client.Get(plain.URL + "/gzip")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ex = h.next(t)
	// The client gets the bytes the server sent (gzip); the exchange holds
	// the decoded body.
	if len(raw) == 0 || raw[0] != 0x1f || string(ex.Response.Body) != `{"issuer":"https://as.example"}` {
		t.Errorf("client %q recorded %q", raw, ex.Response.Body)
	}
}

func TestStreamingNotBuffered(t *testing.T) {
	up := upstream(t, false)
	defer up.Close()
	h := newHarness(t, Options{})
	resp, err := h.client.Get(up.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	start := time.Now()
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "event: message") {
		t.Fatalf("first line %q %v", line, err)
	}
	// The first event arrives while the server still holds the stream.
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("first event took %v: the proxy buffered the stream", d)
	}
	io.ReadAll(r)
	resp.Body.Close()
	ex := h.next(t)
	if !strings.Contains(string(ex.Response.Body), `"n":2`) {
		t.Errorf("recorded %q", ex.Response.Body)
	}
}

func TestUpstreamErrorsRecorded(t *testing.T) {
	h := newHarness(t, Options{})
	// Nothing listens there.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	resp, err := h.client.Get("http://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.Contains(string(b), "upstream error") {
		t.Errorf("client got %d %s", resp.StatusCode, b)
	}
	ex := h.next(t)
	if ex.Response != nil || !strings.Contains(ex.Error, "refused") {
		t.Errorf("recorded %+v error %q", ex.Response, ex.Error)
	}
	// An upstream with a certificate nobody trusts: refused by default.
	up := upstream(t, true)
	defer up.Close()
	resp, err = h.client.Get(up.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ex = h.next(t)
	if resp.StatusCode != 502 || !strings.Contains(ex.Error, "certificate") {
		t.Errorf("bad cert: %d %q", resp.StatusCode, ex.Error)
	}
	// The proxy keeps serving afterwards.
	plain := upstream(t, false)
	defer plain.Close()
	resp, err = h.client.Get(plain.URL + "/big")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after errors: %v", err)
	}
	resp.Body.Close()
	h.next(t)
}

func TestBodyCap(t *testing.T) {
	up := upstream(t, false)
	defer up.Close()
	h := newHarness(t, Options{MaxBody: 1000})
	resp, _ := h.client.Get(up.URL + "/big")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 5000 {
		t.Errorf("client got %d bytes", len(b))
	}
	ex := h.next(t)
	if len(ex.Response.Body) != 1000 || !ex.HasGap(capture.GapResponseBody) {
		t.Errorf("recorded %d bytes, gaps %v", len(ex.Response.Body), ex.Gaps)
	}
}

func TestRefusesRemotePeers(t *testing.T) {
	h := newHarness(t, Options{})
	req := httptest.NewRequest("GET", "http://example.com/", nil)
	req.RemoteAddr = "10.1.2.3:4444"
	w := httptest.NewRecorder()
	h.proxy.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("remote peer got %d", w.Code)
	}
}

func TestListen(t *testing.T) {
	ln, remote, err := Listen(":0")
	if err != nil || remote || !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Fatalf("':0' → %v remote=%v err=%v", ln, remote, err)
	}
	ln.Close()
	if _, _, err := Listen("nonsense"); err == nil {
		t.Error("bad address accepted")
	}
}

// cipherSuiteName names every suite as crypto/tls does, known or not.
func TestCipherSuiteName(t *testing.T) {
	ids := []uint16{0, 0x1301, 0x1302, 0x1303, 0xc02f, 0xc030, 0xcca8, 0x0005, 0x000a, 0xfefe, 0xffff}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, cs.ID)
	}
	for _, id := range ids {
		if got, want := cipherSuiteName(id), tls.CipherSuiteName(id); got != want {
			t.Errorf("cipherSuiteName(%#04x) = %q, want %q", id, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = cipherSuiteName(0x1301) }); n != 0 {
		t.Errorf("%v allocations to name a known suite", n)
	}
}
