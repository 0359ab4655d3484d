package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/certs"
)

// The browser leg. The authorization request and the loopback callback
// travel through the user's browser, not through the client's proxy.
// Under `capture -- CMD` the client's BROWSER (and xdg-open on its PATH)
// is a small script that hands the URL to this capture (a loopback
// control endpoint guarded by a random token); the capture records it
// as a request-only exchange and then opens it as --browser says:
//
//	system             the user's browser ($BROWSER as it was, else xdg-open/open)
//	none               nothing: something else walks the URL
//	chromium           a Chromium with a throwaway profile that uses the proxy
//	                   (loopback included) and trusts the CA: the whole leg is proxied
//	chromium-headless  the same, headless (tests, CI)
//	off                BROWSER is left alone
//
// See docs/browser-leg.md.
const (
	browserSystem           = "system"
	browserNone             = "none"
	browserChromium         = "chromium"
	browserChromiumHeadless = "chromium-headless"
	browserOff              = "off"
)

var browserModes = []string{browserSystem, browserNone, browserChromium, browserChromiumHeadless, browserOff}

// Environment of the helper (set for the client only).
const (
	envBrowserControl = "OAUTHLINT_BROWSER_CONTROL"
	envBrowserToken   = "OAUTHLINT_BROWSER_TOKEN"
	envBrowserShims   = "OAUTHLINT_BROWSER_SHIMS"
	helperCommand     = "__browser"
)

// browserLeg records the URLs the client opens in the browser and opens
// them.
type browserLeg struct {
	mode        string
	hasCmd      bool
	errOut      io.Writer
	showSecrets bool
	now         func() time.Time
	chromiumBin string

	dir     string // 0700: the helper scripts, Chromium profiles
	token   string
	srv     *http.Server
	ctlURL  string
	nextSeq func() int64
	add     func(*capture.Exchange)
	chrome  *chromium
	// open opens a URL in the user's browser (system mode).
	open func(raw string) error

	mu       sync.Mutex
	recorded []*browserURL
	closed   bool
}

// browserURL is one URL the client handed to the browser.
type browserURL struct {
	u     *url.URL
	raw   string
	at    time.Time
	via   string
	seq   int64
	added bool // fed to the session as a request-only exchange
	seen  bool // the proxy saw the browser request it (chromium)
}

// newBrowserLeg checks --browser; the leg starts with start.
func newBrowserLeg(o *CaptureOptions, errOut io.Writer) (*browserLeg, error) {
	hasCmd := len(o.Command) > 0
	mode := o.Browser
	if mode == "" {
		mode = browserOff
		if hasCmd {
			mode = browserSystem
		}
	}
	valid := false
	for _, m := range browserModes {
		valid = valid || m == mode
	}
	if !valid {
		return nil, usageError("--browser %q: want one of %s", mode, strings.Join(browserModes, ", "))
	}
	if !hasCmd {
		switch mode {
		case browserSystem, browserNone:
			return nil, usageError("--browser %s needs -- CMD: the client's BROWSER is set to oauthlint's helper only when oauthlint runs the client; for a client you start yourself, use --browser chromium and log in in the window it opens", mode)
		case browserChromiumHeadless:
			return nil, usageError("--browser chromium-headless needs -- CMD: a headless browser only opens the URLs the client hands it; for a client you start yourself, use --browser chromium")
		}
	}
	b := &browserLeg{mode: mode, hasCmd: hasCmd, errOut: errOut, showSecrets: o.ShowSecrets, now: o.Now}
	b.open = b.openSystem
	if mode == browserChromium || mode == browserChromiumHeadless {
		bin, err := findChromium()
		if err != nil {
			return nil, usageError("--browser %s: %v", mode, err)
		}
		b.chromiumBin = bin
	}
	return b, nil
}

// chromiumMode reports whether the browser uses the proxy.
func (b *browserLeg) chromiumMode() bool {
	return b.mode == browserChromium || b.mode == browserChromiumHeadless
}

