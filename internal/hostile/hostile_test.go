// Package hostile runs oauthlint on inputs built to hurt it: truncated
// and corrupt captures of every format, decompression bombs, absurd
// lengths and counts, deep nesting, invalid UTF-8, floods, and rule packs
// designed to be expensive. Each case runs the real binary (built once by
// TestMain) as a user would, and checks the outcome design.md promises:
// no panic, a clear error naming the file (exit 2) or a report whose
// inputs carry the warnings and whose exchanges carry the gaps (exit 0
// with --fail-on none), and bounded memory, measured as the child's peak
// RSS.
//
// The small inputs are committed under testdata (rewrite them with
// go test ./internal/hostile -update); the big ones are generated into a
// temporary directory, or into -hostile.dump DIR to keep them.
//
// Tiers, chosen with OAUTHLINT_HOSTILE (scripts/hostile.sh sets it):
//
//	(unset)  the committed inputs, the decompression bombs and the rule
//	         packs: what every 'go test ./...' runs
//	big      also the floods and big inputs at medium sizes (CI)
//	full     the floods and big inputs at full size (a HAR of 10^6
//	         entries, 10^6 half-open connections, 20000 flows); minutes
package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oauthlint/oauthlint/internal/pcapgen"
	"github.com/oauthlint/oauthlint/internal/testbin"
)

var (
	update = flag.Bool("update", false, "rewrite the committed corpus under testdata")
	dump   = flag.String("hostile.dump", "", "also keep every generated input (big ones included) in this directory")
)

// corpusDir is the committed corpus.
const corpusDir = "testdata"

// bin is the oauthlint binary built for the run.
var bin string

