package cli

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/certs"
	"github.com/oauthlint/oauthlint/internal/secretscan"
	"github.com/oauthlint/oauthlint/report"
)

// The secret-leak tests of the command line: every output a user can get
// — the report on stdout in each format, every -o file, the diagnostics
// and warnings on stderr, the live lines of capture -v, and the HAR that
// capture writes — is searched for every credential of the input
// (internal/secretscan finds them independently of analyze). The printers
// alone are covered per fixture in report (TestNoSecretInAnyFormatAllFixtures).

// allOutputs returns -o flags writing every format into dir, and the
// files they name by format.
func allOutputs(dir string) ([]string, map[string]string) {
	var args []string
	files := map[string]string{}
	for _, f := range report.Formats() {
		p := filepath.Join(dir, "report."+f)
		files[f] = p
		args = append(args, "-o", f+"="+p)
	}
	return args, files
}

// scanOutputs fails the test for every credential of secrets found in the
// streams or the files.
func scanOutputs(t *testing.T, secrets secretscan.Set, streams map[string][]byte, files map[string]string) {
	t.Helper()
	for name, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		streams[name+" file"] = b
	}
	names := make([]string, 0, len(streams))
	for n := range streams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		format := strings.TrimSuffix(name, " file")
		if format == "stderr" || format == "stdout" {
			format = "text"
		}
		if leaks := secrets.Find(secretscan.Plain(format, streams[name])); len(leaks) > 0 {
			var ls []string
			for _, l := range leaks {
				ls = append(ls, l.String())
			}
			t.Errorf("%s leaks %d credential(s): %s", name, len(leaks), strings.Join(ls, "; "))
		}
	}
}

// TestNoSecretInAnyCLIOutput analyzes every committed capture at once
// (all formats on stdout and in -o files, warnings on stderr).
func TestNoSecretInAnyCLIOutput(t *testing.T) {
	var files []string
	for _, g := range []string{"../../rules/builtin/testdata/*/*.har", "../../examples/*.har", "../../report/testdata/*.har",
		"../../capture/har/testdata/*.har", "../hostile/testdata/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	secrets := secretscan.Set{}
	var readable []string
	for _, p := range files {
		exs, _, err := input.Read(p, input.Options{})
		if err != nil {
			continue
		}
		readable = append(readable, p)
		for v, k := range secretscan.FromExchanges(exs) {
			secrets.Add(k, v)
		}
	}
	if len(readable) < 100 || len(secrets) < 100 {
		t.Fatalf("%d readable captures, %d credentials: the test proves too little", len(readable), len(secrets))
	}
	dir := t.TempDir()
	outArgs, outFiles := allOutputs(dir)
	args := append(append([]string{"analyze", "--format", "json", "--fail-on", "none"}, outArgs...), readable...)
	code, stdout, stderr := run(t, "", args...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, tail(stderr, 3000))
	}
	t.Logf("%d captures, %d credentials, %d bytes of JSON, %d of stderr", len(readable), len(secrets), len(stdout), len(stderr))
	scanOutputs(t, secrets, map[string][]byte{"json": []byte(stdout), "stderr": []byte(stderr)}, outFiles)

	// The control: with --show-secrets the same scan must find them, or
	// the scan proves nothing.
	code, stdout, stderr = run(t, "", append([]string{"analyze", "--format", "json", "--fail-on", "none", "--show-secrets"}, readable[:40]...)...)
	if code != ExitOK {
		t.Fatalf("--show-secrets: exit %d\n%s", code, tail(stderr, 3000))
	}
	if leaks := secrets.Find(secretscan.Plain("json", []byte(stdout))); len(leaks) < 10 {
		t.Errorf("--show-secrets output shows %d credentials: the scan cannot see them", len(leaks))
	}
}