// start prepares the leg once the proxy listens: the helper scripts and
// the control endpoint (with -- CMD), Chromium's launcher.
func (b *browserLeg) start(proxyURL string, ca *certs.CA, nextSeq func() int64, add func(*capture.Exchange)) error {
	if b.mode == browserOff {
		return nil
	}
	b.nextSeq, b.add = nextSeq, add
	dir, err := browserDir()
	if err != nil {
		return err
	}
	b.dir = dir
	if b.chromiumMode() {
		b.chrome = &chromium{bin: b.chromiumBin, headless: b.mode == browserChromiumHeadless, proxyURL: proxyURL,
			spki: spkiHash(ca), dir: dir, errOut: b.errOut}
	}
	if !b.hasCmd {
		// A Chromium for a client started by hand: log in there.
		if err := b.chrome.open("about:blank"); err != nil {
			return fmt.Errorf("--browser chromium: %w", err)
		}
		fmt.Fprintf(b.errOut, "oauthlint: browser: Chromium (%s) uses the proxy; open the authorization URL in it to capture the browser leg\n", b.chromiumBin)
		return nil
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	b.token = hex.EncodeToString(tok)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("browser helper: %w", err)
	}
	b.ctlURL = "http://" + ln.Addr().String() + "/open"
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serveOpen), ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("browser helper: %w", err)
	}
	script := func(name, args string) error {
		body := "#!/bin/sh\n# Written by oauthlint capture for the client it runs: hands the URL to the\n# capture (docs/browser-leg.md).\nexec " + shellQuote(exe) + " " + helperCommand + args + " \"$@\"\n"
		return os.WriteFile(name, []byte(body), 0o700)
	}
	if err := script(filepath.Join(dir, "browser"), ""); err != nil {
		return err
	}
	if opener := shimmedOpener(); opener != "" {
		if err := os.Mkdir(filepath.Join(dir, "bin"), 0o700); err != nil {
			return err
		}
		if err := script(filepath.Join(dir, "bin", opener), " --as "+opener); err != nil {
			return err
		}
	}
	return nil
}

// shimmedOpener is the system URL opener that the client's PATH shadows
// with the helper (clients that call it instead of $BROWSER): xdg-open
// on Linux and the BSDs, open on macOS.
func shimmedOpener() string {
	switch runtime.GOOS {
	case "darwin":
		return "open"
	case "windows":
		return ""
	}
	return "xdg-open"
}

// safePath matches what $BROWSER can hold as one program: xdg-open,
// Python's webbrowser and the npm open package split it on ':' and
// spaces, and xdg-open expands globs.
var safePath = regexp.MustCompile(`^[A-Za-z0-9._/+@,=-]+$`)

// browserDir makes the 0700 directory of the helper scripts, at a path
// $BROWSER can hold.
func browserDir() (string, error) {
	for _, base := range []string{"", "/tmp"} {
		dir, err := os.MkdirTemp(base, "oauthlint-browser-")
		if err != nil {
			continue
		}
		if safePath.MatchString(dir) {
			return dir, nil
		}
		os.RemoveAll(dir)
	}
	return "", errors.New("browser helper: no temporary directory whose path can be put in BROWSER (no spaces or colons); set TMPDIR")
}