func TestMain(m *testing.M) {
	if os.Getenv(wrapEnv) != "" {
		os.Exit(wrapper())
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "oauthlint-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if bin, err = testbin.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "hostile: cannot build oauthlint:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// full reports whether the full-size corpus was asked for; big whether
// the generated floods and big inputs run at all.
func full() bool { return os.Getenv("OAUTHLINT_HOSTILE") == "full" }
func big() bool  { return full() || os.Getenv("OAUTHLINT_HOSTILE") == "big" }

// size picks the default or the full size of a generated input.
func size(def, fullSize int) int {
	if full() {
		return fullSize
	}
	return def
}

const mb = 1 << 20

// hcase is one hostile input and what oauthlint must do with it.
type hcase struct {
	name string
	// small builds a committed input (file name = name); big writes a
	// generated one into dir and returns its path.
	small func(tb testing.TB) []byte
	big   func(tb testing.TB, dir string) string
	// rules, when set, is a --rules directory: file name → content.
	rules map[string]string
	// slow cases (floods, big inputs) run only in the big and full tiers.
	slow bool
	// input, when rules is set, is the capture analyzed with them.
	args []string
	// exit is the expected exit status with --fail-on none: 0 (the
	// input was read, possibly in part) or 2 (unusable input).
	exit int
	// stderr lists phrases the diagnostics must contain.
	stderr []string
	// maxRSS is the memory budget of the whole process, in bytes.
	maxRSS int64
	// timeout guards against hangs; it is not a speed target.
	timeout time.Duration
	// check inspects the JSON report of a successful run.
	check func(t *testing.T, r *jsonReport, stderr string)
}

// jsonReport is the part of the JSON output contract the cases look at.
type jsonReport struct {
	Inputs []struct {
		File      string   `json:"file"`
		Format    string   `json:"format"`
		Entries   int      `json:"entries"`
		Exchanges int      `json:"exchanges"`
		Truncated bool     `json:"truncated"`
		Warnings  []string `json:"warnings"`
	} `json:"inputs"`
	Flows    []json.RawMessage `json:"flows"`
	Findings []struct {
		Rule    string `json:"rule"`
		Outcome string `json:"outcome"`
		Message string `json:"message"`
	} `json:"findings"`
	Stats struct {
		Exchanges int `json:"exchanges"`
		Flows     int `json:"flows"`
	} `json:"stats"`
}

func (r *jsonReport) warnings() string {
	var all []string
	for _, in := range r.Inputs {
		all = append(all, in.Warnings...)
	}
	return strings.Join(all, "\n")
}

func wantWarning(sub string) func(*testing.T, *jsonReport, string) {
	return func(t *testing.T, r *jsonReport, _ string) {
		t.Helper()
		if !strings.Contains(r.warnings(), sub) {
			t.Errorf("no warning containing %q; warnings:\n%s", sub, clip(r.warnings(), 2000))
		}
	}
}

func wantExchanges(n int) func(*testing.T, *jsonReport, string) {
	return func(t *testing.T, r *jsonReport, _ string) {
		t.Helper()
		if r.Stats.Exchanges != n {
			t.Errorf("%d exchanges, want %d", r.Stats.Exchanges, n)
		}
	}
}

func all(checks ...func(*testing.T, *jsonReport, string)) func(*testing.T, *jsonReport, string) {
	return func(t *testing.T, r *jsonReport, s string) {
		t.Helper()
		for _, c := range checks {
			c(t, r, s)
		}
	}
}

// corpus lists every case. Budgets: the process needs about 80 MB for the
// runtime and the compiled rule packs; on top of that a case may use what
// its input justifies (a body cap of 16 MiB, decoded and stored, times a
// few copies), never what the input claims or expands to.
func corpus() []hcase {
	const base = 160 * mb
	return []hcase{
		// HAR: unusable files are input errors that name the file.
		{name: "har-empty.har", small: func(testing.TB) []byte { return nil }, exit: 2, stderr: []string{"empty"}},
		{name: "har-whitespace.har", small: func(testing.TB) []byte { return []byte(" \n\t\r\n ") }, exit: 2},
		{name: "har-png.har", small: func(testing.TB) []byte { return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") }, exit: 2, stderr: []string{"not a capture"}},
		{name: "har-utf16.har", small: func(testing.TB) []byte { return harUTF16() }, exit: 2},
		{name: "har-truncated-head.har", small: func(testing.TB) []byte {
			return []byte(`{"log":{"entries":[{"request":{"method":"GET","url":"https://a`)
		}, exit: 2, stderr: []string{"ends early"}},
		{name: "har-malformed.har", small: func(testing.TB) []byte { return harMalformed() }, exit: 2, stderr: []string{"malformed JSON", "byte "}},
		{name: "har-deep-member.har", small: func(testing.TB) []byte { return harDeepMember() }, exit: 2, stderr: []string{"byte "}},
		// HAR: damaged but partly usable files are read in part and say so.
		{name: "har-truncated-mid.har", small: func(testing.TB) []byte { return harTruncatedMid() }, exit: 0,
			check: all(wantWarning("truncated"), wantExchanges(2), func(t *testing.T, r *jsonReport, _ string) {
				if !r.Inputs[0].Truncated {
					t.Error("input not marked truncated")
				}
			})},
		{name: "har-wrong-types.har", small: func(testing.TB) []byte { return harWrongTypes() }, exit: 0, check: wantWarning("entry 0")},
		{name: "har-invalid-utf8.har", small: func(testing.TB) []byte { return harInvalidUTF8() }, exit: 0, check: wantExchanges(2)},
		// encoding/json refuses nesting deeper than 10000; an entry that
		// deep makes the file unreadable, and the error says where.
		{name: "har-deep-entry.har", small: func(testing.TB) []byte { return harDeepEntry() }, exit: 2, stderr: []string{"entry 0 at byte", "max depth"}},
		{name: "har-deep-json-body.har", small: func(testing.TB) []byte { return harDeepBody() }, exit: 0, check: wantExchanges(2)},
		{name: "har-content-length-4g.har", small: func(testing.TB) []byte { return harContentLength4G() }, exit: 0, check: wantExchanges(1)},
		{name: "har-headers-10k.har", small: func(testing.TB) []byte { return harHeaders(10000) }, exit: 0, check: wantExchanges(1)},

		// HAR, generated.
		{name: "har-headers-100k.har", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-headers-100k.har"), harHeaders(100000))
		}, exit: 0, maxRSS: base + 200*mb, check: wantExchanges(1)},
		{name: "har-bomb-gzip.har", big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-bomb-gzip.har"), harBomb(tb, "gzip", int64(size(1<<30, 4<<30))))
		}, exit: 0, maxRSS: base + 100*mb, check: bombChecks},
		{name: "har-bomb-zstd.har", big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-bomb-zstd.har"), harBomb(tb, "zstd", int64(size(1<<30, 4<<30))))
		}, exit: 0, maxRSS: base + 100*mb, check: bombChecks},
		{name: "har-bomb-br.har", big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-bomb-br.har"), harBomb(tb, "br", int64(size(256<<20, 1<<30))))
		}, exit: 0, maxRSS: base + 100*mb, check: bombChecks},
		{name: "har-bomb-nested.har", big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-bomb-nested.har"), harNestedBomb(tb))
		}, exit: 0, maxRSS: base + 100*mb, check: wantExchanges(1)},
		{name: "har-big-entry.har", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "har-big-entry.har"), harBigEntry(size(64*mb, 512*mb)))
		}, exit: 0, maxRSS: base + int64(size(64*mb, 512*mb))*6, check: all(wantExchanges(1))},
		{name: "har-tiny-entries.har", slow: true, big: func(tb testing.TB, dir string) string {
			return writeStream(tb, filepath.Join(dir, "har-tiny-entries.har"), func(f *os.File) error { return harTiny(f, size(100000, 1000000)) })
		}, exit: 0, maxRSS: base + int64(size(100000, 1000000))*2500, timeout: time.Duration(size(60, 600)) * time.Second,
			check: wantExchanges(size(100000, 1000000))},
		{name: "har-many-flows.har", slow: true, big: func(tb testing.TB, dir string) string {
			return writeStream(tb, filepath.Join(dir, "har-many-flows.har"), func(f *os.File) error { return harManyFlows(f, size(2000, 20000)) })
		}, exit: 0, maxRSS: base + int64(size(2000, 20000))*3*20000, timeout: time.Duration(size(120, 1200)) * time.Second,
			check: wantExchanges(3 * size(2000, 20000))},
		{name: "har-one-flow-many-calls.har", slow: true, big: func(tb testing.TB, dir string) string {
			return writeStream(tb, filepath.Join(dir, "har-one-flow-many-calls.har"), func(f *os.File) error { return harOneFlowManyCalls(f, size(20000, 200000)) })
		}, exit: 0, maxRSS: base + int64(size(20000, 200000))*20000, timeout: time.Duration(size(120, 1200)) * time.Second,
			check: wantExchanges(3 + size(20000, 200000))},

		// pcap and pcapng.
		{name: "pcap-header-only.pcap", small: func(tb testing.TB) []byte { return pcapValid(tb, pcapgen.FormatPcap)[:24] }, exit: 0, check: wantExchanges(0)},
		// Cut inside the last response: both requests are there, the
		// second with part of its response.
		{name: "pcap-truncated.pcap", small: pcapTruncated, exit: 0, check: all(wantWarning("truncated"), wantExchanges(2))},
		{name: "pcapng-truncated.pcapng", small: pcapngTruncated, exit: 0, check: all(wantWarning("truncated"), wantExchanges(2))},
		{name: "pcap-bad-caplen.pcap", small: pcapBadCaplen, exit: 0, check: wantExchanges(0)},
		{name: "pcapng-bad-block.pcapng", small: pcapngBadBlock, exit: 0, check: wantExchanges(0)},
		{name: "pcap-short-header.pcap", small: func(tb testing.TB) []byte { return pcapValid(tb, pcapgen.FormatPcap)[:10] }, exit: 2, stderr: []string{"pcap-short-header.pcap"}},
		{name: "pcap-content-length-4g.pcap", small: pcapContentLength4G, exit: 0, check: wantExchanges(1)},
		{name: "pcap-headers-10k.pcap", small: func(tb testing.TB) []byte { return pcapHeaders(tb, 10000) }, exit: 0},
		{name: "pcap-invalid-utf8.pcap", small: pcapInvalidUTF8, exit: 0, check: wantExchanges(1)},
		{name: "pcap-chunk-overflow.pcap", small: pcapChunkOverflow, exit: 0, check: wantExchanges(1)},
		{name: "pcap-headers-100k.pcap", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "pcap-headers-100k.pcap"), pcapHeaders(tb, 100000))
		}, exit: 0, maxRSS: base + 100*mb},
		{name: "pcap-bomb-gzip.pcap", big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "pcap-bomb-gzip.pcap"), pcapGzipBomb(tb, int64(size(1<<30, 4<<30))))
		}, exit: 0, maxRSS: base + 100*mb, check: bombChecks},
		// Connections that never finish their request head: the reader
		// keeps at most 65536 open (capture/pcap TestOpenConnectionsCapped)
		// and finishes the least recently active early, so memory does not
		// grow with their number (measured: 268 MB at 10^5, 370 MB at 10^6).
		{name: "pcap-conn-flood.pcap", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "pcap-conn-flood.pcap"), pcapConnFlood(tb, size(100000, 1000000), floodHead))
		}, exit: 0, maxRSS: base + 400*mb, timeout: time.Duration(size(120, 1200)) * time.Second, check: wantExchanges(0)},
		// Token requests whose bodies never come: each is an exchange
		// and a flow, all sharing one AS (related flows are looked up in
		// a window, so this stays linear).
		{name: "pcap-token-flood.pcap", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "pcap-token-flood.pcap"), pcapConnFlood(tb, size(2000, 20000), floodToken))
		}, exit: 0, maxRSS: base + int64(size(2000, 20000))*60000, timeout: time.Duration(size(120, 1200)) * time.Second, check: wantExchanges(size(2000, 20000))},
		{name: "pcap-ooo-flood.pcap", slow: true, big: func(tb testing.TB, dir string) string {
			return writeFile(tb, filepath.Join(dir, "pcap-ooo-flood.pcap"), pcapOOOFlood(tb, size(200000, 2000000)))
		}, exit: 0, maxRSS: base + 100*mb},

		// Rule packs (--rules) designed to hurt: they must fail to load
		// with every problem located, or be stopped by the cost limit.
		{name: "rules-yaml-bomb", rules: map[string]string{"bomb.yaml": yamlBomb()}, exit: 2, stderr: []string{"bomb.yaml"}},
		{name: "rules-binary", rules: map[string]string{"x.yaml": "\x00\x01\x02\xff\xfe"}, exit: 2, stderr: []string{"x.yaml"}},
		{name: "rules-cel-deep", rules: map[string]string{"deep.yaml": ruleFile("X-DEEP", strings.Repeat("(", 5000)+"true"+strings.Repeat(")", 5000))}, exit: 2, stderr: []string{"deep.yaml"}},
		{name: "rules-cel-huge", rules: map[string]string{"huge.yaml": ruleFile("X-HUGE", "size('"+strings.Repeat("a", 2*mb)+"') > 0 && "+strings.Repeat("true && ", 20000)+"true")}, exit: 2, stderr: []string{"huge.yaml"}},
		{name: "rules-cel-comprehension", rules: map[string]string{"cost.yaml": ruleFile("X-COST", "lists.range(1000).all(a, lists.range(1000).all(b, lists.range(1000).all(c, a + b + c >= 0)))")},
			exit: 0, check: wantOutcome("X-COST", "error", "cost")},
		{name: "rules-cel-replace-bomb", rules: map[string]string{"replace.yaml": ruleFile("X-REPLACE", "size('aaaaaaaaaa'"+strings.Repeat(".replace('a', 'aaaaaaaaaa')", 12)+") > 0")},
			exit: 0, maxRSS: base + 200*mb, check: wantOutcome("X-REPLACE", "error", "cost")},
	}
}

