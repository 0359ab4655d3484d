package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/report"
	"github.com/oauthlint/oauthlint/rules"
)

// AnalyzeOptions are the analyze command's inputs.
type AnalyzeOptions struct {
	IO          *IOStreams
	Files       []string
	Format      string
	FailOn      string
	MCPRevision string
	Packs       []string
	ShowSecrets bool
	MaxBody     int64
	// MaxConns caps the TCP connections a packet capture keeps open.
	MaxConns int
	// Outputs are the -o FORMAT=FILE reports written besides stdout.
	Outputs []string
	// Rules are the --rules directories, Config and Baseline the files.
	RuleDirs []string
	Config   string
	Baseline string
	// Now is the clock (injectable for tests).
	Now func() time.Time
	// KeyLogs are the --keylog files (TLS secrets for packet captures);
	// SSLKEYLOGFILE in the environment is read as well.
	KeyLogs []string
	// MemoryLimit is the soft memory limit ("210MiB", "0" for none);
	// MemoryLimitSet says it was given on the command line.
	MemoryLimit    string
	MemoryLimitSet bool
}

func newAnalyzeCmd(io *IOStreams, runF func(*AnalyzeOptions) error) *cobra.Command {
	opts := &AnalyzeOptions{IO: io, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "Analyze captured OAuth traffic (HAR) and report violations",
		Long: `Analyze reads one or more captures, merges them into one timeline, rebuilds
every OAuth flow and evaluates the rule packs on it.

Inputs: HAR 1.2 files as exported by Chrome, Edge, Firefox, Safari, mitmproxy,
Charles, Burp or Insomnia ("-" reads standard input). Several files are merged
by time: a browser HAR and a proxy HAR of the same login give one flow.

Packs: by default oauth2 applies to every flow, oidc to OpenID Connect flows,
and the MCP pack of the revision each flow's traffic shows (MCP-Protocol-Version
header, initialize protocolVersion); --mcp-revision forces one revision and
--packs picks packs explicitly.

Output: a table on a terminal, TSV when piped, or --format json (the documented
contract), sarif (GitHub code scanning), markdown (a review document), html
(one self-contained file with a sequence diagram per flow) or junit (CI test
reports). -o FORMAT=FILE writes further reports to files, as often as needed.
Secrets (codes, tokens, verifiers, client secrets, cookies, Authorization) are
redacted in every format unless --show-secrets.

Exit status: 0 when no violation reaches --fail-on, 1 when one does, 2 for
usage or input errors, 3 for internal errors.`,
		Example: `  # The founding case shipped with oauthlint
  oauthlint analyze examples/founding-case-hydra.har

  # Merge a browser export and a proxy capture of the same login
  oauthlint analyze browser.har mitmproxy.har

  # JSON for CI; fail the job on medium or worse
  oauthlint analyze --format json --fail-on medium flow.har > oauthlint.json

  # A table on the terminal, SARIF for code scanning and an HTML report
  oauthlint analyze -o sarif=oauthlint.sarif -o html=oauthlint.html flow.har

  # Judge the traffic under MCP 2025-06-18 regardless of what it negotiated
  oauthlint analyze --mcp-revision 2025-06-18 flow.har`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("analyze needs at least one capture file (a HAR export), e.g. 'oauthlint analyze flow.har'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if !cmd.Flags().Changed("format") {
				opts.Format = ""
			}
			opts.MemoryLimitSet = cmd.Flags().Changed("memory-limit")
			if runF != nil {
				return runF(opts)
			}
			return runAnalyze(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "", "output format for stdout: "+strings.Join(report.Formats(), "|")+" (default: table on a terminal, tsv when piped)")
	f.StringArrayVarP(&opts.Outputs, "output", "o", nil, "also write a report to a file, as FORMAT=FILE (repeatable), e.g. -o sarif=out.sarif -o html=report.html")
	f.StringVar(&opts.FailOn, "fail-on", "high", "exit 1 when a violation of this severity or worse is found: critical|high|medium|low|info|none")
	f.StringVar(&opts.MCPRevision, "mcp-revision", "auto", "MCP revision to judge flows under: auto|"+strings.Join(analyze.Revisions, "|"))
	f.StringSliceVar(&opts.Packs, "packs", []string{"auto"}, "rule packs to run: auto, or a comma list of "+strings.Join(rules.BuiltinPacks, ", "))
	f.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print tokens, codes and secrets unredacted (never in shared reports)")
	f.Int64Var(&opts.MaxBody, "max-body", 16<<20, "cap in bytes for each stored body after decoding")
	f.IntVar(&opts.MaxConns, "max-connections", pcap.DefaultMaxOpenConnections, "pcap: TCP connections kept open at once; beyond it the least recently active is finished early (its exchanges say so)")
	f.StringVar(&opts.MemoryLimit, "memory-limit", DefaultMemoryLimit, "soft memory limit: the garbage collector works harder to stay under it, nothing fails above it (KiB/MiB/GiB, 0 for none; $GOMEMLIMIT applies when this flag is not given)")
	f.StringArrayVar(&opts.KeyLogs, "keylog", nil, "TLS key log (SSLKEYLOGFILE format) to decrypt pcap/pcapng captures (repeatable; $SSLKEYLOGFILE is read too)")
	addRuleFlags(f, opts)
	return cmd
}

func (o *AnalyzeOptions) validate() (rules.Severity, []string, error) {
	var failOn rules.Severity
	if strings.EqualFold(o.FailOn, "none") || strings.EqualFold(o.FailOn, "never") {
		failOn = ""
	} else {
		s, err := rules.ParseSeverity(o.FailOn)
		if err != nil {
			return "", nil, usageError("--fail-on: %v, or none", err)
		}
		failOn = s
	}
	if o.MCPRevision != "auto" && !analyze.IsRevision(o.MCPRevision) {
		return "", nil, usageError("--mcp-revision %q: want auto or one of %s", o.MCPRevision, strings.Join(analyze.Revisions, ", "))
	}
	var packs []string
	for _, p := range o.Packs {
		for _, q := range strings.Split(p, ",") {
			q = strings.TrimSpace(q)
			if q == "" || q == "auto" {
				continue
			}
			known := false
			for _, b := range rules.BuiltinPacks {
				if b == q {
					known = true
				}
			}
			if !known {
				return "", nil, usageError("--packs: unknown pack %q (want auto or a comma list of %s)", q, strings.Join(rules.BuiltinPacks, ", "))
			}
			packs = append(packs, q)
		}
	}
	if o.Format != "" {
		if _, err := report.New(o.Format, report.Options{}); err != nil {
			return "", nil, usageError("--format: %v", err)
		}
	}
	// capture shares this path and leaves MaxConns 0: the reader's default.
	if o.MaxConns < 0 {
		return "", nil, usageError("--max-connections must be positive")
	}
	if o.MaxBody <= 0 {
		return "", nil, usageError("--max-body must be positive")
	}
	if _, err := o.outputs(); err != nil {
		return "", nil, err
	}
	return failOn, packs, nil
}

// outputFile is one -o FORMAT=FILE.
type outputFile struct {
	format string
	path   string
}

// outputs parses and checks every -o before anything is read, so a typo
// fails fast instead of after a long analysis.
func (o *AnalyzeOptions) outputs() ([]outputFile, error) {
	var out []outputFile
	seen := map[string]string{}
	for _, spec := range o.Outputs {
		format, path, ok := strings.Cut(spec, "=")
		format, path = strings.TrimSpace(format), strings.TrimSpace(path)
		if !ok || format == "" || path == "" {
			return nil, usageError("-o %q: want FORMAT=FILE, e.g. -o sarif=oauthlint.sarif (formats: %s)", spec, strings.Join(report.Formats(), ", "))
		}
		if _, err := report.New(format, report.Options{}); err != nil {
			return nil, usageError("-o %s: %v", spec, err)
		}
		if path == "-" {
			return nil, usageError("-o %s: use --format %s to write to standard output", spec, format)
		}
		key := filepath.Clean(path)
		if prev, dup := seen[key]; dup {
			return nil, usageError("-o %s: %s is already the target of -o %s", spec, path, prev)
		}
		seen[key] = spec
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return nil, usageError("-o %s: %s is a directory; give a file name", spec, path)
		}
		if dir := filepath.Dir(path); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, usageError("-o %s: directory %s does not exist; create it first", spec, dir)
			}
		}
		out = append(out, outputFile{format: format, path: path})
	}
	return out, nil
}

