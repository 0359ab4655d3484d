package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/certs"
	"github.com/oauthlint/oauthlint/internal/hugepages"
	"github.com/oauthlint/oauthlint/live"
	"github.com/oauthlint/oauthlint/mitm"
	"github.com/oauthlint/oauthlint/report"
)

// CaptureOptions are the capture command's inputs; the analysis and
// output flags are those of analyze.
type CaptureOptions struct {
	AnalyzeOptions
	Proxy            string
	HAR              string
	CADir            string
	UpstreamInsecure bool
	UpstreamCA       []string
	// UpstreamTimeout bounds the wait for an upstream's response headers
	// (0: mitm.DefaultUpstreamTimeout; negative: no limit).
	UpstreamTimeout time.Duration
	Verbose         bool
	// Browser says how the browser leg is captured: system, none,
	// chromium, chromium-headless or off ("": system with a command,
	// off without); see browser.go.
	Browser string
	Command []string
	// Signals delivers SIGINT/SIGTERM (tests inject their own).
	Signals chan os.Signal
	// Ready, when set, receives the proxy URL once it listens (tests).
	Ready func(proxyURL string)
}

func newCaptureCmd(io *IOStreams) *cobra.Command {
	opts := &CaptureOptions{AnalyzeOptions: AnalyzeOptions{IO: io, Now: time.Now}}
	cmd := &cobra.Command{
		Use:   "capture [--proxy ADDR] [flags] [-- CMD ARGS...]",
		Short: "Run a MITM proxy and lint the OAuth traffic through it while the client runs",
		Long: `Capture runs an HTTP/HTTPS proxy that intercepts TLS with oauthlint's local CA
(created on first use, see 'oauthlint ca'), analyzes flows as they happen and
prints each finding on stderr as soon as its flow can decide it. When the
capture ends (Ctrl-C, SIGTERM, or the end of CMD) the remaining flows are
finalized and the full report goes to stdout in --format, so stdout stays
machine-readable.

Without a command, point the client at the proxy yourself (HTTPS_PROXY) and make
it trust the CA; the command prints how. With '-- CMD ARGS', oauthlint starts the
proxy on a free loopback port and runs CMD with the proxy and CA trust set for
it (HTTP_PROXY, HTTPS_PROXY, NODE_USE_ENV_PROXY, NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, and a Node preload that
routes fetch() through the proxy where Node ignores HTTPS_PROXY), forwards
signals and stdin, and exits with CMD's status unless findings reach --fail-on
(then 1). CMD's stdout is shown on stderr.

The authorization request and the callback travel through the browser, not
the client's proxy. With '-- CMD', the client's BROWSER (and xdg-open on its
PATH) is a helper that hands the URL to the capture, which records it as a
request-only exchange (so the rules on the authorization request have their
evidence) and opens it as --browser says: system (default: your browser),
none (nobody: something else walks the URL), chromium or chromium-headless
(a Chromium with a throwaway profile that uses the proxy, loopback included,
and accepts the capture CA: the whole browser leg, callback included, is
captured), off (BROWSER left alone). When a flow lacks the authorization
request or the callback, the report says so and how to get it.

The proxy listens on loopback unless --proxy names another host explicitly
(then it warns: anyone who can reach it can use it). Upstream certificates are
verified; use --upstream-ca or --upstream-insecure for test servers.`,
		Example: `  # Proxy for a client you start yourself
  oauthlint capture --proxy :8888 --har session.har

  # Run the client through the proxy in one command; JSON report on stdout
  oauthlint capture --format json -- npx mcp-remote https://mcp.example.com/mcp > report.json

  # A test server with a self-signed certificate
  oauthlint capture --upstream-ca test-ca.pem -- node client.js

  # The whole browser leg (authorize, login, callback) through the proxy
  oauthlint capture --browser chromium -- npx mcp-remote https://mcp.example.com/mcp`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash > 0 {
					return usageError("unexpected argument %q before --; capture takes flags, then -- CMD ARGS", args[0])
				}
				opts.Command = args[dash:]
			} else if len(args) > 0 {
				return usageError("unexpected argument %q: to run a client through the proxy, put it after --: oauthlint capture -- %s", args[0], strings.Join(args, " "))
			}
			if !cmd.Flags().Changed("format") {
				opts.Format = ""
			}
			if cmd.Flags().Changed("upstream-timeout") {
				switch {
				case opts.UpstreamTimeout < 0:
					return usageError("--upstream-timeout %v: want a duration such as 60s or 5m, or 0 to wait without limit", opts.UpstreamTimeout)
				case opts.UpstreamTimeout == 0:
					opts.UpstreamTimeout = -1 // no limit
				}
			}
			return runCapture(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Proxy, "proxy", "", "listen address (default :8888, or a free loopback port with -- CMD); a host other than loopback must be given explicitly")
	f.StringVar(&opts.HAR, "har", "", "write every exchange to this HAR file as it completes (redacted unless --show-secrets; readable by analyze even if the capture is killed)")
	f.StringVar(&opts.CADir, "ca-dir", "", "directory of the CA (default $OAUTHLINT_CA_DIR or <user config dir>/oauthlint)")
	f.BoolVar(&opts.UpstreamInsecure, "upstream-insecure", false, "do not verify upstream server certificates (test servers only)")
	f.StringArrayVar(&opts.UpstreamCA, "upstream-ca", nil, "trust this PEM CA for upstream servers instead of the system roots (repeatable)")
	f.DurationVar(&opts.UpstreamTimeout, "upstream-timeout", mitm.DefaultUpstreamTimeout, "how long to wait for an upstream server's response headers before recording the exchange as failed and answering the client 502; 0 waits without limit (streamed response bodies are never cut)")
	f.StringVar(&opts.Browser, "browser", "", "how the browser leg (authorization request, callback) is captured: "+strings.Join(browserModes, "|")+" (default: system with -- CMD: the client's BROWSER records the authorization URL, then opens your browser; chromium: a proxied Chromium captures the whole leg)")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print every OAuth/MCP exchange on stderr as it completes")
	f.StringVar(&opts.Format, "format", "", "format of the final report on stdout: "+strings.Join(report.Formats(), "|")+" (default: table on a terminal, tsv when piped)")
	f.StringArrayVarP(&opts.Outputs, "output", "o", nil, "also write the final report to a file, as FORMAT=FILE (repeatable)")
	f.StringVar(&opts.FailOn, "fail-on", "high", "exit 1 when a violation of this severity or worse is found: critical|high|medium|low|info|none")
	f.StringVar(&opts.MCPRevision, "mcp-revision", "auto", "MCP revision to judge flows under: auto or a revision")
	f.StringSliceVar(&opts.Packs, "packs", []string{"auto"}, "rule packs to run: auto, or a comma list")
	f.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print and save tokens, codes and secrets unredacted")
	f.Int64Var(&opts.MaxBody, "max-body", mitm.DefaultMaxBody, "cap in bytes for each recorded body")
	addRuleFlags(f, &opts.AnalyzeOptions)
	return cmd
}

