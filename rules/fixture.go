package rules

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
)

// Want is one expectation written in a fixture entry's comment:
// "want: RULE-ID" (a fail finding), "want: RULE-ID(not-available)",
// "want: RULE-ID(low)" or "want: RULE-ID(fail,low)". "*(not-available)"
// lets any further not-available finding land on the entry (a capture
// without a whole leg makes every rule about that leg not-available; the
// fixture names the ones it cares about and tolerates the rest).
type Want struct {
	Rule     string
	Outcome  Outcome
	Severity Severity // "" = any
}

func (w Want) String() string {
	s := w.Rule + "(" + string(w.Outcome)
	if w.Severity != "" {
		s += "," + string(w.Severity)
	}
	return s + ")"
}

var wantRe = regexp.MustCompile(`^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|\*)(?:\(([^)]*)\))?$`)

// ParseWants reads the expectations of a fixture comment. Text before
// "want:" is free; several rule ids are separated by spaces or commas
// outside parentheses.
func ParseWants(comment string) ([]Want, error) {
	_, rest, ok := strings.Cut(comment, "want:")
	if !ok {
		return nil, nil
	}
	var out []Want
	for _, tok := range splitWants(rest) {
		m := wantRe.FindStringSubmatch(tok)
		if m == nil {
			return nil, fmt.Errorf("cannot read expectation %q (want RULE-ID or RULE-ID(outcome,severity))", tok)
		}
		w := Want{Rule: m[1], Outcome: Fail}
		if w.Rule == "*" && m[2] != string(NotAvailable) {
			return nil, fmt.Errorf("expectation %q: only *(not-available) is allowed as a wildcard", tok)
		}
		if m[2] != "" {
			for _, q := range strings.Split(m[2], ",") {
				q = strings.TrimSpace(q)
				switch {
				case q == string(Fail) || q == string(NotAvailable) || q == string(Error):
					w.Outcome = Outcome(q)
				case Severity(q).Valid():
					w.Severity = Severity(q)
				default:
					return nil, fmt.Errorf("expectation %q: %q is neither an outcome (fail, not-available, error) nor a severity", tok, q)
				}
			}
		}
		out = append(out, w)
	}
	return out, nil
}

func splitWants(s string) []string {
	var out []string
	depth := 0
	cur := strings.Builder{}
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case r == '(':
			depth++
			cur.WriteRune(r)
		case r == ')':
			depth--
			cur.WriteRune(r)
		case (r == ' ' || r == ',' || r == '\n' || r == '\t') && depth == 0:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// FixtureOptions are read from the capture's own comment (HAR
// log.comment): "mcp-revision: 2025-06-18; packs: oauth2,oidc".
type FixtureOptions struct {
	MCPRevision string
	Packs       []string
}

// ParseFixtureOptions reads options from a log comment.
func ParseFixtureOptions(comment string) (FixtureOptions, error) {
	o := FixtureOptions{MCPRevision: "auto"}
	for _, part := range strings.FieldsFunc(comment, func(r rune) bool { return r == ';' || r == '\n' }) {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "mcp-revision":
			if v != "auto" && !analyze.IsRevision(v) {
				return o, fmt.Errorf("mcp-revision %q is not a known revision", v)
			}
			o.MCPRevision = v
		case "packs":
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					o.Packs = append(o.Packs, p)
				}
			}
		}
	}
	return o, nil
}

// FixtureResult is the outcome of checking one fixture.
type FixtureResult struct {
	File     string
	Findings int
	Wants    int
	Problems []string
}

// OK reports whether the fixture met its expectations exactly.
func (r FixtureResult) OK() bool { return len(r.Problems) == 0 }

// FixtureFiles lists the .har fixtures under dir (recursively), sorted.
func FixtureFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".har") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// RunFixture analyzes one fixture capture with the engine and compares
// every finding with the expectations in the entries' comments. Every
// finding must be expected on the entry it is anchored at, and every
// expectation must be met.
func (e *Engine) RunFixture(path string) (FixtureResult, error) {
	return e.RunFixtureWith(path, RunOptions{})
}

// RunFixtureWith is RunFixture with base run options (ExtraPacks for
// custom packs); the fixture's own packs option takes precedence.
func (e *Engine) RunFixtureWith(path string, base RunOptions) (FixtureResult, error) {
	res := FixtureResult{File: path}
	exs, info, err := input.Read(path, input.Options{})
	if err != nil {
		return res, err
	}
	opts, err := ParseFixtureOptions(info.Comment)
	if err != nil {
		return res, fmt.Errorf("%s: log.comment: %w", path, err)
	}
	for _, w := range info.Warnings {
		res.Problems = append(res.Problems, "reader warning: "+w)
	}
	timeline := capture.Timeline(exs)
	an := analyze.Analyze(timeline, analyze.Options{MCPRevision: opts.MCPRevision, ClientRun: info.ClientRun, Undecrypted: append(info.Undecrypted, info.PartlyRead...)})
	run := base
	if len(opts.Packs) > 0 {
		run.Packs = opts.Packs
	}
	findings := e.Run(an, run)
	res.Findings = len(findings)

	// Expectations by HAR entry index.
	wants := map[int][]Want{}
	for _, ex := range timeline {
		ws, err := ParseWants(ex.Comment)
		if err != nil {
			return res, fmt.Errorf("%s: entry %d: %w", path, ex.Ref.Entry, err)
		}
		if len(ws) > 0 {
			wants[ex.Ref.Entry] = append(wants[ex.Ref.Entry], ws...)
			res.Wants += len(ws)
		}
	}
	entryOf := func(id int) int {
		if id <= 0 || id > len(timeline) {
			return -1
		}
		return timeline[id-1].Ref.Entry
	}
	matched := map[int][]bool{}
	for k, ws := range wants {
		matched[k] = make([]bool, len(ws))
	}
	for _, f := range findings {
		entry := entryOf(f.Anchor)
		ok := false
		for i, w := range wants[entry] {
			if matched[entry][i] || w.Rule == "*" || w.Rule != f.Rule || w.Outcome != f.Outcome {
				continue
			}
			if w.Severity != "" && w.Severity != f.Severity {
				res.Problems = append(res.Problems, fmt.Sprintf("entry %d: %s fired with severity %s, want %s: %s", entry, f.Rule, f.Severity, w.Severity, f.Message))
			}
			matched[entry][i] = true
			ok = true
			break
		}
		if !ok && f.Outcome == NotAvailable {
			for _, w := range wants[entry] {
				if w.Rule == "*" {
					ok = true
				}
			}
		}
		if !ok {
			res.Problems = append(res.Problems, fmt.Sprintf("entry %d: unexpected %s(%s,%s) in flow %s: %s", entry, f.Rule, f.Outcome, f.Severity, f.Flow, f.Message))
		}
		// The same finding recurring in the flow is reported once with
		// its repeats: they meet expectations written on those entries
		// (and need none).
		for _, rep := range f.Repeats {
			e := entryOf(rep)
			for i, w := range wants[e] {
				if !matched[e][i] && w.Rule == f.Rule && w.Outcome == f.Outcome && (w.Severity == "" || w.Severity == f.Severity) {
					matched[e][i] = true
					break
				}
			}
		}
	}
	entries := make([]int, 0, len(wants))
	for k := range wants {
		entries = append(entries, k)
	}
	sort.Ints(entries)
	for _, k := range entries {
		for i, w := range wants[k] {
			if !matched[k][i] && w.Rule != "*" {
				res.Problems = append(res.Problems, fmt.Sprintf("entry %d: want %s, but the rule did not report it there", k, w))
			}
		}
	}
	return res, nil
}