// bombChecks: a decompression bomb is decoded up to the body cap, and the
// exchange says its body was truncated.
func bombChecks(t *testing.T, r *jsonReport, _ string) {
	t.Helper()
	if r.Stats.Exchanges < 1 {
		t.Errorf("the bomb's exchange was dropped: %d exchanges", r.Stats.Exchanges)
	}
}

func wantOutcome(rule, outcome, msg string) func(*testing.T, *jsonReport, string) {
	return func(t *testing.T, r *jsonReport, _ string) {
		t.Helper()
		for _, f := range r.Findings {
			if f.Rule == rule {
				if f.Outcome != outcome || !strings.Contains(f.Message, msg) {
					t.Errorf("%s: outcome %s %q, want %s mentioning %q", rule, f.Outcome, f.Message, outcome, msg)
				}
				return
			}
		}
		t.Errorf("no finding of %s (want outcome %s)", rule, outcome)
	}
}

func writeStream(tb testing.TB, path string, fill func(*os.File) error) string {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := fill(f); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestCorpusUpToDate: the committed small inputs are what their
// generators produce (go test ./internal/hostile -update rewrites them).
func TestCorpusUpToDate(t *testing.T) {
	for _, c := range corpus() {
		if c.small == nil {
			continue
		}
		want := c.small(t)
		p := filepath.Join(corpusDir, c.name)
		if *update {
			if err := os.MkdirAll(corpusDir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, want)
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run go test ./internal/hostile -update", p, err)
		}
	}
}

// TestHostileCorpus runs every case through 'oauthlint analyze'.
func TestHostileCorpus(t *testing.T) {
	genDir := t.TempDir()
	if *dump != "" {
		if err := os.MkdirAll(*dump, 0o755); err != nil {
			t.Fatal(err)
		}
		genDir = *dump
	}
	example, err := filepath.Abs("../../examples/founding-case-hydra.har")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus() {
		t.Run(c.name, func(t *testing.T) {
			if c.slow && !big() {
				t.Skip("a flood or big input: set OAUTHLINT_HOSTILE=big or full (scripts/hostile.sh)")
			}
			t.Parallel()
			var args []string
			var input string
			switch {
			case c.small != nil:
				input = filepath.Join(corpusDir, c.name)
				if _, err := os.Stat(input); err != nil {
					// Not committed yet: run on the generated bytes.
					input = writeFile(t, filepath.Join(t.TempDir(), c.name), c.small(t))
				}
			case c.big != nil:
				input = c.big(t, genDir)
			case c.rules != nil:
				dir := filepath.Join(genDir, c.name)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, content := range c.rules {
					writeFile(t, filepath.Join(dir, name), []byte(content))
				}
				args = append(args, "--rules", dir)
				input = example
			}
			args = append(append(args, c.args...), input)
			runCase(t, c, input, args)
		})
	}
}

// wrapEnv makes the test binary a wrapper that runs oauthlint and writes
// its peak RSS. The measurement needs it: Linux counts in a child's
// ru_maxrss the peak of the address space it was forked from, so a child
// started directly by this test (which holds the big generated inputs)
// would report the test's own peak. The wrapper is a fresh, small
// process, and so is what it forks.
const wrapEnv = "OAUTHLINT_HOSTILE_WRAP"

// wrapper runs $OAUTHLINT_HOSTILE_BIN with the wrapper's arguments and
// streams, writes the child's peak RSS in bytes to the file
// $OAUTHLINT_HOSTILE_WRAP, and exits with the child's status.
func wrapper() int {
	cmd := exec.Command(os.Getenv("OAUTHLINT_HOSTILE_BIN"), os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code < 0 {
			code = 128 + 9 // killed (the test's timeout)
		}
	case err != nil:
		fmt.Fprintln(os.Stderr, "hostile wrapper:", err)
		return 125
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		os.WriteFile(os.Getenv(wrapEnv), []byte(fmt.Sprint(ru.Maxrss*1024)), 0o644) // kilobytes on Linux
	}
	return code
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr []byte
	rss            int64 // peak resident set size, bytes
	took           time.Duration
}

func runBinary(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), wrapEnv+"="+rssFile, "OAUTHLINT_HOSTILE_BIN="+bin)
	// Killing the wrapper on timeout must kill oauthlint too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes(), took: time.Since(start), code: -1}
	if ctx.Err() != nil {
		t.Fatalf("oauthlint %s did not finish within %v (hang guard, not a speed target)", strings.Join(args, " "), timeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running oauthlint: %v", err)
	}
	if b, err := os.ReadFile(rssFile); err == nil {
		fmt.Sscan(string(b), &r.rss)
	} else {
		t.Errorf("no peak RSS measured: %v", err)
	}
	return r
}

