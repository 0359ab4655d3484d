package e2e_test

// The end-to-end tests: every scenario of scenarios/ with a setup runs
// against real servers and real clients (see docs/e2e.md), once through
// `oauthlint capture` (the live JSON report and the HAR it wrote) and once
// recorded by tcpdump; each input must give the findings the manifest lists,
// no unexpected fail finding, and the same fail findings as the others.
//
// Without Node, the npm packages, Hydra or tcpdump the tests skip and say
// what to run, unless OAUTHLINT_E2E=1 (CI), where a missing piece fails.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/e2e/harness"
	"github.com/oauthlint/oauthlint/e2e/manifest"
	"github.com/oauthlint/oauthlint/internal/testbin"
)

func TestMain(m *testing.M) {
	// A re-executed copy of this binary runs one scenario inside its own
	// network namespace.
	harness.MaybeInner()
	os.Exit(m.Run())
}

const hydraVersion = "v2.3.0"

type env struct {
	root  string
	tools harness.Tools
	tls   bool
}

var (
	envOnce sync.Once
	envVal  env
	envErr  string // why the e2e tests cannot run here
	envFail bool   // a build error, not a missing dependency
)

// setup finds the dependencies and builds oauthlint once for all tests.
func setup(t *testing.T) env {
	t.Helper()
	if os.Getenv("OAUTHLINT_E2E") == "0" {
		t.Skip("OAUTHLINT_E2E=0")
	}
	if testing.Short() && os.Getenv("OAUTHLINT_E2E") != "1" {
		t.Skip("e2e scenarios are skipped with -short (set OAUTHLINT_E2E=1 to run them)")
	}
	envOnce.Do(func() { envVal, envErr, envFail = findEnv() })
	if envErr != "" {
		if envFail || os.Getenv("OAUTHLINT_E2E") == "1" {
			t.Fatal(envErr)
		}
		t.Skip(envErr + " (OAUTHLINT_E2E=1 makes this a failure)")
	}
	return envVal
}

func findEnv() (env, string, bool) {
	var e env
	root, err := filepath.Abs("..")
	if err != nil {
		return e, err.Error(), true
	}
	e.root = root
	hint := "run scripts/ensure-e2e-deps.sh first"
	var missing []string
	if e.tools.Node, err = exec.LookPath("node"); err != nil {
		missing = append(missing, "node is not on PATH")
	}
	e.tools.NodeDir = filepath.Join(root, "e2e", "node")
	stamp := filepath.Join(e.tools.NodeDir, "node_modules", ".oauthlint-lock.sha256")
	if _, err := os.Stat(stamp); err != nil {
		missing = append(missing, "the npm packages of e2e/node are not installed")
	}
	e.tools.Hydra = os.Getenv("OAUTHLINT_E2E_HYDRA")
	if e.tools.Hydra == "" {
		cache := os.Getenv("OAUTHLINT_E2E_CACHE")
		if cache == "" {
			cache = filepath.Join(root, ".cache", "e2e")
		}
		e.tools.Hydra = filepath.Join(cache, "bin", "hydra-"+hydraVersion)
	}
	if _, err := os.Stat(e.tools.Hydra); err != nil {
		missing = append(missing, "ORY Hydra is not built at "+e.tools.Hydra)
	}
	if e.tools.Tcpdump, err = exec.LookPath("tcpdump"); err != nil {
		missing = append(missing, "tcpdump is not installed")
	}
	if len(missing) > 0 {
		return e, "e2e: " + strings.Join(missing, "; ") + ": " + hint, false
	}

	bin, err := os.MkdirTemp("", "oauthlint-e2e-bin-")
	if err != nil {
		return e, err.Error(), true
	}
	var args []string
	if raceEnabled && os.Getenv("OAUTHLINT_E2E_RACE") == "1" {
		// The proxy under real traffic is worth checking for races now and
		// then, but a race-built oauthlint starts about four times slower
		// (compiling the rule packs) and each scenario starts it three
		// times: opt-in, so the suite stays within go test's default
		// 10-minute limit on 2 cores.
		args = append(args, "-race")
	}
	if e.tools.Oauthlint, err = testbin.Build(bin, args...); err != nil {
		return e, "e2e: " + err.Error(), true
	}
	e.tls = useTLS(e.tools.Oauthlint)
	return e, "", false
}

// useTLS decides whether the servers speak HTTPS: OAUTHLINT_E2E_TLS=1 or 0,
// else whenever this oauthlint can decrypt a pcap with a key log.
func useTLS(oauthlint string) bool {
	switch os.Getenv("OAUTHLINT_E2E_TLS") {
	case "1":
		return true
	case "0":
		return false
	}
	out, _ := exec.Command(oauthlint, "analyze", "--help").CombinedOutput()
	return bytes.Contains(out, []byte("--keylog"))
}

func TestScenarios(t *testing.T) {
	ms, err := manifest.LoadDir("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	e := setup(t)
	t.Logf("servers over %s; oauthlint %s", map[bool]string{true: "HTTPS (pcap with key log)", false: "plain HTTP"}[e.tls], e.tools.Oauthlint)
	ran := 0
	for _, m := range ms {
		if m.Setup == nil {
			continue
		}
		ran++
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, e, m)
		})
	}
	if ran == 0 {
		t.Fatal("no scenario with a setup in scenarios/")
	}
}

