package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/certs"
)

// loadScale is the load the capture proxy takes in TestCaptureUnderLoad:
// concurrent client connections, and requests per connection. The race
// detector cannot hold the goroutines of 1000 connections (its limit is
// 8128 live goroutines) and slows everything tenfold, so under -race the
// same path runs at a tenth of the connections; scripts/hostile.sh runs
// the full load without it.
func loadScale() (conns, perConn int) {
	if raceEnabled {
		return 100, 10
	}
	return 1000, 10
}

// TestCaptureUnderLoad pushes 1000 concurrent connections and 10 000
// requests (half plain HTTP, half HTTPS through the MITM) through
// 'oauthlint capture --har' on loopback, then stops it as Ctrl-C would.
// Every request the client saw complete must be in the HAR and in the
// final report, exactly once, with its own response body; the proxy must
// not fail any request of a healthy upstream.
func TestCaptureUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	conns, perConn := loadScale()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		// The body names the request, so a crossed response shows.
		io.WriteString(w, "answer to "+r.URL.Path)
	})
	plain := httptest.NewUnstartedServer(handler)
	plain.Config.MaxHeaderBytes = 1 << 16
	plain.Start()
	defer plain.Close()
	secure := httptest.NewTLSServer(handler)
	defer secure.Close()

	dir := t.TempDir()
	harPath := filepath.Join(dir, "load.har")
	var out, errb bytes.Buffer
	sigs := make(chan os.Signal, 1)
	ready := make(chan string, 1)
	o := &CaptureOptions{AnalyzeOptions: AnalyzeOptions{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &syncWriter{w: &errb}},
		Now: time.Now, FailOn: "none", MCPRevision: "auto", MaxBody: 1 << 20, Format: "json"},
		Proxy: "127.0.0.1:0", HAR: harPath, CADir: filepath.Join(dir, "ca"), UpstreamCA: []string{upstreamCA(t, secure)},
		Signals: sigs, Ready: func(u string) { ready <- u }}
	done := make(chan error, 1)
	go func() { done <- runCapture(o) }()
	var proxyURL string
	select {
	case proxyURL = <-ready:
	case err := <-done:
		t.Fatalf("capture ended before listening: %v\n%s", err, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("capture did not start listening")
	}
	ca, err := certs.Load(o.CADir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	pu, _ := url.Parse(proxyURL)

	var completed sync.Map // path → body the client received
	var failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			base := plain.URL
			if c%2 == 1 {
				base = secure.URL
			}
			// One connection per client: keep-alive, at most one.
			tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool},
				MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: time.Minute}
			for i := 0; i < perConn; i++ {
				path := fmt.Sprintf("/load/%d/%d", c, i)
				req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
				resp, err := cl.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %d %v", path, resp.StatusCode, err))
					continue
				}
				completed.Store(path, string(b))
			}
		}(c)
	}
	wg.Wait()
	took := time.Since(start)
	sigs <- syscall.SIGINT
	select {
	case err := <-done:
		if codeOf(err) != ExitOK {
			t.Fatalf("capture ended with %v\n%s", err, tail(errb.String(), 3000))
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("capture did not stop within 2 minutes of SIGINT")
	}
	n := 0
	completed.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d connections × %d requests: %d completed, %d failed in %v (%.0f req/s); capture stderr tail:\n%s",
		conns, perConn, n, failed.Load(), took.Round(time.Millisecond), float64(n)/took.Seconds(), tail(errb.String(), 400))
	if failed.Load() > 0 {
		t.Errorf("%d requests failed through the proxy (first: %v)", failed.Load(), firstErr.Load())
	}
	completed.Range(func(k, v any) bool {
		if want := "answer to " + k.(string); v.(string) != want {
			t.Errorf("%s: client got %q", k, v)
		}
		return true
	})

	// Every completed exchange is in the HAR, once, with its own body.
	exs, info, err := har.ReadFile(harPath, har.Options{})
	if err != nil {
		t.Fatalf("HAR: %v", err)
	}
	if info.Truncated {
		t.Error("the HAR of a clean stop is truncated")
	}
	seen := map[string]int{}
	for _, ex := range exs {
		p := ex.Request.URL.Path
		seen[p]++
		if want := "answer to " + p; ex.Response == nil || string(ex.Response.Body) != want {
			t.Errorf("HAR %s: recorded response %q", p, respBody(ex.Response))
		}
	}
	missing := 0
	completed.Range(func(k, _ any) bool {
		switch seen[k.(string)] {
		case 1:
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("%s completed at the client but is not in the HAR", k)
			}
		default:
			t.Errorf("%s is in the HAR %d times", k, seen[k.(string)])
		}
		return true
	})
	if missing > 0 {
		t.Errorf("%d completed exchanges missing from the HAR (%d entries)", missing, len(exs))
	}

	// And in the final report.
	var rep struct {
		Stats struct {
			Exchanges int `json:"exchanges"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, tail(out.String(), 500))
	}
	if rep.Stats.Exchanges != n {
		t.Errorf("the report counts %d exchanges, the client completed %d", rep.Stats.Exchanges, n)
	}
}

func respBody(r *capture.Response) string {
	if r == nil {
		return "(no response)"
	}
	return string(r.Body)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
