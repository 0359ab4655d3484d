package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

// go test ./report -update rewrites the golden files, the JSON Schema
// and the generated test captures.
var update = flag.Bool("update", false, "rewrite golden files, the JSON Schema and generated testdata")

// allFormats maps each format to the extension of its golden file.
var allFormats = map[string]string{
	"json": "json", "tsv": "tsv", "table": "txt", "sarif": "sarif", "markdown": "md", "html": "html", "junit": "xml",
}

// goldenRules are the built-in rules the golden files are made with:
// the rules that existed when the golden files were first written. New
// rules do not change the golden files of the printers (the rule
// fixtures test them); every test that is not a golden comparison runs
// all built-in rules.
var goldenRules = []string{
	"ASM-ISSUER-MATCH", "AZ-PKCE-PRESENT", "AZ-PKCE-S256", "AZ-RESOURCE-PRESENT", "AZ-SCOPE-MISSING", "AZ-SCOPE-SELECTION",
	"AZ-SCOPE-UNSUPPORTED", "AZ-STATE", "CHAL-RESOURCE-METADATA", "CHAL-SCOPE-HINT", "DCRQ-SCOPE-UNSUPPORTED", "DCRQ-SCOPE",
	"PRM-RESOURCE-MATCH", "PRM-SCOPES-RECOMMENDED", "TQ-REDIRECT-URI-IDENTICAL", "TQ-RESOURCE-PRESENT", "TQ-VERIFIER-MATCH",
	"TR-NO-STORE", "TR-SCOPE-IF-DIFFERENT",
}

// pipeline runs the real analysis on captures with every built-in rule,
// as `oauthlint analyze` does, with a fixed version and duration so
// outputs are reproducible.
func pipeline(t testing.TB, showSecrets bool, paths ...string) *Report {
	t.Helper()
	return pipelineWith(t, nil, showSecrets, paths...)
}

var (
	pipelineMu    sync.Mutex
	pipelineCache = map[string]*Report{}
)

// pipelineWith runs only the built-in rules named in only (all when nil).
// Results are cached for the test binary: the tests only read reports.
func pipelineWith(t testing.TB, only []string, showSecrets bool, paths ...string) *Report {
	t.Helper()
	key := fmt.Sprint(only, showSecrets, paths)
	pipelineMu.Lock()
	defer pipelineMu.Unlock()
	if r, ok := pipelineCache[key]; ok {
		return r
	}
	r := runPipeline(t, only, showSecrets, paths...)
	pipelineCache[key] = r
	return r
}

func runPipeline(t testing.TB, only []string, showSecrets bool, paths ...string) *Report {
	t.Helper()
	builtins, err := builtin.Rules()
	if err != nil {
		t.Fatal(err)
	}
	rs := builtins
	if only != nil {
		rs = nil
		for _, r := range builtins {
			if containsStr(only, r.ID) {
				rs = append(rs, r)
			}
		}
	}
	engine, err := rules.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	var all [][]*capture.Exchange
	var inputs []Input
	for _, p := range paths {
		exs, info, err := input.Read(p, input.Options{MaxBody: 16 << 20})
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		all = append(all, exs)
		inputs = append(inputs, Input{File: info.File, Format: string(info.Format), Creator: info.Creator, Entries: info.Entries,
			Exchanges: info.Exchanges, Truncated: info.Truncated, Sanitized: info.Sanitized, Warnings: info.Warnings})
	}
	res := analyze.Analyze(capture.Timeline(all...), analyze.Options{MCPRevision: "auto"})
	opts := rules.RunOptions{}
	findings := engine.Run(res, opts)
	return Build(res, findings, Meta{Version: "test", MCPRevision: "auto", Packs: []string{"auto"}, FailOn: "high",
		ShowSecrets: showSecrets, Rules: len(engine.Rules()), Inputs: inputs, RunOptions: opts, Catalog: engine.Rules()})
}