func runScenario(t *testing.T, e env, m *manifest.Manifest) {
	if m.Setup.Client == "claude-code" {
		e.tools.Claude = claudeBinary(t, e.root)
	}
	dir := t.TempDir()
	if keep := os.Getenv("OAUTHLINT_E2E_KEEP"); keep != "" {
		dir = filepath.Join(keep, m.Name)
		os.RemoveAll(dir)
	}
	job := &harness.Job{Tools: e.tools, Name: m.Name, Setup: *m.Setup, Analyze: m.Analyze, Dir: dir,
		TLS: e.tls, Isolate: os.Getenv("OAUTHLINT_E2E_NETNS") != "0", Timeout: 90 * time.Second}
	start := time.Now()
	res, err := harness.Run(job)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(filepath.Join(dir, "processes.log"), 60))
	}
	t.Logf("ran in %s (%s; isolated network namespace: %v, TLS: %v); outputs in %s", time.Since(start).Round(time.Millisecond), res.TimingString(), res.Isolated, res.TLS, dir)
	failed := false
	defer func() {
		if failed || t.Failed() {
			t.Logf("process log (end):\n%s", tail(res.Log, 80))
		}
	}()
	if res.LiveExit != m.Setup.ClientExit {
		t.Errorf("client exited %d under oauthlint capture, the manifest expects %d", res.LiveExit, m.Setup.ClientExit)
		failed = true
	}
	if res.Pcap != "" && res.PcapExit != m.Setup.ClientExit {
		t.Errorf("client exited %d in the pcap leg, the manifest expects %d", res.PcapExit, m.Setup.ClientExit)
		failed = true
	}

	inputs := []struct{ kind, file, keylog string }{
		{manifest.InputLive, res.LiveReport, ""},
		{manifest.InputHAR, res.LiveHAR, ""},
	}
	if res.Pcap != "" {
		inputs = append(inputs, struct{ kind, file, keylog string }{manifest.InputPcap, res.Pcap, res.Keylog})
	}
	sigs := map[string][]string{}
	for _, in := range inputs {
		r, problems, err := harness.CheckFile(e.tools.Oauthlint, m, in.file, in.keylog)
		if err != nil {
			t.Errorf("%s: %v", in.kind, err)
			failed = true
			continue
		}
		for _, p := range problems {
			t.Errorf("%s (%s): %s", in.kind, filepath.Base(in.file), p)
			failed = true
		}
		sigs[in.kind] = m.Signature(r)
	}
	t.Logf("checked in %s", time.Since(start).Round(time.Millisecond))
	// The same scenario must read the same whatever the input.
	for _, in := range inputs[1:] {
		if s, ok := sigs[in.kind]; ok && sigs[manifest.InputLive] != nil && !slices.Equal(s, sigs[manifest.InputLive]) {
			t.Errorf("fail findings differ between inputs:\n  live: %s\n  %s: %s", strings.Join(sigs[manifest.InputLive], " "), in.kind, strings.Join(s, " "))
			failed = true
		}
	}
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestExternal checks captures made outside the harness: for every
// NAME.yaml manifest in $OAUTHLINT_E2E_EXTERNAL, the captures beside it named
// NAME.har, NAME.pcap, NAME.pcapng (with NAME.keylog when present) and
// NAME.json (a live JSON report) must give what the manifest lists.
func TestExternal(t *testing.T) {
	dir := os.Getenv("OAUTHLINT_E2E_EXTERNAL")
	if dir == "" {
		t.Skip("set OAUTHLINT_E2E_EXTERNAL=DIR to check captures made outside the harness against their manifests")
	}
	ms, err := manifest.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("no *.yaml manifest in %s", dir)
	}
	oauthlint, err := testbin.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		t.Run(m.Name, func(t *testing.T) {
			base := strings.TrimSuffix(m.File, filepath.Ext(m.File))
			keylog := ""
			if _, err := os.Stat(base + ".keylog"); err == nil {
				keylog = base + ".keylog"
			}
			checked := 0
			for _, ext := range []string{".json", ".har", ".pcap", ".pcapng"} {
				f := base + ext
				if _, err := os.Stat(f); err != nil {
					continue
				}
				checked++
				_, problems, err := harness.CheckFile(oauthlint, m, f, keylogFor(f, keylog))
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				for _, p := range problems {
					t.Errorf("%s: %s", filepath.Base(f), p)
				}
			}
			if checked == 0 {
				t.Errorf("no capture beside %s (want %s.har, .pcap, .pcapng or .json)", m.File, filepath.Base(base))
			}
		})
	}
}

var pcapName = regexp.MustCompile(`(?i)\.pcap(ng)?$`)

func keylogFor(file, keylog string) string {
	if pcapName.MatchString(file) {
		return keylog
	}
	return ""
}

// claudeBinary returns the claude binary the claude-code scenarios run:
// $OAUTHLINT_E2E_CLAUDE, else the one scripts/ensure-e2e-deps.sh installs
// in e2e/claude. The scenarios are skipped when it is not installed or
// OAUTHLINT_E2E_CLAUDE=0; a path given explicitly must exist.
func claudeBinary(t *testing.T, root string) string {
	p := os.Getenv("OAUTHLINT_E2E_CLAUDE")
	if p == "0" {
		t.Skip("OAUTHLINT_E2E_CLAUDE=0")
	}
	// The driver runs claude mcp login under script(1) (util-linux).
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("the Claude Code scenarios need script(1) (Debian package bsdutils/util-linux)")
	}
	if p == "" {
		p = filepath.Join(root, "e2e", "claude", "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe")
		if _, err := os.Stat(p); err != nil {
			t.Skip("Claude Code is not installed (scripts/ensure-e2e-deps.sh installs it in e2e/claude)")
		}
		return p
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("OAUTHLINT_E2E_CLAUDE: %v", err)
	}
	return p
}