func runCapture(o *CaptureOptions) (err error) {
	start := o.Now()
	defer hugepages.Start()()
	bl, err := newBrowserLeg(o, o.IO.ErrOut)
	if err != nil {
		return err
	}
	p, err := o.prepare(false)
	if err != nil {
		return err
	}
	addr := o.Proxy
	if addr == "" {
		addr = ":8888"
		if len(o.Command) > 0 {
			addr = "127.0.0.1:0"
		}
	}
	caDir := o.CADir
	if caDir == "" {
		if caDir, err = certs.DefaultDir(); err != nil {
			return usageError("%v", err)
		}
	}
	ca, created, err := certs.LoadOrCreate(caDir)
	if err != nil {
		return usageError("%v", err)
	}
	var roots *x509.CertPool
	if len(o.UpstreamCA) > 0 {
		roots = x509.NewCertPool()
		for _, f := range o.UpstreamCA {
			b, err := os.ReadFile(f)
			if err != nil {
				return usageError("--upstream-ca: %v", err)
			}
			if !roots.AppendCertsFromPEM(b) {
				return usageError("--upstream-ca %s: no PEM certificate in the file", f)
			}
		}
	}
	ln, remote, err := mitm.Listen(addr)
	if err != nil {
		return usageError("%v", err)
	}
	proxyURL := "http://" + ln.Addr().String()
	// The proxy, the live session and the child all write to stderr from
	// their own goroutines.
	errOut := &lockedWriter{w: o.IO.ErrOut}
	bl.errOut = errOut
	if remote {
		fmt.Fprintf(errOut, "oauthlint: WARNING: the proxy listens on %s, reachable from other machines: anyone who can connect can use it and see what passes through\n", ln.Addr())
	}

	var hw *har.Writer
	var harSecrets *capture.SecretSet
	if o.HAR != "" {
		wo := har.WriterOptions{Creator: "oauthlint", Version: Version(), Comment: "captured by oauthlint capture"}
		if !o.ShowSecrets {
			harSecrets = capture.NewSecretSetWith(capture.RedactToken)
			wo.Redact = harSecrets.Scrub
			wo.Comment += "; credentials redacted"
		}
		if hw, err = har.Create(o.HAR, wo); err != nil {
			ln.Close()
			return usageError("--har: %v", err)
		}
	}
	sess := live.New(live.Options{Engine: p.engine, RunOptions: p.runOpts, MCPRevision: o.MCPRevision, Config: p.cfg, Baseline: p.baseline,
		Out: errOut, Verbose: o.Verbose, HAR: hw, HARSecrets: harSecrets, ShowSecrets: o.ShowSecrets})
	proxy, err := mitm.New(mitm.Options{CA: ca, UpstreamInsecure: o.UpstreamInsecure, UpstreamRoots: roots, MaxBody: o.MaxBody,
		UpstreamTimeout: o.UpstreamTimeout, OnExchange: bl.observe(sess.Add), AllowRemote: remote, Warn: func(format string, args ...any) {
			fmt.Fprintf(errOut, "oauthlint: "+format+"\n", args...)
		}})
	if err != nil {
		ln.Close()
		return usageError("%v", err)
	}
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(ln) }()
	defer bl.close()
	if err := bl.start(proxyURL, ca, proxy.NextSeq, sess.Add); err != nil {
		proxy.Shutdown(context.Background())
		sess.Close()
		if hw != nil {
			hw.Close()
		}
		return err
	}
	if o.Ready != nil {
		o.Ready(proxyURL)
	}

	sigs := o.Signals
	if sigs == nil {
		sigs = make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
	}

	childCode := -1
	if len(o.Command) > 0 {
		if created {
			fmt.Fprintf(errOut, "oauthlint: created a local CA in %s for this capture\n", caDir)
		}
		childCode, err = runChild(o, ca, proxyURL, bl, sigs, errOut)
		if err == nil {
			// The capture covers the client's whole run: its end is the
			// client's (a client that exits right after registering
			// rejected the response).
			run := capture.ClientRun{Command: strings.Join(o.Command, " "), ExitCode: childCode, Ended: o.Now()}
			sess.SetClientRun(run)
			if hw != nil {
				hw.SetClientRun(run)
			}
		}
		if err != nil {
			bl.stopBrowser()
			proxy.Shutdown(context.Background())
			sess.Close()
			if hw != nil {
				hw.Close()
			}
			return err
		}
	} else {
		if created {
			fmt.Fprintf(errOut, "oauthlint: created a local CA in %s\n", caDir)
		}
		fmt.Fprintf(errOut, "oauthlint: proxy listening on %s; press Ctrl-C to stop and print the report\n\n", proxyURL)
		fmt.Fprint(errOut, indent(certs.TrustHints(ca.CertPath(), proxyURL)))
		fmt.Fprintln(errOut)
		select {
		case <-sigs:
			fmt.Fprintln(errOut, "\noauthlint: stopping")
		case err := <-served:
			if err != nil {
				return fmt.Errorf("proxy: %w", err)
			}
		}
	}

	// The browser the capture started goes first: its last requests
	// still reach the proxy, which then records what is in flight.
	bl.stopBrowser()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	proxy.Shutdown(ctx)
	cancel()
	bl.flush()
	sess.Close()
	if hw != nil {
		if err := hw.Close(); err != nil {
			fmt.Fprintf(errOut, "oauthlint: --har: %v\n", err)
		}
		fmt.Fprintf(errOut, "oauthlint: %d exchange(s) written to %s\n", hw.Entries(), o.HAR)
	}
	for _, e := range sess.Errors() {
		fmt.Fprintf(errOut, "oauthlint: %v\n", e)
	}
	res, findings, suppressed := sess.Analyze()
	helper := bl.injected()
	inputs := []report.Input{{File: "proxy " + proxyURL, Format: "proxy", Creator: "oauthlint capture", Entries: len(res.Exchanges) - helper, Exchanges: len(res.Exchanges) - helper, Warnings: []string{}}}
	if helper > 0 {
		inputs = append(inputs, report.Input{File: "browser helper (the client's BROWSER)", Format: "browser-helper", Creator: "oauthlint capture",
			Entries: helper, Exchanges: helper, Warnings: []string{"authorization URLs the client opened in the browser, recorded as requests only (not proxied: no response, no browser headers or cookies)"}})
	}
	for _, n := range bl.notes(res) {
		fmt.Fprintf(errOut, "oauthlint: %s\n", n)
		inputs[0].Warnings = append(inputs[0].Warnings, n)
	}
	err = p.emit(res, findings, suppressed, inputs, start)
	if childCode > 0 && err == nil {
		return &exitError{code: childCode}
	}
	return err
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// runChild runs the client with the proxy and CA trust set for it and
// returns its exit status.
func runChild(o *CaptureOptions, ca *certs.CA, proxyURL string, bl *browserLeg, sigs chan os.Signal, errOut io.Writer) (int, error) {
	tmp, err := os.MkdirTemp("", "oauthlint-capture-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bundle, err := ca.Bundle(filepath.Join(tmp, "ca-bundle.pem"))
	if err != nil {
		return 0, err
	}
	preload := filepath.Join(tmp, "proxy-preload.mjs")
	if err := os.WriteFile(preload, []byte(nodePreload), 0o644); err != nil {
		return 0, err
	}
	cmd := exec.Command(o.Command[0], o.Command[1:]...)
	cmd.Env = bl.env(childEnv(os.Environ(), proxyURL, ca.CertPath(), bundle, preload))
	cmd.Stdin = o.IO.In
	cmd.Stdout = errOut
	cmd.Stderr = errOut
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return 0, usageError("cannot run %s: %v", o.Command[0], ee.Err)
		}
		return 0, usageError("cannot run %s: %v", o.Command[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			// Forward to the child and keep waiting for it to finish.
			if cmd.Process != nil {
				cmd.Process.Signal(s)
			}
		case err := <-done:
			if err == nil {
				return 0, nil
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
					return 128 + int(st.Signal()), nil
				}
				return ee.ExitCode(), nil
			}
			return 0, fmt.Errorf("%s: %w", o.Command[0], err)
		}
	}
}

