package cli

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/report"
	"github.com/oauthlint/oauthlint/rules"
)

// oauthChild is a public client that logs in the way MCP clients do:
// it reads the AS metadata (through the proxy), hands the authorization
// URL (without scope) to $BROWSER, takes the code from its loopback
// redirect URI (OAUTHLINT_TEST_CALLBACK=1; else it makes one up, as if
// a browser had walked the URL) and redeems it (through the proxy).
// OAUTHLINT_TEST_NO_BROWSER=1 skips $BROWSER: a client that opens the
// browser some other way.
func oauthChild() int {
	proxy, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil || proxy.Host == "" {
		fmt.Fprintln(os.Stderr, "oauth child: no HTTPS_PROXY")
		return 90
	}
	pem, err := os.ReadFile(os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauth child: no SSL_CERT_FILE:", err)
		return 91
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	as := os.Getenv("OAUTHLINT_TEST_AS")
	resp, err := c.Get(as + "/.well-known/oauth-authorization-server")
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauth child: metadata:", err)
		return 92
	}
	var meta struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()

	redirect := "http://127.0.0.1:9/callback"
	codes := make(chan string, 1)
	if os.Getenv("OAUTHLINT_TEST_CALLBACK") == "1" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "oauth child:", err)
			return 93
		}
		redirect = "http://" + ln.Addr().String() + "/callback"
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<p>Signed in; you can close this window.</p>")
			select {
			case codes <- r.URL.Query().Get("code"):
			default:
			}
		}))
	} else {
		codes <- "made-up-code-4a7f19c2e0b84d6e"
	}
	verifier := "test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"browser-leg-client"}, "redirect_uri": {redirect},
		"state": {"st-8c1d5e3b9a7f4260b1e2"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	authURL := meta.AuthorizationEndpoint + "?" + q.Encode()
	if os.Getenv("OAUTHLINT_TEST_NO_BROWSER") != "1" {
		// As xdg-open and the npm open package do: $BROWSER "$url".
		out, err := exec.Command(os.Getenv("BROWSER"), authURL).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "oauth child: $BROWSER: %v: %s\n", err, out)
			return 94
		}
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(30 * time.Second):
		// Chromium starts slowly on a loaded machine.
		fmt.Fprintln(os.Stderr, "oauth child: no callback within 30 s")
		return 95
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {"browser-leg-client"}, "code_verifier": {verifier}}
	resp, err = c.PostForm(meta.TokenEndpoint, form)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauth child: token:", err)
		return 96
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println("oauth child: token", resp.StatusCode)
	return 0
}