// writeOutputs writes each -o report to a temporary file in the target's
// directory and renames it into place, so a failed write never leaves a
// half report where a CI step expects a whole one. Reports shown with
// --show-secrets are readable by the owner only.
func writeOutputs(files []outputFile, rep *report.Report, showSecrets bool) error {
	perm := os.FileMode(0o644)
	if showSecrets {
		perm = 0o600
	}
	for _, of := range files {
		p, err := report.New(of.format, report.Options{})
		if err != nil {
			return usageError("-o %s=%s: %v", of.format, of.path, err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(of.path), "."+filepath.Base(of.path)+".*.tmp")
		if err != nil {
			return inputError(fmt.Errorf("-o %s=%s: %w (check that the directory is writable)", of.format, of.path, err))
		}
		w := bufio.NewWriter(tmp)
		err = p.Print(w, rep)
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = tmp.Chmod(perm)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), of.path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return inputError(fmt.Errorf("-o %s=%s: writing the %s report: %w", of.format, of.path, of.format, err))
		}
	}
	return nil
}

func runAnalyze(o *AnalyzeOptions) error {
	start := o.Now()
	p, err := o.prepare(true)
	if err != nil {
		return err
	}
	if o.MemoryLimit != "" {
		restore, err := applyMemoryLimit(o.MemoryLimit, o.MemoryLimitSet)
		if err != nil {
			return err
		}
		defer restore()
	}
	var all [][]*capture.Exchange
	var inputs []report.Input
	var run *capture.ClientRun // the first input that covers a client's whole run
	// The connections the readers could not read: flows near them do not
	// conclude from what they lack.
	var undecrypted []capture.Undecrypted
	keys, notes, err := input.LoadKeyLogs(o.KeyLogs, os.Getenv("SSLKEYLOGFILE"))
	for _, n := range notes {
		fmt.Fprintf(o.IO.ErrOut, "oauthlint: %s\n", n)
	}
	if err != nil {
		return inputError(err)
	}
	for _, path := range o.Files {
		prog := newProgress(o.IO, path)
		exs, info, err := input.Read(path, input.Options{MaxBody: o.MaxBody, MaxConnections: o.MaxConns, Stdin: o.IO.In, Progress: prog.update, Keys: keys,
			Slim: analyze.DropUnreadBodies})
		prog.done()
		if err != nil {
			return inputError(fmt.Errorf("%s\n%s", err, inputHint(err)))
		}
		for _, w := range info.Warnings {
			fmt.Fprintf(o.IO.ErrOut, "oauthlint: warning: %s\n", w)
		}
		if len(exs) == 0 && info.Entries > 0 {
			return inputError(fmt.Errorf("%s: none of its %d entries could be read (see the warnings above)", info.File, info.Entries))
		}
		all = append(all, exs)
		if run == nil {
			run = info.ClientRun
		}
		undecrypted = append(append(undecrypted, info.Undecrypted...), info.PartlyRead...)
		inputs = append(inputs, report.Input{File: info.File, Format: string(info.Format), Creator: info.Creator, Entries: info.Entries,
			Exchanges: info.Exchanges, Truncated: info.Truncated, Sanitized: info.Sanitized, Warnings: info.Warnings,
			Undecrypted: info.Undecrypted})
	}
	res := analyze.Analyze(capture.Timeline(all...), analyze.Options{MCPRevision: o.MCPRevision, ClientRun: run, Undecrypted: undecrypted})
	res.ReleaseUnread()
	findings, suppressed, err := p.judge(res)
	if err != nil {
		return err
	}
	return p.emit(res, findings, suppressed, inputs, start)
}

func failOnName(s rules.Severity) rules.Severity {
	if s == "" {
		return "none"
	}
	return s
}

func inputHint(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, errNotExist(err)):
		return "Check the path; analyze takes capture files (HAR)."
	case strings.Contains(msg, "not a HAR") || strings.Contains(msg, "not a capture"):
		return "Export a HAR from the browser (DevTools → Network → Export HAR) or from mitmproxy (mitmdump --set hardump=flow.har)."
	case strings.Contains(msg, "malformed JSON"):
		return "The HAR is not valid JSON at that byte; re-export it, or fix the file there."
	}
	return "Run 'oauthlint analyze --help' for the supported inputs."
}