func runCase(t *testing.T, c hcase, input string, args []string) {
	t.Helper()
	timeout := c.timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	budget := c.maxRSS
	if budget == 0 {
		budget = 160 * mb
	}
	st, _ := os.Stat(input)
	r := runBinary(t, timeout, append([]string{"analyze", "--format", "json", "--fail-on", "none"}, args...)...)
	var inSize int64
	if st != nil {
		inSize = st.Size()
	}
	t.Logf("input %d bytes: exit %d in %v, peak RSS %.1f MB (budget %.0f MB)", inSize, r.code, r.took.Round(time.Millisecond), float64(r.rss)/mb, float64(budget)/mb)
	stderr := string(r.stderr)
	for _, bad := range []string{"panic", "goroutine ", "internal error", "runtime error"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr shows %q:\n%s", bad, clip(stderr, 4000))
		}
	}
	if r.code != c.exit {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, c.exit, clip(stderr, 4000))
	}
	if r.rss > budget {
		t.Errorf("peak RSS %.1f MB over the budget of %.0f MB", float64(r.rss)/mb, float64(budget)/mb)
	}
	for _, want := range c.stderr {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, clip(stderr, 4000))
		}
	}
	if c.exit == 2 {
		// An input error says which input and what to do.
		if !strings.Contains(stderr, "oauthlint: ") || len(r.stdout) != 0 {
			t.Errorf("input error without a diagnostic, or with a report:\nstderr %s\nstdout %s", clip(stderr, 2000), clip(string(r.stdout), 200))
		}
		if c.rules == nil && !strings.Contains(stderr, filepath.Base(input)) {
			t.Errorf("the error does not name the input %s:\n%s", filepath.Base(input), clip(stderr, 2000))
		}
		return
	}
	if !utf8.Valid(r.stdout) {
		t.Fatal("the JSON report is not valid UTF-8")
	}
	var rep jsonReport
	if err := json.Unmarshal(r.stdout, &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, clip(string(r.stdout), 2000))
	}
	if c.check != nil {
		c.check(t, &rep, stderr)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}