// browserAS is an AS that advertises scopes and authorizes without a
// login page.
func browserAS(t *testing.T) *httptest.Server {
	var s *httptest.Server
	s = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize",
				"token_endpoint": s.URL + "/token", "scopes_supported": []string{"mcp:read", "mcp:write"},
				"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code"},
				"code_challenge_methods_supported": []string{"S256"}, "token_endpoint_auth_methods_supported": []string{"none"}})
		case "/authorize":
			q := r.URL.Query()
			cb, _ := url.Parse(q.Get("redirect_uri"))
			cb.RawQuery = url.Values{"code": {"ac-5b2e8f0d71c94a3b"}, "state": {q.Get("state")}, "iss": {s.URL}}.Encode()
			http.Redirect(w, r, cb.String(), http.StatusFound)
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, `{"access_token":"at-browser-leg-0123456789abcdef","token_type":"Bearer","expires_in":300,"scope":"mcp:read"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func setOAuthChild(t *testing.T, as string) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OAUTHLINT_TEST_CHILD", "oauth")
	t.Setenv("OAUTHLINT_TEST_AS", as)
	t.Setenv("OAUTHLINT_TEST_CALLBACK", "")
	t.Setenv("OAUTHLINT_TEST_NO_BROWSER", "")
	return self
}

// authorizeStep finds the flow holding an authorization request and that
// step.
func authorizeStep(r *report.Report) (*report.Flow, *report.Step) {
	for i := range r.Flows {
		for j := range r.Flows[i].Steps {
			if r.Flows[i].Steps[j].Kind == "authorize" {
				return &r.Flows[i], &r.Flows[i].Steps[j]
			}
		}
	}
	return nil, nil
}

func noErrorFindings(t *testing.T, r *report.Report) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Outcome == rules.Error {
			t.Errorf("rule %s failed on the capture: %s", f.Rule, f.Message)
		}
	}
}

// TestCaptureBrowserHelperRecordsAuthorization: the client hands the
// authorization URL to $BROWSER; the capture records it as a
// request-only exchange, so AZ-SCOPE-MISSING fires on it with evidence,
// and the report says the callback is missing and how to get it.
func TestCaptureBrowserHelperRecordsAuthorization(t *testing.T) {
	as := browserAS(t)
	dir := t.TempDir()
	harPath := filepath.Join(dir, "cap.har")
	self := setOAuthChild(t, as.URL)
	code, out, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, as),
		"--browser", "none", "--har", harPath, "--format", "json", "--fail-on", "none", "--", self)
	if code != 0 || !strings.Contains(errs, "oauth child: token 200") {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "--browser none: open it yourself") || !strings.Contains(errs, as.URL+"/authorize?") {
		t.Errorf("stderr does not show the recorded URL:\n%s", errs)
	}
	r := parseReport(t, out)
	noErrorFindings(t, r)
	fl, st := authorizeStep(r)
	if st == nil {
		t.Fatalf("no authorization request in the report:\n%s", out)
	}
	if !strings.Contains(strings.Join(st.Gaps, ","), "not-proxied") || st.Status != 0 || st.Method != "GET" {
		t.Errorf("authorize step = %+v, want a request-only GET marked not-proxied", *st)
	}
	var tokenInFlow bool
	for _, s := range fl.Steps {
		tokenInFlow = tokenInFlow || s.Kind == "token"
	}
	if !tokenInFlow {
		t.Errorf("the token request is not in the authorization's flow: %+v", fl.Steps)
	}
	var scope *rules.Finding
	for i, f := range r.Findings {
		if f.Rule == "AZ-SCOPE-MISSING" {
			scope = &r.Findings[i]
		}
	}
	if scope == nil || scope.Outcome != rules.Fail {
		t.Fatalf("AZ-SCOPE-MISSING did not fire on the recorded authorization request: %v", ruleIDs(r))
	}
	var atAuthz bool
	for _, e := range scope.Evidence {
		atAuthz = atAuthz || (e.Exchange == st.Exchange && e.Ref.ProxySeq == st.Ref.ProxySeq && e.Ref.ProxySeq > 0)
	}
	if !atAuthz {
		t.Errorf("AZ-SCOPE-MISSING evidence %+v does not point at the authorization request %+v", scope.Evidence, st.Ref)
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Rule, "AZ-PKCE") && f.Outcome == rules.Fail {
			t.Errorf("%s fired on a request with S256 PKCE: %s", f.Rule, f.Message)
		}
	}
	if len(r.Inputs) != 2 || r.Inputs[1].Format != "browser-helper" || r.Inputs[1].Exchanges != 1 {
		t.Errorf("inputs = %+v, want the proxy and the browser helper", r.Inputs)
	}
	warn := strings.Join(r.Inputs[0].Warnings, "\n")
	if !strings.Contains(warn, "callback of flow") || !strings.Contains(warn, "--browser chromium") || !strings.Contains(errs, "callback of flow") {
		t.Errorf("no note about the missing callback:\nwarnings: %s\nstderr: %s", warn, errs)
	}
	// The HAR holds it too, as a request without a response.
	exs, _, err := har.ReadFile(harPath, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inHAR bool
	for _, ex := range exs {
		if ex.Request.URL.Path == "/authorize" {
			inHAR = ex.Response == nil && strings.Contains(ex.Comment, "browser helper")
		}
	}
	if !inHAR {
		t.Errorf("the HAR does not hold the recorded authorization request")
	}
}

// TestCaptureBrowserSystemOpens: in the default mode the URL is recorded
// and then opened with the BROWSER the capture was started with.
func TestCaptureBrowserSystemOpens(t *testing.T) {
	as := browserAS(t)
	dir := t.TempDir()
	opened := filepath.Join(dir, "opened.txt")
	fake := filepath.Join(dir, "fake-browser")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+shellQuote(opened)+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", fake)
	self := setOAuthChild(t, as.URL)
	code, out, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, as),
		"--format", "json", "--fail-on", "none", "--", self)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	got, err := os.ReadFile(opened)
	if err != nil || !strings.HasPrefix(string(got), as.URL+"/authorize?") {
		t.Fatalf("the user's BROWSER was not given the authorization URL: %q %v\nstderr:\n%s", got, err, errs)
	}
	if !strings.Contains(errs, "opening it in your browser") {
		t.Errorf("stderr:\n%s", errs)
	}
	if _, st := authorizeStep(parseReport(t, out)); st == nil {
		t.Errorf("no authorization request in the report")
	}
	// Another program asking the helper directly is refused without
	// the token; the helper outside a capture says what it is for.
	code, _, errs = run(t, "", helperCommand, as.URL+"/authorize")
	if code != ExitUsage || !strings.Contains(errs, "BROWSER") {
		t.Errorf("helper outside a capture: %d %s", code, errs)
	}
}

// TestCaptureBrowserLegMissing: a client that opens the browser another
// way leaves the authorization request uncaptured; the report says which
// evidence is missing and how to get it.
func TestCaptureBrowserLegMissing(t *testing.T) {
	as := browserAS(t)
	dir := t.TempDir()
	self := setOAuthChild(t, as.URL)
	t.Setenv("OAUTHLINT_TEST_NO_BROWSER", "1")
	code, out, errs := run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, as),
		"--browser", "none", "--format", "json", "--fail-on", "none", "--", self)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	r := parseReport(t, out)
	noErrorFindings(t, r)
	warn := strings.Join(r.Inputs[0].Warnings, "\n")
	for _, want := range []string{"authorization request of flow", "not-available", "$BROWSER", "oauthlint analyze capture.har browser.har"} {
		if !strings.Contains(warn, want) || !strings.Contains(errs, want) {
			t.Errorf("the note lacks %q:\nwarnings: %s\nstderr: %s", want, warn, errs)
		}
	}
	for _, f := range r.Findings {
		if f.Rule == "AZ-SCOPE-MISSING" && f.Outcome == rules.Fail {
			t.Errorf("AZ-SCOPE-MISSING failed without an authorization request")
		}
	}
	if len(r.Inputs) != 1 {
		t.Errorf("inputs = %+v", r.Inputs)
	}

	// --browser values are checked, and the helper modes need a command.
	for _, args := range [][]string{{"--browser", "firefox", "--", self}, {"--browser", "none"}, {"--browser", "chromium-headless"}} {
		code, _, errs := run(t, "", append([]string{"capture", "--ca-dir", filepath.Join(dir, "ca")}, args...)...)
		if code != ExitUsage || !strings.Contains(errs, "--browser") {
			t.Errorf("capture %v: exit %d\n%s", args, code, errs)
		}
	}
}

// TestCaptureBrowserChromiumHeadless: with --browser chromium-headless
// the whole browser leg is proxied: the authorization request with the
// AS's redirect and the loopback callback, so the flow lacks nothing.
func TestCaptureBrowserChromiumHeadless(t *testing.T) {
	if os.Getenv("OAUTHLINT_SKIP_BROWSER") != "" {
		t.Skip("OAUTHLINT_SKIP_BROWSER is set")
	}
	if _, err := findChromium(); err != nil {
		t.Skipf("%v (scripts/ensure-chromium.sh installs it; OAUTHLINT_CHROMIUM names the binary)", err)
	}
	as := browserAS(t)
	dir := t.TempDir()
	self := setOAuthChild(t, as.URL)
	t.Setenv("OAUTHLINT_TEST_CALLBACK", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	var code int
	var out, errs string
	go func() {
		defer close(done)
		code, out, errs = run(t, "", "capture", "--ca-dir", filepath.Join(dir, "ca"), "--upstream-ca", upstreamCA(t, as),
			"--browser", "chromium-headless", "--format", "json", "--fail-on", "none", "--", self)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("capture with chromium-headless did not end")
	}
	if code != 0 || !strings.Contains(errs, "oauth child: token 200") {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs)
	}
	r := parseReport(t, out)
	noErrorFindings(t, r)
	fl, st := authorizeStep(r)
	if st == nil {
		t.Fatalf("no authorization request:\n%s", out)
	}
	if st.Status != http.StatusFound || strings.Contains(strings.Join(st.Gaps, ","), "not-proxied") {
		t.Errorf("authorize step = %+v, want the proxied request with the AS's 302\nstderr:\n%s", *st, errs)
	}
	kinds := map[string]bool{}
	for _, s := range fl.Steps {
		kinds[s.Kind] = true
	}
	if !kinds["callback"] || !kinds["token"] || len(fl.Missing) != 0 || !fl.Complete {
		t.Errorf("flow: steps %v, missing %+v, complete %v", kinds, fl.Missing, fl.Complete)
	}
	if len(r.Inputs) != 1 || len(r.Inputs[0].Warnings) != 0 {
		t.Errorf("inputs = %+v", r.Inputs)
	}
	var scope bool
	for _, f := range r.Findings {
		scope = scope || (f.Rule == "AZ-SCOPE-MISSING" && f.Outcome == rules.Fail)
	}
	if !scope {
		t.Errorf("AZ-SCOPE-MISSING did not fire: %v", ruleIDs(r))
	}
}

func TestBrowserHelperEnvAndURLs(t *testing.T) {
	b := &browserLeg{mode: browserSystem, dir: "/tmp/oauthlint-browser-x", ctlURL: "http://127.0.0.1:1/open", token: "t", srv: &http.Server{}}
	env := b.env([]string{"PATH=/usr/bin", "BROWSER=firefox", "HOME=/h"})
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	if m["BROWSER"] != "/tmp/oauthlint-browser-x/browser" || m["HOME"] != "/h" || m[envBrowserToken] != "t" || m[envBrowserControl] != b.ctlURL {
		t.Errorf("env = %v", m)
	}
	if o := shimmedOpener(); o != "" && m["PATH"] != "/tmp/oauthlint-browser-x/bin:/usr/bin" {
		t.Errorf("PATH = %q", m["PATH"])
	}
	mustURL := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	if !sameRequest(mustURL("https://AS.example:443/authorize?b=2&a=1&c=x%20y#f"), mustURL("https://as.example/authorize?a=1&b=2&c=x+y")) {
		t.Error("sameRequest: a browser's rewrite of the URL is not recognized")
	}
	if sameRequest(mustURL("https://as.example/authorize?a=1"), mustURL("https://as.example/authorize?a=2")) {
		t.Error("sameRequest: different queries match")
	}
	if !safePath.MatchString("/tmp/oauthlint-browser-123/browser") || safePath.MatchString("/tmp/a b/browser") || safePath.MatchString("/tmp/a:b") {
		t.Error("safePath")
	}
}