// env is what the client's environment gets: BROWSER, the opener shim
// first on PATH, and how the helper reaches the capture.
func (b *browserLeg) env(base []string) []string {
	if b.mode == browserOff || b.srv == nil {
		return base
	}
	path := ""
	for _, kv := range base {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" {
			path = v
		}
	}
	set := map[string]string{
		"BROWSER":         filepath.Join(b.dir, "browser"),
		envBrowserControl: b.ctlURL,
		envBrowserToken:   b.token,
	}
	if shimmedOpener() != "" {
		shims := filepath.Join(b.dir, "bin")
		set[envBrowserShims] = shims
		set["PATH"] = shims + string(os.PathListSeparator) + path
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

// helperRequest is what the helper sends to the capture.
type helperRequest struct {
	URL string `json:"url"`
	Via string `json:"via"`
}

type helperResponse struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (b *browserLeg) serveOpen(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/open" {
		http.NotFound(w, r)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+b.token)) != 1 {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var req helperRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := helperResponse{OK: true}
	if err := b.opened(req.URL, req.Via); err != nil {
		resp = helperResponse{Error: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// webURL parses an absolute http(s) URL.
func webURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// opened records a URL the client opened and opens it as --browser says.
func (b *browserLeg) opened(raw, via string) error {
	u, ok := webURL(raw)
	if !ok {
		// A file or another scheme: nothing of OAuth, opened as the
		// user's session would.
		if b.mode == browserSystem {
			return b.open(raw)
		}
		return fmt.Errorf("not an http(s) URL: %q (--browser %s opens only those)", raw, b.mode)
	}
	if via == "" {
		via = "BROWSER"
	}
	now := b.now()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("the capture has ended")
	}
	// The same URL handed over twice at once (BROWSER and xdg-open
	// both reached) is one opening.
	for _, r := range b.recorded {
		if r.raw == raw && now.Sub(r.at) < 2*time.Second {
			b.mu.Unlock()
			return nil
		}
	}
	rec := &browserURL{u: u, raw: raw, at: now, via: via, seq: b.nextSeq()}
	b.recorded = append(b.recorded, rec)
	b.mu.Unlock()

	shown := b.shown(u)
	switch b.mode {
	case browserNone:
		b.feed(rec, "")
		fmt.Fprintf(b.errOut, "oauthlint: browser: recorded proxy#%d, the URL the client opened (via %s); --browser none: open it yourself to go on:\n  %s\n", rec.seq, via, b.scrub(rec))
		return nil
	case browserChromium, browserChromiumHeadless:
		fmt.Fprintf(b.errOut, "oauthlint: browser: the client opened %s (via %s); opening it in Chromium through the proxy\n", shown, via)
		if err := b.chrome.open(rec.u.String()); err != nil {
			b.feed(rec, "")
			fmt.Fprintf(b.errOut, "oauthlint: browser: Chromium: %v; recorded the URL as proxy#%d (request only)\n", err, rec.seq)
			return err
		}
		return nil
	}
	b.feed(rec, "")
	fmt.Fprintf(b.errOut, "oauthlint: browser: recorded proxy#%d, the URL the client opened (%s, via %s); opening it in your browser\n", rec.seq, shown, via)
	if err := b.open(openable(rec)); err != nil {
		fmt.Fprintf(b.errOut, "oauthlint: browser: %v; open the URL yourself:\n  %s\n", err, b.scrub(rec))
		return err
	}
	return nil
}

// openable is the URL to hand to a program: as the client gave it,
// unless it holds white space.
func openable(r *browserURL) string {
	if strings.ContainsAny(r.raw, " \t\r\n") {
		return r.u.String()
	}
	return r.raw
}

// shown names a URL in live lines without its query (it may hold
// secrets a broken client put there).
func (b *browserLeg) shown(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// scrub is the whole URL, its credentials redacted unless
// --show-secrets.
func (b *browserLeg) scrub(r *browserURL) string {
	if b.showSecrets {
		return r.raw
	}
	s := capture.NewSecretSet()
	analyze.CollectSecrets(s, capture.BrowserRequest(r.u, r.at, r.via, r.seq))
	return s.Scrub(r.raw)
}

// feed gives the session the request-only exchange of a recorded URL,
// once.
func (b *browserLeg) feed(r *browserURL, why string) {
	b.mu.Lock()
	if r.added || r.seen {
		b.mu.Unlock()
		return
	}
	r.added = true
	b.mu.Unlock()
	ex := capture.BrowserRequest(r.u, r.at, r.via, r.seq)
	if why != "" {
		ex.Comment += "; " + why
	}
	b.add(ex)
}

// observe wraps the session's OnExchange: in Chromium modes it notes
// the recorded URLs the browser requested through the proxy (those are
// not fed again as request-only exchanges).
func (b *browserLeg) observe(next func(*capture.Exchange)) func(*capture.Exchange) {
	if !b.chromiumMode() {
		return next
	}
	return func(ex *capture.Exchange) {
		if ex.Request != nil && ex.Request.URL != nil && ex.Request.Method == http.MethodGet {
			b.mu.Lock()
			for _, r := range b.recorded {
				if !r.seen && !r.added && sameRequest(r.u, ex.Request.URL) {
					r.seen = true
				}
			}
			b.mu.Unlock()
		}
		next(ex)
	}
}

// sameRequest compares URLs as a browser may rewrite them: scheme and
// host case, default port, query parameter order and encoding, fragment.
func sameRequest(a, b *url.URL) bool {
	host := func(u *url.URL) string {
		h := strings.ToLower(u.Host)
		if (u.Scheme == "https" && strings.HasSuffix(h, ":443")) || (u.Scheme == "http" && strings.HasSuffix(h, ":80")) {
			h = h[:strings.LastIndexByte(h, ':')]
		}
		return h
	}
	path := func(u *url.URL) string {
		if p := u.EscapedPath(); p != "" {
			p, _ = url.PathUnescape(p)
			return p
		}
		return "/"
	}
	if !strings.EqualFold(a.Scheme, b.Scheme) || host(a) != host(b) || path(a) != path(b) {
		return false
	}
	qa, qb := a.Query(), b.Query()
	if len(qa) != len(qb) {
		return false
	}
	for k, va := range qa {
		vb := qb[k]
		if len(va) != len(vb) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}

// stopBrowser closes the Chromium the capture started (the client has
// ended): its last requests still reach the proxy before it shuts down.
func (b *browserLeg) stopBrowser() {
	if b.chrome != nil {
		b.chrome.close()
	}
}

// flush feeds, as request-only exchanges, the URLs Chromium never
// requested through the proxy; call it after the proxy shut down and
// before the session closes.
func (b *browserLeg) flush() {
	b.mu.Lock()
	var left []*browserURL
	for _, r := range b.recorded {
		if !r.seen && !r.added {
			left = append(left, r)
		}
	}
	b.mu.Unlock()
	for _, r := range left {
		b.feed(r, "Chromium did not request it through the proxy")
	}
}

// close stops the control endpoint and removes the scripts and
// profiles.
func (b *browserLeg) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	if b.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b.srv.Shutdown(ctx)
		cancel()
	}
	b.stopBrowser()
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// injected counts the request-only exchanges fed to the session.
func (b *browserLeg) injected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.recorded {
		if r.added {
			n++
		}
	}
	return n
}

// openSystem opens a URL the way the user's session would have: the
// BROWSER the capture was started with (a ':'-separated list of
// commands, %s standing for the URL, as xdg-open and Python read it),
// else xdg-open (open on macOS). A program still running after 3 s is
// taken as a browser that opened the URL and stays open.
func (b *browserLeg) openSystem(raw string) error {
	var cmds [][]string
	if env := os.Getenv("BROWSER"); env != "" {
		for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
			if strings.TrimSpace(entry) == "" {
				continue
			}
			if strings.Contains(entry, "%s") {
				cmds = append(cmds, strings.Fields(strings.ReplaceAll(entry, "%s", raw)))
			} else {
				cmds = append(cmds, append(strings.Fields(entry), raw))
			}
		}
	} else if o := shimmedOpener(); o != "" {
		cmds = append(cmds, []string{o, raw})
	}
	if len(cmds) == 0 {
		return errors.New("no way to open a browser here (set BROWSER)")
	}
	var errs []string
	for _, c := range cmds {
		err := startBrowserProgram(c, raw)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	return errors.New("could not open a browser: " + strings.Join(errs, "; "))
}

// startBrowserProgram runs a browser opener for the URL raw in a process
// group of its own (Ctrl-C in the capture's terminal must not close the user's
// browser) and waits up to 3 s for its status.
func startBrowserProgram(argv []string, raw string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = &tail, &tail
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %v", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			// Its message may quote the URL: the capture prints it
			// redacted itself.
			if msg := strings.ReplaceAll(strings.TrimSpace(tail.String()), raw, "URL"); msg != "" {
				return fmt.Errorf("%s: %v: %s", argv[0], err, lastLine(msg))
			}
			return fmt.Errorf("%s: %v", argv[0], err)
		}
		return nil
	case <-time.After(3 * time.Second):
		return nil // a browser that stays in the foreground
	}
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = append([]byte(nil), t.b[len(t.b)-4096:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// notes says which evidence of the browser leg the capture lacks and how
// to get it; they go to stderr and into the report's input warnings.
func (b *browserLeg) notes(res *analyze.Result) []string {
	var noAuthz, noCallback []string
	for _, f := range res.Flows {
		_, a := f.Missing[string(analyze.KindAuthorize)]
		_, c := f.Missing[string(analyze.KindCallback)]
		switch {
		case a:
			noAuthz = append(noAuthz, f.ID)
		case c:
			noCallback = append(noCallback, f.ID)
		}
	}
	b.mu.Lock()
	n := len(b.recorded)
	b.mu.Unlock()
	const har = "or export a HAR of the login from the browser (developer tools, Network, Preserve log, Save all as HAR with content) and analyze it with this capture's --har file: oauthlint analyze capture.har browser.har (docs/browser-leg.md)"
	var out []string
	if len(noAuthz) > 0 {
		lead := fmt.Sprintf("browser leg: the authorization request of %s was not captured (a token request redeems a code), so the rules on it (scope, PKCE, state, resource, redirect URI) report not-available", flowList(noAuthz))
		var how string
		switch {
		case !b.hasCmd && b.mode == browserChromium:
			how = "log in in the Chromium window oauthlint opened (it uses the proxy), "
		case !b.hasCmd:
			how = "run the client under oauthlint (capture -- CMD sets its BROWSER to a helper that records the authorization URL), or use --browser chromium and log in in the window it opens, "
		case b.mode == browserOff:
			how = "run without --browser off (capture -- CMD then sets the client's BROWSER to a helper that records the authorization URL), "
		case n == 0:
			how = "the client opened no URL through $BROWSER or xdg-open (it may open the browser another way, or print the URL for you to open). Make it use $BROWSER (on a Linux desktop xdg-open prefers the desktop's handler: run the client under env -u DISPLAY -u WAYLAND_DISPLAY -u XDG_CURRENT_DESKTOP), "
		default:
			how = fmt.Sprintf("it is not among the %d URL(s) the client opened through the browser helper; ", n)
		}
		out = append(out, lead+"; to capture it: "+how+har)
	}
	if len(noCallback) > 0 {
		lead := fmt.Sprintf("browser leg: the callback of %s (the redirect back to the client carrying code and state) was not captured, so the rules on it report not-available", flowList(noCallback))
		var how string
		switch {
		case b.chromiumMode():
			how = "Chromium used the proxy, so the login may not have reached the redirect; check the Chromium window, "
		case b.hasCmd:
			how = "it goes from the browser straight to the client; --browser chromium runs a browser that sends it through the proxy, "
		default:
			how = "use --browser chromium and log in in the window it opens (its loopback requests go through the proxy), "
		}
		out = append(out, lead+"; to capture it: "+how+har)
	}
	return out
}

func flowList(ids []string) string {
	s := "flow"
	if len(ids) > 1 {
		s = "flows"
	}
	if len(ids) > 5 {
		ids = append(ids[:5:5], "…")
	}
	return s + " " + strings.Join(ids, ", ")
}

// newBrowserHelperCmd is the helper the client's BROWSER runs: it hands
// the URL to the capture that started the client (never used directly).
func newBrowserHelperCmd(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:                helperCommand + " URL",
		Short:              "Internal: the BROWSER that oauthlint capture sets for the client it runs",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBrowserHelper(io, args)
		},
	}
}

// silentExit ends with a status and nothing more to say.
func silentExit(code int) error { return &exitError{code: code, err: errors.New("")} }

func runBrowserHelper(ios *IOStreams, args []string) error {
	via := "BROWSER"
	if len(args) >= 2 && args[0] == "--as" {
		via, args = args[1], args[2:]
	}
	ctl, token := os.Getenv(envBrowserControl), os.Getenv(envBrowserToken)
	var u string
	if len(args) == 1 {
		if _, ok := webURL(args[0]); ok || via == "BROWSER" {
			// $BROWSER may be asked to open a file too: the capture
			// opens it in the user's browser without recording it.
			u = args[0]
		}
	}
	if u == "" || ctl == "" {
		if via != "BROWSER" {
			// xdg-open/open called for something else (a file, flags):
			// the real one does it.
			return passThrough(ios, via, args)
		}
		if ctl == "" {
			return usageError("%s is run by the clients of oauthlint capture as their BROWSER; it does nothing by itself", helperCommand)
		}
		return usageError("browser helper: want one URL, got %q", args)
	}
	body, _ := json.Marshal(helperRequest{URL: u, Via: via})
	req, err := http.NewRequest(http.MethodPost, ctl, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	// The client's environment points at the capture proxy: the
	// control endpoint is reached directly.
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Do(req)
	if err != nil {
		if via != "BROWSER" {
			return passThrough(ios, via, args)
		}
		return fmt.Errorf("browser helper: the capture is not reachable (%v); open the URL yourself: %s", err, u)
	}
	defer resp.Body.Close()
	var r helperResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r) != nil {
		return fmt.Errorf("browser helper: the capture answered %s", resp.Status)
	}
	if !r.OK {
		return fmt.Errorf("browser helper: %s", r.Error)
	}
	return nil
}

// passThrough runs the real program the shim shadows, found on PATH
// without the shim directory.
func passThrough(ios *IOStreams, name string, args []string) error {
	shims := os.Getenv(envBrowserShims)
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "" && filepath.Clean(d) != filepath.Clean(shims) {
			dirs = append(dirs, d)
		}
	}
	var bin string
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			bin = p
			break
		}
	}
	if bin == "" {
		return fmt.Errorf("%s: not found on PATH", name)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PATH="+strings.Join(dirs, string(os.PathListSeparator)))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = ios.In, ios.Out, ios.ErrOut
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return silentExit(ee.ExitCode())
		}
		return err
	}
	return nil
}
