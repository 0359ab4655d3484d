// Package harness runs one e2e scenario: it starts a real authorization
// server (ORY Hydra with an auto-accepting login/consent app, or node
// oidc-provider), a real MCP server, and a real client on loopback, and
// records the client's traffic three ways:
//
//   - live: `oauthlint capture --har FILE --format json -- CLIENT` (the JSON
//     report and the HAR it wrote);
//   - pcap: the same client run again without the proxy while tcpdump records
//     lo (with TLS, Node writes its session keys with --tls-keylog).
//
// When the kernel allows it, every scenario runs in its own network namespace
// (a re-exec of the current binary with CLONE_NEWNET and only lo up): nothing
// can leave the machine and fixed ports never collide. Otherwise it runs on
// the host's loopback with free ports.
package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oauthlint/oauthlint/e2e/manifest"
)

// Tools are the programs a scenario needs.
type Tools struct {
	Node      string // node
	NodeDir   string // e2e/node (with node_modules)
	Oauthlint string // the oauthlint binary under test
	Hydra     string // the hydra binary (only for hydra scenarios)
	Tcpdump   string // tcpdump; "" skips the pcap leg
	Claude    string // Claude Code's claude binary (only for claude-code scenarios)
}

// Job is one scenario run.
type Job struct {
	Tools
	Name    string         `json:"name"`
	Setup   manifest.Setup `json:"setup"`
	Analyze []string       `json:"analyze"`
	// Dir receives everything: configs, logs, reports, captures.
	Dir string `json:"dir"`
	// TLS serves every server over HTTPS (test CA); the pcap leg then needs
	// the key log.
	TLS bool `json:"tls"`
	// Isolate runs the scenario in its own network namespace when possible.
	Isolate bool `json:"isolate"`
	// Timeout bounds each client run.
	Timeout time.Duration `json:"timeout"`
}

// Result says where the outputs of a run are.
type Result struct {
	Isolated   bool   `json:"isolated"`
	TLS        bool   `json:"tls"`
	LiveReport string `json:"live_report"` // JSON report of oauthlint capture
	LiveHAR    string `json:"live_har"`    // the HAR oauthlint capture wrote
	LiveExit   int    `json:"live_exit"`   // the client's exit status under capture
	Pcap       string `json:"pcap,omitempty"`
	Keylog     string `json:"keylog,omitempty"`
	PcapExit   int    `json:"pcap_exit"` // the client's exit status in the pcap leg
	Log        string `json:"log"`       // every process's output, prefixed by its name
	// Timings of the phases (servers, live leg, pcap leg), for the log.
	Timings []Timing `json:"timings"`
}

// Timing is how long one phase of a run took.
type Timing struct {
	Phase    string        `json:"phase"`
	Duration time.Duration `json:"duration"`
}

