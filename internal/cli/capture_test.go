package cli

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture/har"
)

// TestMain lets this test binary play the client that capture runs:
// with OAUTHLINT_TEST_CHILD set it makes the requests it is told to and
// exits, using the proxy and CA trust that capture put in its environment.
func TestMain(m *testing.M) {
	// The browser helper capture sets as the client's BROWSER runs the
	// oauthlint binary, which is this test binary here.
	if len(os.Args) > 1 && os.Args[1] == helperCommand {
		os.Exit(Run(System(), os.Args[1:]))
	}
	switch os.Getenv("OAUTHLINT_TEST_CHILD") {
	case "1":
		os.Exit(child())
	case "oauth":
		os.Exit(oauthChild())
	}
	os.Exit(m.Run())
}

func child() int {
	proxy, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil || proxy.Host == "" {
		fmt.Fprintln(os.Stderr, "child: no HTTPS_PROXY")
		return 90
	}
	pem, err := os.ReadFile(os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: no SSL_CERT_FILE:", err)
		return 91
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	// Go never proxies loopback by environment: use the proxy explicitly,
	// as an instrumented client would.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if os.Getenv("OAUTHLINT_TEST_WAIT") == "1" {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT)
		fmt.Println("child: waiting")
		<-ch
		return 130
	}
	for _, target := range strings.Fields(os.Getenv("OAUTHLINT_TEST_TARGETS")) {
		req, _ := http.NewRequest("POST", target, strings.NewReader("grant_type=client_credentials&scope=mcp%3Aread"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc-client", "s3cr3t-client-secret-value")
		resp, err := c.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 92
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println("child: got", resp.StatusCode)
	}
	code, _ := strconv.Atoi(os.Getenv("OAUTHLINT_TEST_EXIT"))
	return code
}

func tokenServer(t *testing.T) *httptest.Server {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// No Cache-Control: no-store (TR-NO-STORE).
		fmt.Fprint(w, `{"access_token":"at-live-capture-0123456789abcdef","token_type":"Bearer","expires_in":300,"scope":"mcp:read"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func upstreamCA(t *testing.T, s *httptest.Server) string {
	p := filepath.Join(t.TempDir(), "up.pem")
	var b bytes.Buffer
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	enc := []byte(base64Std(s.Certificate().Raw))
	for len(enc) > 64 {
		b.Write(enc[:64])
		b.WriteByte('\n')
		enc = enc[64:]
	}
	b.Write(enc)
	b.WriteString("\n-----END CERTIFICATE-----\n")
	os.WriteFile(p, b.Bytes(), 0o644)
	return p
}

func TestCaptureRunsClientThroughProxy(t *testing.T) {
	up := tokenServer(t)
	dir := t.TempDir()
	harPath := filepath.Join(dir, "cap.har")
	self, _ := os.Executable()
	t.Setenv("OAUTHLINT_TEST_CHILD", "1")
	t.Setenv("OAUTHLINT_TEST_TARGETS", up.URL+"/oauth2/token")
	t.Setenv("OAUTHLINT_TEST_EXIT", "0")
	code, out, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, up),
		"--har", harPath, "--format", "json", "--", self)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (TR-NO-STORE is high)\nstderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "HIGH TR-NO-STORE (as)") || !strings.Contains(errs, "child: got 200") {
		t.Errorf("live output:\n%s", errs)
	}
	r := parseReport(t, out)
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == "TR-NO-STORE"
	}
	if !found || r.Inputs[0].Format != "proxy" || r.Stats.Exchanges != 1 {
		t.Errorf("report: %+v", r.Stats)
	}
	// The HAR is readable and holds no credential.
	data, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"at-live-capture-0123456789abcdef", "s3cr3t-client-secret-value", base64Std([]byte("svc-client:s3cr3t-client-secret-value"))} {
		if strings.Contains(string(data)+out+errs, secret) {
			t.Errorf("secret %q leaked", secret)
		}
	}
	exs, info, err := har.ReadFile(harPath, har.Options{})
	if err != nil || len(exs) != 1 {
		t.Fatalf("HAR: %v, %d exchanges", err, len(exs))
	}
	// The HAR says it covers the client's whole run, and how it ended.
	if r := info.ClientRun; r == nil || r.ExitCode != 0 || r.Command != self || r.Ended.Before(exs[0].Start) {
		t.Errorf("client run in the HAR = %+v", r)
	}
	var j map[string]any
	if json.Unmarshal(data, &j) != nil {
		t.Error("HAR is not valid JSON after a clean stop")
	}
}

func TestCaptureExitsWithChildStatus(t *testing.T) {
	dir := t.TempDir()
	self, _ := os.Executable()
	t.Setenv("OAUTHLINT_TEST_CHILD", "1")
	t.Setenv("OAUTHLINT_TEST_TARGETS", "")
	t.Setenv("OAUTHLINT_TEST_EXIT", "7")
	code, _, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--format", "json", "--", self)
	if code != 7 {
		t.Fatalf("exit %d, want the child's 7\n%s", code, errs)
	}
	code, _, errs = run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--", "/nonexistent/client")
	if code != ExitUsage || !strings.Contains(errs, "cannot run /nonexistent/client") {
		t.Errorf("missing command: %d %s", code, errs)
	}
}

func TestCaptureForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	self, _ := os.Executable()
	t.Setenv("OAUTHLINT_TEST_CHILD", "1")
	t.Setenv("OAUTHLINT_TEST_WAIT", "1")
	var out, errb bytes.Buffer
	sigs := make(chan os.Signal, 1)
	o := &CaptureOptions{AnalyzeOptions: AnalyzeOptions{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &syncWriter{w: &errb}},
		Now: time.Now, FailOn: "high", MCPRevision: "auto", MaxBody: 1 << 20, Format: "json"},
		CADir: filepath.Join(dir, "ca"), Command: []string{self}, Signals: sigs}
	o.Ready = func(string) {
		go func() {
			time.Sleep(500 * time.Millisecond)
			sigs <- syscall.SIGINT
		}()
	}
	err := runCapture(o)
	if codeOf(err) != 130 {
		t.Fatalf("exit %d (%v), want 130 from the interrupted child", codeOf(err), err)
	}
	if !strings.Contains(out.String(), `"schema_version"`) {
		t.Errorf("no final report after the signal: %q", out.String())
	}
}

// TestCaptureUpstreamTimeout: --upstream-timeout bounds the wait for an
// upstream's response headers: the client gets a 502 and the exchange is
// in the HAR with the timeout, and the flag to raise, as its error.
func TestCaptureUpstreamTimeout(t *testing.T) {
	stop := make(chan struct{})
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	defer close(stop)
	dir := t.TempDir()
	harPath := filepath.Join(dir, "cap.har")
	self, _ := os.Executable()
	t.Setenv("OAUTHLINT_TEST_CHILD", "1")
	t.Setenv("OAUTHLINT_TEST_TARGETS", up.URL+"/oauth2/token")
	t.Setenv("OAUTHLINT_TEST_EXIT", "0")
	start := time.Now()
	code, _, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, up),
		"--upstream-timeout", "300ms", "--har", harPath, "--format", "json", "--fail-on", "none", "--", self)
	if code != 0 || !strings.Contains(errs, "child: got 502") {
		t.Fatalf("exit %d, want 0 with the child answered 502\nstderr:\n%s", code, errs)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("capture took %v with a 300ms upstream timeout", took)
	}
	exs, _, err := har.ReadFile(harPath, har.Options{})
	if err != nil || len(exs) != 1 {
		t.Fatalf("HAR: %v, %d exchanges", err, len(exs))
	}
	if e := exs[0].Error; !strings.Contains(e, "300ms") || !strings.Contains(e, "--upstream-timeout") {
		t.Errorf("recorded error %q, want the timeout and the flag that raises it", e)
	}

	code, _, errs = run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-timeout", "-1s", "--", self)
	if code != ExitUsage || !strings.Contains(errs, "--upstream-timeout") {
		t.Errorf("negative --upstream-timeout: exit %d\n%s", code, errs)
	}
	_, out, _ := run(t, "", "capture", "--help")
	if !strings.Contains(out, "--upstream-timeout") || !strings.Contains(out, "response headers") {
		t.Errorf("--help does not document --upstream-timeout:\n%s", out)
	}
}

func TestChildEnv(t *testing.T) {
	env := childEnv([]string{"PATH=/bin", "HTTPS_PROXY=http://old", "NODE_OPTIONS=--max-old-space-size=512"}, "http://127.0.0.1:1", "/ca.pem", "/bundle.pem", "/p.mjs")
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	want := map[string]string{"PATH": "/bin", "HTTPS_PROXY": "http://127.0.0.1:1", "HTTP_PROXY": "http://127.0.0.1:1", "NO_PROXY": "",
		"NODE_EXTRA_CA_CERTS": "/ca.pem", "SSL_CERT_FILE": "/bundle.pem", "REQUESTS_CA_BUNDLE": "/bundle.pem", "CURL_CA_BUNDLE": "/bundle.pem",
		"NODE_USE_ENV_PROXY": "1", "NODE_OPTIONS": "--max-old-space-size=512 --import=/p.mjs"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
}

type syncWriter struct {
	mu syncMutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
