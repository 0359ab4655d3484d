package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/oauthlint/oauthlint/certs"
)

// chromium runs Chromium for --browser chromium[-headless]: a throwaway
// profile, every request through the capture proxy (loopback included,
// so the callback to the client's redirect URI is captured), and the
// capture CA accepted for that profile only.
type chromium struct {
	bin      string
	headless bool
	proxyURL string
	spki     string
	dir      string
	errOut   io.Writer

	mu     sync.Mutex
	procs  []*chromeProc
	n      int
	closed bool
}

type chromeProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	tail *tailBuffer
}

// findChromium looks for Chromium or Chrome: $OAUTHLINT_CHROMIUM, then
// the usual names on PATH, then the macOS application bundles.
func findChromium() (string, error) {
	if p := os.Getenv("OAUTHLINT_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("OAUTHLINT_CHROMIUM=%s: %v", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if runtime.GOOS == "darwin" {
		for _, p := range []string{"/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"} {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", errors.New("no Chromium found: install it (Debian: apt-get install chromium) or set OAUTHLINT_CHROMIUM to the binary of Chromium or Chrome")
}

// spkiHash is the base64 SHA-256 of the CA's public key, as
// --ignore-certificate-errors-spki-list wants it. The proxy's leaves are
// sent with the CA in the chain, so this one hash covers every host.
func spkiHash(ca *certs.CA) string {
	sum := sha256.Sum256(ca.Cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// args is Chromium's command line for one profile and URL.
func (c *chromium) args(profile, u string) []string {
	a := []string{
		"--user-data-dir=" + profile,
		"--proxy-server=" + c.proxyURL,
		// Chromium never proxies loopback unless told to: the callback
		// to http://127.0.0.1:PORT/ would bypass the capture.
		"--proxy-bypass-list=<-loopback>",
		// Accept the capture CA in this throwaway profile only (it needs
		// --user-data-dir); the proxy verifies the real servers.
		"--ignore-certificate-errors-spki-list=" + c.spki,
		"--no-first-run",
		"--no-default-browser-check",
		// As little traffic of the browser's own as it allows (update
		// checks, network time, account lookups): the capture is about
		// the login. HttpsUpgrades: no https:// attempt first for an
		// http:// URL, the capture shows what the client asked for.
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-field-trial-config",
		"--disable-client-side-phishing-detection",
		"--disable-sync",
		"--disable-default-apps",
		"--no-service-autorun",
		"--disable-quic",
		"--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
		"--password-store=basic",
		"--use-mock-keychain",
	}
	if c.headless {
		a = append(a, "--headless", "--disable-gpu")
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox.
		a = append(a, "--no-sandbox")
	}
	return append(a, u)
}

// open shows u in Chromium. A windowed Chromium keeps one profile (a
// second start hands the URL to the running browser, as a new tab); a
// headless one is started afresh for each URL.
func (c *chromium) open(u string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("the capture has ended")
	}
	c.n++
	profile := filepath.Join(c.dir, "chromium-profile")
	if c.headless {
		profile = fmt.Sprintf("%s-%d", profile, c.n)
	}
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(c.bin, c.args(profile, u)...)
	tail := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = tail, tail
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %v", c.bin, err)
	}
	p := &chromeProc{cmd: cmd, done: make(chan struct{}), tail: tail}
	c.procs = append(c.procs, p)
	go func() {
		err := cmd.Wait()
		close(p.done)
		c.mu.Lock()
		closing := c.closed
		c.mu.Unlock()
		if err != nil && !closing {
			fmt.Fprintf(c.errOut, "oauthlint: browser: Chromium exited: %v\n%s", err, indent(lastLines(tail.String(), 5)))
		}
	}()
	return nil
}

// close ends every Chromium started (and what they started), politely
// first.
func (c *chromium) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	procs := c.procs
	c.mu.Unlock()
	for _, p := range procs {
		signalGroup(p.cmd, false)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(time.Until(deadline)):
			signalGroup(p.cmd, true)
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
			}
		}
	}
	// The group's other processes (renderers, zygote) when the
	// launcher itself is already gone.
	for _, p := range procs {
		signalGroup(p.cmd, true)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