// TimingString lists the phases as "servers 2.1s, live 3.4s, pcap 3.0s".
func (r *Result) TimingString() string {
	var parts []string
	for _, t := range r.Timings {
		parts = append(parts, fmt.Sprintf("%s %s", t.Phase, t.Duration.Round(10*time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// innerEnv names the job file a re-executed binary must run.
const innerEnv = "OAUTHLINT_E2E_INNER"

// MaybeInner runs the job named by OAUTHLINT_E2E_INNER, if set, and exits:
// call it first in TestMain or main of any binary that calls Run.
func MaybeInner() {
	path := os.Getenv(innerEnv)
	if path == "" {
		return
	}
	os.Exit(inner(path))
}

func inner(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e inner: %v\n", err)
		return 2
	}
	var job Job
	if err := json.Unmarshal(b, &job); err != nil {
		fmt.Fprintf(os.Stderr, "e2e inner: %s: %v\n", path, err)
		return 2
	}
	if err := bringLoopbackUp(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e inner: %v\n", err)
		return 2
	}
	res, err := runScenario(&job, true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e inner: %v\n", err)
		return 1
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(job.Dir, "result.json"), out, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "e2e inner: %v\n", err)
		return 1
	}
	return 0
}

// Run runs the job, in a network namespace of its own when job.Isolate is set
// and the kernel allows it.
func Run(job *Job) (*Result, error) {
	if err := os.MkdirAll(job.Dir, 0o755); err != nil {
		return nil, err
	}
	if job.Timeout == 0 {
		job.Timeout = 90 * time.Second
	}
	if !job.Isolate {
		return runScenario(job, false)
	}
	jobFile := filepath.Join(job.Dir, "job.json")
	b, _ := json.MarshalIndent(job, "", "  ")
	if err := os.WriteFile(jobFile, b, 0o644); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(cleanEnv(), innerEnv+"="+jobFile)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) {
			// No network namespaces here (not root, or a sandbox that
			// forbids them): the host's loopback with free ports.
			return runScenario(job, false)
		}
		return nil, fmt.Errorf("start the isolated run: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("isolated run of %s failed (%v):\n%s", job.Name, err, out.String())
	}
	rb, err := os.ReadFile(filepath.Join(job.Dir, "result.json"))
	if err != nil {
		return nil, fmt.Errorf("isolated run of %s wrote no result (%v):\n%s", job.Name, err, out.String())
	}
	var res Result
	if err := json.Unmarshal(rb, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ports of a scenario. In a namespace of its own they are fixed (the
// addresses in logs and captures read the same every run); on the host they
// are free ones.
type ports struct {
	AS, Admin, Login, RS, Callback int
}

func pickPorts(isolated bool) (ports, error) {
	if isolated {
		return ports{AS: 4444, Admin: 4445, Login: 3000, RS: 3001, Callback: 33418}, nil
	}
	var p ports
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for _, dst := range []*int{&p.AS, &p.Admin, &p.Login, &p.RS, &p.Callback} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return p, err
		}
		ls = append(ls, l)
		*dst = l.Addr().(*net.TCPAddr).Port
	}
	return p, nil
}

// stack is the servers of a running scenario.
type stack struct {
	job    *Job
	ports  ports
	scheme string
	tls    tlsFiles
	procs  []*proc
	log    io.Writer
	http   *http.Client // the harness's own calls (readiness), trusting the test CA
}

func (s *stack) url(port int, path string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d%s", s.scheme, port, path)
}

func (s *stack) writeJSON(name string, v any) (string, error) {
	p := filepath.Join(s.job.Dir, name)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return p, os.WriteFile(p, b, 0o644)
}

func (s *stack) stop() {
	// Reverse order: the resource server before the AS it calls.
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop(syscall.SIGTERM, 5*time.Second)
	}
}

// serverEnv is the environment of the servers: no proxy (a dead one, so a
// server that tries to reach the internet fails at once and visibly), and
// the test CA trusted for their calls to each other.
func (s *stack) serverEnv() []string {
	env := cleanEnv("HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost,::1")
	if s.tls.CA != "" {
		env = append(env, "NODE_EXTRA_CA_CERTS="+s.tls.CA)
	}
	return env
}

func (s *stack) startNode(name, script string, cfg map[string]any) (*proc, error) {
	if s.tls.CA != "" {
		cfg["tls"] = map[string]string{"cert": s.tls.Cert, "key": s.tls.Key}
		cfg["ca"] = s.tls.CA
	}
	cfgPath, err := s.writeJSON(name+".json", cfg)
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, s.job.NodeDir, s.serverEnv(), s.log, s.job.Node, filepath.Join("src", script), cfgPath)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	if _, err := p.waitReady(30 * time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// startAS starts the authorization server and returns the URL of its
// metadata and how the resource server verifies its access tokens.
func (s *stack) startAS() (metadataURL string, verify map[string]any, err error) {
	set := s.job.Setup
	resource := s.url(s.ports.RS, "/mcp")
	issuer := s.url(s.ports.AS, "")
	switch set.AS {
	case "hydra":
		cfgPath := filepath.Join(s.job.Dir, "hydra.yaml")
		if err := os.WriteFile(cfgPath, []byte(s.hydraConfig(issuer)), 0o644); err != nil {
			return "", nil, err
		}
		args := []string{s.job.Hydra, "serve", "all", "--sqa-opt-out", "-c", cfgPath}
		if s.tls.CA == "" {
			args = append(args, "--dev")
		}
		p, err := startProc("hydra", s.job.Dir, s.serverEnv(), s.log, args...)
		if err != nil {
			return "", nil, err
		}
		s.procs = append(s.procs, p)
		// Both listeners: the admin one answers first.
		if err := p.waitHTTP(s.http, s.url(s.ports.Admin, "/health/ready"), 60*time.Second); err != nil {
			return "", nil, err
		}
		// The first discovery request makes Hydra generate its RSA signing
		// keys (seconds on a loaded machine; a request given up on starts
		// the generation again), so this one gets a long time-out.
		slow := *s.http
		slow.Timeout = 90 * time.Second
		if err := p.waitHTTP(&slow, issuer+"/.well-known/openid-configuration", 90*time.Second); err != nil {
			return "", nil, err
		}
		if _, err := s.startNode("hydra-login", "hydra-login.mjs", map[string]any{
			"host": "127.0.0.1", "port": s.ports.Login, "admin": s.url(s.ports.Admin, ""),
		}); err != nil {
			return "", nil, err
		}
		return issuer + "/.well-known/openid-configuration",
			map[string]any{"kind": "introspect", "url": s.url(s.ports.Admin, "/admin/oauth2/introspect")}, nil
	case "oidc-provider":
		cfg := map[string]any{"host": "127.0.0.1", "port": s.ports.AS, "issuer": issuer, "resource": resource}
		if len(set.ASScopes) > 0 {
			cfg["scopes"] = set.ASScopes
		}
		if _, err := s.startNode("oidc-provider", "as-oidc.mjs", cfg); err != nil {
			return "", nil, err
		}
		return issuer + "/.well-known/openid-configuration",
			map[string]any{"kind": "jwt", "issuer": issuer, "jwks_uri": issuer + "/jwks"}, nil
	}
	return "", nil, fmt.Errorf("unknown authorization server %q", set.AS)
}

// hydraConfig is Hydra's configuration: in-memory database, dynamic client
// registration on and advertised (Hydra lists registration_endpoint only
// when client_registration_url is set), the scenario's scopes_supported,
// and the login/consent app.
func (s *stack) hydraConfig(issuer string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dsn: memory\n")
	fmt.Fprintf(&b, "serve:\n  public: {host: 127.0.0.1, port: %d}\n  admin: {host: 127.0.0.1, port: %d}\n", s.ports.AS, s.ports.Admin)
	if s.tls.CA != "" {
		fmt.Fprintf(&b, "  tls:\n    enabled: true\n    cert: {path: %q}\n    key: {path: %q}\n", s.tls.Cert, s.tls.Key)
	}
	fmt.Fprintf(&b, "urls:\n  self: {issuer: %q}\n  login: %q\n  consent: %q\n", issuer, s.url(s.ports.Login, "/login"), s.url(s.ports.Login, "/consent"))
	fmt.Fprintf(&b, "oidc:\n  dynamic_client_registration: {enabled: true}\n")
	fmt.Fprintf(&b, "webfinger:\n  oidc_discovery:\n    client_registration_url: %q\n", issuer+"/oauth2/register")
	if len(s.job.Setup.ASScopes) > 0 {
		q := make([]string, len(s.job.Setup.ASScopes))
		for i, sc := range s.job.Setup.ASScopes {
			q[i] = strconv.Quote(sc)
		}
		fmt.Fprintf(&b, "    supported_scope: [%s]\n", strings.Join(q, ", "))
	}
	fmt.Fprintf(&b, "secrets:\n  system: [\"oauthlint-e2e-system-secret-0123456789\"]\n")
	fmt.Fprintf(&b, "log:\n  level: warn\n")
	return b.String()
}

func runScenario(job *Job, isolated bool) (res *Result, err error) {
	if err := os.MkdirAll(job.Dir, 0o755); err != nil {
		return nil, err
	}
	if job.Timeout == 0 {
		job.Timeout = 90 * time.Second
	}
	logPath := filepath.Join(job.Dir, "processes.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	log := &syncWriter{w: logFile}
	p, err := pickPorts(isolated)
	if err != nil {
		return nil, err
	}
	s := &stack{job: job, ports: p, scheme: "http", log: log, http: &http.Client{Timeout: 2 * time.Second}}
	if job.TLS {
		s.scheme = "https"
		if s.tls, err = makeTLS(filepath.Join(job.Dir, "tls")); err != nil {
			return nil, err
		}
		pem, _ := os.ReadFile(s.tls.CA)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		// No keep-alive: an idle readiness-probe connection that a server
		// closes seconds later (Node's 5 s keepAliveTimeout) shows up in the
		// pcap leg as a TLS connection without a handshake.
		s.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Proxy: nil, DisableKeepAlives: true}
	} else {
		s.http.Transport = &http.Transport{Proxy: nil, DisableKeepAlives: true}
	}
	defer s.stop()

	set := job.Setup
	phase := time.Now()
	var timings []Timing
	mark := func(name string) {
		timings = append(timings, Timing{name, time.Since(phase)})
		phase = time.Now()
	}
	metadataURL, verify, err := s.startAS()
	if err != nil {
		return nil, err
	}
	resource := s.url(p.RS, "/mcp")
	rsCfg := map[string]any{
		"host": "127.0.0.1", "port": p.RS, "resource": resource, "as_metadata_url": metadataURL,
		"prm_scopes": nilIfEmpty(set.PRMScopes), "challenge_scope": nilIfEmpty(set.ChallengeScope), "verify": verify,
	}
	if _, err := s.startNode("mcp-server", "rs.mjs", rsCfg); err != nil {
		return nil, err
	}

	mark("servers")
	res = &Result{Isolated: isolated, TLS: job.TLS, Log: logPath}
	defer func() {
		if res != nil {
			res.Timings = timings
		}
	}()
	// Leg 1: through oauthlint capture.
	res.LiveReport = filepath.Join(job.Dir, "live.json")
	res.LiveHAR = filepath.Join(job.Dir, "live.har")
	clientArgs, err := s.clientCommand(resource, "live")
	if err != nil {
		return nil, err
	}
	args := []string{job.Oauthlint, "capture", "--format", "json", "--fail-on", "none", "--har", res.LiveHAR,
		"--ca-dir", filepath.Join(job.Dir, "oauthlint-ca"), "-o", "table=" + filepath.Join(job.Dir, "live.txt")}
	if s.tls.CA != "" {
		args = append(args, "--upstream-ca", s.tls.CA)
	}
	args = append(args, job.Analyze...)
	args = append(args, "--")
	args = append(args, clientArgs...)
	if res.LiveExit, err = s.runCapture(args, res.LiveReport); err != nil {
		return nil, err
	}
	mark("live")

	// Leg 2: the same client straight to the servers, recorded by tcpdump.
	// Claude Code's claude binary is not a Node process and writes no TLS
	// key log: over HTTPS its pcap could not be read, so it has no pcap
	// leg then.
	noKeylog := s.tls.CA != "" && job.Setup.Client == "claude-code"
	if noKeylog {
		fmt.Fprintf(log, "harness| no pcap leg: the claude binary writes no TLS key log\n")
	}
	if job.Tcpdump != "" && !noKeylog {
		res.Pcap = filepath.Join(job.Dir, "capture.pcap")
		env := cleanEnv()
		if s.tls.CA != "" {
			res.Keylog = filepath.Join(job.Dir, "keylog.txt")
			env = append(env, "NODE_EXTRA_CA_CERTS="+s.tls.CA, "NODE_OPTIONS=--tls-keylog="+res.Keylog)
		}
		clientArgs, err := s.clientCommand(resource, "pcap")
		if err != nil {
			return nil, err
		}
		// A pcap with packets the kernel dropped (a loaded machine) would
		// test the gap handling, not the scenario: run the leg again.
		for attempt := 1; ; attempt++ {
			var dropped int
			if res.PcapExit, dropped, err = s.runPcap(res.Pcap, env, clientArgs); err != nil {
				return nil, err
			}
			if dropped == 0 {
				break
			}
			if attempt == 3 {
				return nil, fmt.Errorf("tcpdump: the kernel dropped %d packet(s) in each of %d attempts; the machine is too loaded for the pcap leg", dropped, attempt)
			}
			fmt.Fprintf(log, "harness| tcpdump: the kernel dropped %d packet(s); running the pcap leg again\n", dropped)
		}
		mark("pcap")
	}
	return res, nil
}

func nilIfEmpty(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

// clientCommand writes the client's configuration for one leg and returns
// its command line.
func (s *stack) clientCommand(resource, leg string) ([]string, error) {
	set := s.job.Setup
	timeout := s.job.Timeout.Milliseconds() - 5000
	switch set.Client {
	case "sdk":
		cfg := map[string]any{"server": resource, "callback_port": s.ports.Callback, "knobs": set.Knobs,
			"client_uri": set.ClientURI, "timeout_ms": timeout}
		if set.MetadataScope != "" {
			cfg["metadata_scope"] = set.MetadataScope
		}
		p, err := s.writeJSON("client-"+leg+".json", cfg)
		if err != nil {
			return nil, err
		}
		return []string{s.job.Node, "src/client.mjs", p}, nil
	case "mcp-remote":
		cfg := map[string]any{"server": resource, "callback_port": s.ports.Callback, "args": set.MCPRemoteArgs,
			"config_dir": filepath.Join(s.job.Dir, "mcp-remote-"+leg), "timeout_ms": timeout}
		p, err := s.writeJSON("client-"+leg+".json", cfg)
		if err != nil {
			return nil, err
		}
		return []string{s.job.Node, "src/mcp-remote-driver.mjs", p}, nil
	case "claude-code":
		if s.job.Claude == "" {
			return nil, fmt.Errorf("client claude-code: no claude binary (OAUTHLINT_E2E_CLAUDE)")
		}
		cfg := map[string]any{"server": resource, "callback_port": s.ports.Callback, "claude": s.job.Claude,
			"home": filepath.Join(s.job.Dir, "claude-"+leg), "timeout_ms": timeout}
		p, err := s.writeJSON("client-"+leg+".json", cfg)
		if err != nil {
			return nil, err
		}
		return []string{s.job.Node, "src/claude-code-driver.mjs", p}, nil
	}
	return nil, fmt.Errorf("unknown client %q", set.Client)
}

// runCapture runs oauthlint capture (stdout: the JSON report) and returns
// the client's exit status, which capture passes on with --fail-on none.
func (s *stack) runCapture(args []string, reportPath string) (int, error) {
	report, err := os.Create(reportPath)
	if err != nil {
		return 0, err
	}
	defer report.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.job.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = s.job.NodeDir
	cmd.Env = cleanEnv()
	cmd.Stdout = report
	cmd.Stderr = prefixWriter(s.log, "capture")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	if ctx.Err() != nil {
		return -1, fmt.Errorf("oauthlint capture did not finish within %s (see %s)", s.job.Timeout, filepath.Join(s.job.Dir, "processes.log"))
	}
	code, err := exitStatus(err)
	if err != nil {
		return code, fmt.Errorf("oauthlint capture: %w", err)
	}
	// 2 and 3 are oauthlint's own usage and internal errors; a client's
	// failure is 1 (knobs that make the AS refuse).
	if code >= 2 {
		return code, fmt.Errorf("oauthlint capture exited %d (see %s)", code, filepath.Join(s.job.Dir, "processes.log"))
	}
	return code, nil
}

// runPcap records lo with tcpdump while the client runs without a proxy.
// Only the ports the client talks to are recorded: the servers' own calls
// (Hydra's admin API, introspection) are not the client's traffic and the
// proxy leg does not see them either.
//
// It returns the client's exit status and how many packets the kernel
// dropped (tcpdump's own count).
func (s *stack) runPcap(pcapPath string, env []string, clientArgs []string) (code, dropped int, err error) {
	p := s.ports
	filter := fmt.Sprintf("tcp and (port %d or port %d or port %d or port %d)", p.AS, p.Login, p.RS, p.Callback)
	// Immediate mode (no packet waits in a half-filled block when the
	// capture stops) makes libpcap give every packet a frame of snaplen
	// bytes; lo's packets reach 64 KiB, so the default 2 MiB buffer holds
	// only a few: -B 65536 (KiB) holds hundreds.
	// -Z root: tcpdump keeps root to write the file (it would switch to
	// its own user, which cannot write into a test's private directory).
	td, err := startProc("tcpdump", s.job.Dir, cleanEnv(), s.log, s.job.Tcpdump, "-i", "lo", "-n", "-Z", "root", "-s", "0", "-B", "65536",
		"-U", "--immediate-mode", "-w", pcapPath, filter)
	if err != nil {
		return 0, 0, err
	}
	// tcpdump says "listening on lo" once the capture is armed.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(td.output(), "listening on") {
		select {
		case <-td.done:
			return 0, 0, fmt.Errorf("tcpdump exited (%v): %s", td.err, td.output())
		default:
		}
		if time.Now().After(deadline) {
			td.stop(syscall.SIGKILL, time.Second)
			return 0, 0, fmt.Errorf("tcpdump did not start listening within 10s: %s", td.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	client, err := startProc("client", s.job.NodeDir, env, s.log, clientArgs...)
	if err != nil {
		td.stop(syscall.SIGINT, 5*time.Second)
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.job.Timeout)
	code, werr := client.wait(ctx)
	cancel()
	// Let the last segments (FINs) reach the capture, then stop it cleanly so
	// it flushes the file and prints its statistics.
	time.Sleep(300 * time.Millisecond)
	td.stop(syscall.SIGINT, 5*time.Second)
	if werr != nil {
		return code, 0, werr
	}
	if m := droppedRE.FindStringSubmatch(td.output()); m != nil {
		dropped, _ = strconv.Atoi(m[1])
	}
	n, err := dropPreexisting(pcapPath)
	if err != nil {
		return code, dropped, fmt.Errorf("pcap leg: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(s.log, "harness| pcap leg: left out %d connection(s) that began before the capture (servers' idle keep-alive connections; capture-raw.pcap has them)\n", n)
	}
	return code, dropped, nil
}

var droppedRE = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// syncWriter serializes the processes' log lines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

type prefixed struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    []byte
}

// prefixWriter prefixes each line written with name, like startProc does.
func prefixWriter(w io.Writer, name string) io.Writer {
	return &prefixed{w: w, prefix: name + "| "}
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