// TestNoSecretInCaptureOutputs runs 'oauthlint capture -v --har' with
// every report format while a client sends credentials of every kind
// through it (Basic and Bearer Authorization, client_secret in the form,
// a code and its verifier, cookies) and the server answers with tokens
// and a session cookie. Nothing the capture writes may carry them: not
// the live lines on stderr, the final reports or the HAR.
func TestNoSecretInCaptureOutputs(t *testing.T) {
	const (
		clientSecret = "leak-client-secret-0123456789"
		code         = "leak-authorization-code-0123456789"
		verifier     = "leak-code-verifier-0123456789-abcdefghijklmnopq"
		accessToken  = "leak-access-token-0123456789abcdef"
		refreshToken = "leak-refresh-token-0123456789abcdef"
		sessionCook  = "leak-session-cookie-0123456789"
		bearer       = "leak-bearer-presented-0123456789abcdef"
	)
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Set-Cookie", "sid="+sessionCook+"; Path=/; HttpOnly; Secure")
			fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"token_type":"Bearer","expires_in":60}`, accessToken, refreshToken)
		case "/mcp":
			if r.Header.Get("Authorization") == "" {
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+"https://"+r.Host+`/.well-known/oauth-protected-resource"`)
				w.WriteHeader(401)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer up.Close()
	dir := t.TempDir()
	harPath := filepath.Join(dir, "leak.har")
	outArgs, outFiles := allOutputs(dir)
	var out, errb bytes.Buffer
	sigs := make(chan os.Signal, 1)
	ready := make(chan string, 1)
	o := &CaptureOptions{AnalyzeOptions: AnalyzeOptions{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &syncWriter{w: &errb}},
		Now: time.Now, FailOn: "none", MCPRevision: "auto", MaxBody: 1 << 20, Format: "json"},
		Proxy: "127.0.0.1:0", HAR: harPath, CADir: filepath.Join(dir, "ca"), UpstreamCA: []string{upstreamCA(t, up)},
		Verbose: true, Signals: sigs, Ready: func(u string) { ready <- u }}
	for i := 0; i+1 < len(outArgs); i += 2 {
		o.Outputs = append(o.Outputs, outArgs[i+1])
	}
	done := make(chan error, 1)
	go func() { done <- runCapture(o) }()
	proxyURL := <-ready
	ca, err := certs.Load(o.CADir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	pu, _ := url.Parse(proxyURL)
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(method, path, body string, hdr ...string) {
		req, _ := http.NewRequest(method, up.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do("POST", "/mcp", `{"jsonrpc":"2.0","method":"initialize","id":1}`, "Content-Type", "application/json")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {"http://localhost:3000/cb"}, "client_id": {"leak-client"}, "client_secret": {clientSecret}}
	do("POST", "/token", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	do("POST", "/token", "grant_type=refresh_token&refresh_token="+refreshToken, "Content-Type", "application/x-www-form-urlencoded",
		"Authorization", "Basic "+base64Std([]byte("leak-client:"+clientSecret)), "Cookie", "sid="+sessionCook)
	do("POST", "/mcp", `{"jsonrpc":"2.0","method":"tools/list","id":2}`, "Content-Type", "application/json", "Authorization", "Bearer "+bearer)
	sigs <- syscall.SIGINT
	if err := <-done; codeOf(err) != ExitOK {
		t.Fatalf("capture: %v\n%s", err, tail(errb.String(), 3000))
	}
	secrets := secretscan.Set{}
	for kind, v := range map[string]string{"client_secret": clientSecret, "code": code, "code_verifier": verifier, "access_token": accessToken,
		"refresh_token": refreshToken, "cookie": sessionCook, "Bearer": bearer, "Basic credentials": base64Std([]byte("leak-client:" + clientSecret))} {
		secrets.Add(kind, v)
	}
	har, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "/token") {
		t.Errorf("-v printed no exchange; stderr:\n%s", tail(errb.String(), 2000))
	}
	if !strings.Contains(string(har), capture.RedactedTokenPrefix) {
		t.Error("the HAR shows no redacted value at all")
	}
	scanOutputs(t, secrets, map[string][]byte{"json": out.Bytes(), "stderr": errb.Bytes(), "har": har}, outFiles)
}