// render prints a report in a format.
func render(t testing.TB, format string, r *Report) []byte {
	t.Helper()
	p, err := New(format, Options{Width: 120})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Print(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./report -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d bytes, want %d); first difference:\n%s\nrun 'go test ./report -update' if the change is intended",
			path, len(got), len(want), firstDiff(string(got), string(want)))
	}
}

func firstDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return "line " + strconv.Itoa(i+1) + ":\n  got:  " + truncate(g, 300) + "\n  want: " + truncate(w, 300)
		}
	}
	return "(none)"
}

// cases are the reports every printer is tested on; golden selects the
// rules of the golden files instead of all built-in rules.
func cases(t *testing.T, golden bool) map[string]*Report {
	t.Helper()
	var only []string
	if golden {
		only = goldenRules
	}
	return map[string]*Report{
		// A trimmed part of the MCP conformance capture (real traffic of
		// the MCP SDK's example client against the conformance suite's
		// servers): 4 flows.
		"conformance": pipelineWith(t, only, false, "testdata/conformance.har"),
		// Generated captures full of credentials, with a flow whose
		// browser leg was not captured (missing legs, not checked).
		"secrets": pipelineWith(t, only, false, secretsHAR),
		// A hand-built report with what real captures rarely show at
		// once: pcap and proxy refs, a rule error, hostile strings.
		"synthetic": synthetic(),
		// Nothing found.
		"empty": emptyReport(),
	}
}

func TestGolden(t *testing.T) {
	for name, r := range cases(t, true) {
		for format, ext := range allFormats {
			t.Run(name+"/"+format, func(t *testing.T) {
				golden(t, name+"."+ext, render(t, format, r))
			})
		}
	}
}

// TestDeterministic: two renderings of the same report are identical
// (no map order or time leaks into any format).
func TestDeterministic(t *testing.T) {
	r := pipeline(t, false, "testdata/conformance.har")
	for format := range allFormats {
		a, b := render(t, format, r), render(t, format, r)
		if !bytes.Equal(a, b) {
			t.Errorf("%s output differs between two runs", format)
		}
	}
}

func TestFormatsAndAliases(t *testing.T) {
	want := []string{"html", "json", "junit", "markdown", "sarif", "table", "tsv"}
	if got := strings.Join(Formats(), ","); got != strings.Join(want, ",") {
		t.Errorf("Formats() = %s, want %s", got, strings.Join(want, ","))
	}
	for _, name := range []string{"md", "MarkDown", " sarif "} {
		if _, err := New(name, Options{}); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	if _, err := New("xml", Options{}); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Errorf("New(xml) error = %v, want the list of formats", err)
	}
}

func TestElideTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"add scope={{ join(flow.scope_hint, ' ') }} to the request": "add scope=… to the request",
		"plain text":           "plain text",
		"{{ a }}{{ b }}":       "……",
		"broken {{ no end":     "broken {{ no end",
		"multi\n  line  {{x}}": "multi line …",
	} {
		if got := elideTemplate(in); got != want {
			t.Errorf("elideTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReferenceURL(t *testing.T) {
	for in, want := range map[string]string{
		"RFC 6749 §5.1":       "https://www.rfc-editor.org/rfc/rfc6749#section-5.1",
		"RFC 7636 §4.1, §4.6": "https://www.rfc-editor.org/rfc/rfc7636#section-4.1",
		"RFC 9728":            "https://www.rfc-editor.org/rfc/rfc9728",
		"OAuth 2.1 (draft-ietf-oauth-v2-1-13) §3.2.3":   "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-3.2.3",
		"MCP 2025-11-25 Authorization: Scope Selection": "https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization",
		"OpenID Connect Discovery 1.0 §4.3":             "https://openid.net/specs/openid-connect-discovery-1_0.html",
		"a blog post":                                   "",
	} {
		if got := referenceURL(in); got != want {
			t.Errorf("referenceURL(%q) = %q, want %q", in, got, want)
		}
	}
}