// childEnv sets the proxy and the CA trust for the usual ecosystems,
// replacing any values already there.
func childEnv(base []string, proxyURL, caPath, bundle, preload string) []string {
	set := map[string]string{
		"HTTP_PROXY": proxyURL, "HTTPS_PROXY": proxyURL, "http_proxy": proxyURL, "https_proxy": proxyURL,
		// Loopback servers (local MCP servers, test ASes) must go through
		// the proxy too.
		"NO_PROXY": "", "no_proxy": "",
		"NODE_USE_ENV_PROXY":  "1",
		"NODE_EXTRA_CA_CERTS": caPath,
		"SSL_CERT_FILE":       bundle,
		"REQUESTS_CA_BUNDLE":  bundle,
		"CURL_CA_BUNDLE":      bundle,
		"GIT_SSL_CAINFO":      bundle,
		"OAUTHLINT_PROXY":     proxyURL,
	}
	nodeOpts := "--import=" + preload
	var out []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok {
			continue
		}
		if k == "NODE_OPTIONS" {
			nodeOpts = strings.TrimSpace(v + " " + nodeOpts)
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return append(out, "NODE_OPTIONS="+nodeOpts)
}

// nodePreload routes fetch() through the proxy on Node versions that
// ignore HTTPS_PROXY (before NODE_USE_ENV_PROXY), using the client's own
// undici when it has one.
const nodePreload = `// Written by oauthlint capture: route fetch() through the capture proxy.
import { createRequire } from 'node:module';
const proxy = process.env.OAUTHLINT_PROXY;
if (proxy) {
  for (const base of [process.cwd() + '/', import.meta.url]) {
    try {
      const undici = createRequire(base)('undici');
      const agent = undici.EnvHttpProxyAgent ? new undici.EnvHttpProxyAgent() : new undici.ProxyAgent(proxy);
      undici.setGlobalDispatcher(agent);
      break;
    } catch {}
  }
}
`
