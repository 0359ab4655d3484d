package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/report"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errb}
	code = Run(io, args)
	return code, out.String(), errb.String()
}

const example = "../../examples/founding-case-hydra.har"

func parseReport(t *testing.T, s string) *report.Report {
	t.Helper()
	var r report.Report
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("JSON output does not match the contract: %v\n%s", err, s)
	}
	return &r
}

func ruleIDs(r *report.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Rule)
	}
	sort.Strings(ids)
	return ids
}

func TestAnalyzeFoundingCaseJSON(t *testing.T) {
	code, out, errs := run(t, "", "analyze", "--format", "json", example)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := parseReport(t, out)
	if r.SchemaVersion != report.SchemaVersion || r.Tool.Name != "oauthlint" || r.Tool.Rules == 0 {
		t.Errorf("tool = %+v", r.Tool)
	}
	got := strings.Join(ruleIDs(r), " ")
	if got != "AZ-SCOPE-MISSING CHAL-SCOPE-HINT DCRQ-SCOPE PRM-SCOPES-RECOMMENDED" {
		t.Errorf("findings = %s", got)
	}
	for _, f := range r.Findings {
		if f.Party == "" || f.Fix == "" || len(f.References) == 0 || len(f.Evidence) == 0 || f.Evidence[0].Ref.File == "" {
			t.Errorf("%s lacks party/fix/references/evidence: %+v", f.Rule, f)
		}
		if f.Rule == "AZ-SCOPE-MISSING" && (f.Severity != "low" || !strings.Contains(f.Message, "openid-configuration")) {
			t.Errorf("AZ-SCOPE-MISSING must be low and name the AS catalogue: %s %s", f.Severity, f.Message)
		}
	}
	if len(r.Flows) != 1 || r.Flows[0].MCP.Revision != "2025-11-25" || r.Flows[0].MCP.Source == "" {
		t.Errorf("flows = %+v", r.Flows)
	}
	if r.Flows[0].Scopes.Hint.Source != "none" || len(r.Flows[0].Scopes.Advertised) != 1 || r.Flows[0].Scopes.Advertised[0].Source != "as_metadata" {
		t.Errorf("scope provenance = %+v", r.Flows[0].Scopes)
	}
}

func TestFailOn(t *testing.T) {
	if code, _, _ := run(t, "", "analyze", "--fail-on", "low", example); code != ExitFindings {
		t.Errorf("--fail-on low: exit %d, want 1", code)
	}
	if code, _, _ := run(t, "", "analyze", "--fail-on", "none", example); code != ExitOK {
		t.Errorf("--fail-on none: exit %d, want 0", code)
	}
	if code, _, _ := run(t, "", "analyze", "--fail-on", "info", "../../examples/founding-case-fixed.har"); code != ExitOK {
		t.Errorf("corrected twin: exit %d, want 0", code)
	}
}

func TestCorrectedTwinHasNoFindings(t *testing.T) {
	_, out, _ := run(t, "", "analyze", "--format", "json", "../../examples/founding-case-fixed.har")
	if r := parseReport(t, out); len(r.Findings) != 0 {
		t.Errorf("findings on a conforming flow: %v", ruleIDs(r))
	}
}

func TestTSVWhenPiped(t *testing.T) {
	_, out, _ := run(t, "", "analyze", example)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "severity\toutcome\trule\t") || len(lines) != 5 {
		t.Fatalf("tsv:\n%s", out)
	}
	for _, l := range lines {
		if n := strings.Count(l, "\t"); n != 10 {
			t.Errorf("%d tabs in %q", n, l)
		}
	}
}

func TestTable(t *testing.T) {
	_, out, _ := run(t, "", "analyze", "--format", "table", example)
	for _, want := range []string{"PRM-SCOPES-RECOMMENDED", "Details", "fix:", "evidence:", "4 violation(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// secretsOf pulls the credential values out of a fixture HAR.
func secretsOf(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range []string{"code", "code_verifier", "access_token"} {
		for _, sep := range []string{"?" + k + "=", "&" + k + "=", `\"` + k + `\":\"`} {
			s := string(data)
			if i := strings.Index(s, sep); i >= 0 {
				v := s[i+len(sep):]
				v = v[:strings.IndexAny(v, "&\\\" ")]
				if len(v) > 10 {
					out[k] = v
				}
			}
		}
	}
	return out
}

func TestSecretsRedactedUnlessAsked(t *testing.T) {
	fixture := "../../rules/builtin/testdata/TQ-VERIFIER-MATCH/fire-wrong-verifier.har"
	secrets := secretsOf(t, fixture)
	if len(secrets) != 3 {
		t.Fatalf("secrets found in fixture: %v", secrets)
	}
	for _, format := range []string{"json", "tsv", "table"} {
		_, out, _ := run(t, "", "analyze", "--format", format, fixture)
		for k, v := range secrets {
			if strings.Contains(out, v) {
				t.Errorf("%s output leaks the %s", format, k)
			}
		}
		if !strings.Contains(out, "sha256:") {
			t.Errorf("%s output shows no redacted value", format)
		}
	}
	// Opting out shows them: the verifier is evidence in every format, the
	// code is in the JSON flow steps.
	for _, format := range []string{"json", "tsv", "table"} {
		_, out, _ := run(t, "", "analyze", "--format", format, "--show-secrets", fixture)
		if !strings.Contains(out, secrets["code_verifier"]) {
			t.Errorf("%s --show-secrets hides the verifier", format)
		}
	}
	_, out, _ := run(t, "", "analyze", "--format", "json", "--show-secrets", fixture)
	if !strings.Contains(out, secrets["code"]) {
		t.Errorf("json --show-secrets hides the code")
	}
}

func TestStdin(t *testing.T) {
	data, _ := os.ReadFile(example)
	code, out, errs := run(t, string(data), "analyze", "--format", "json", "-")
	if code != ExitOK || len(parseReport(t, out).Findings) != 4 {
		t.Fatalf("exit %d %s", code, errs)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	cases := []struct {
		name, file string
		want       []string
	}{
		{"missing", filepath.Join(dir, "nope.har"), []string{"no such file"}},
		{"text", write("notes.txt", "hello world\n"), []string{"not a capture", "HAR"}},
		{"empty", write("empty.har", ""), []string{"empty"}},
		{"array", write("array.har", `[1,2,3]`), []string{"not a capture", "[1,2,3]"}},
		{"malformed", write("bad.har", `{"log":{"entries":[{"request":{"method":"GET","url":"https://a/"},}]}}`), []string{"malformed JSON", "byte"}},
		{"no entries", write("noentries.har", `{"log":{"version":"1.2"}}`), []string{"no \"entries\""}},
		{"all entries broken", write("broken.har", `{"log":{"entries":[{"request":{"method":"GET","url":"not a url"}}]}}`), []string{"none of its 1 entries", "entry 0"}},
		{"pcap", write("cap.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00"), []string{"pcap"}},
	}
	for _, c := range cases {
		code, _, errs := run(t, "", "analyze", c.file)
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want 2 (%s)", c.name, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errs)
			}
		}
	}
}

func TestTruncatedHARIsAnalyzedWithWarning(t *testing.T) {
	data, _ := os.ReadFile(example)
	cut := data[:len(data)*2/3]
	p := filepath.Join(t.TempDir(), "cut.har")
	os.WriteFile(p, cut, 0o644)
	code, out, errs := run(t, "", "analyze", "--format", "json", p)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "truncated HAR") || !strings.Contains(errs, "byte") {
		t.Errorf("no truncation warning: %s", errs)
	}
	r := parseReport(t, out)
	if !r.Inputs[0].Truncated || r.Inputs[0].Entries == 0 {
		t.Errorf("inputs = %+v", r.Inputs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"analyze"},
		{"analyze", "--format", "xml", example},
		{"analyze", "--fail-on", "severe", example},
		{"analyze", "--mcp-revision", "2024-11-05", example},
		{"analyze", "--packs", "nope", example},
		{"analyze", "--no-such-flag", example},
		{"frobnicate"},
	} {
		code, _, errs := run(t, "", args...)
		if code != ExitUsage || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestMCPRevisionFlag(t *testing.T) {
	_, out, _ := run(t, "", "analyze", "--format", "json", "--mcp-revision", "2025-06-18", example)
	r := parseReport(t, out)
	if !r.Flows[0].MCP.Forced || r.Flows[0].MCP.Revision != "2025-06-18" {
		t.Errorf("mcp = %+v", r.Flows[0].MCP)
	}
	for _, f := range r.Findings {
		if f.Rule == "CHAL-SCOPE-HINT" {
			t.Errorf("CHAL-SCOPE-HINT is a 2025-11-25 rule but fired under 2025-06-18")
		}
	}
}

func TestPacksFlag(t *testing.T) {
	_, out, _ := run(t, "", "analyze", "--format", "json", "--packs", "mcp-2025-11-25", example)
	got := strings.Join(ruleIDs(parseReport(t, out)), " ")
	if got != "CHAL-SCOPE-HINT" {
		t.Errorf("--packs mcp-2025-11-25 findings = %s", got)
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := run(t, "", "version")
	if code != 0 || !strings.Contains(out, "oauthlint ") || !strings.Contains(out, "built-in rules: ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = run(t, "", "analyze", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--fail-on") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestMaxConnections: --max-connections reaches the pcap reader, and the
// warning says how to raise it.
func TestMaxConnections(t *testing.T) {
	p := "../../capture/pcap/testdata/tls/chromium-h2.pcap"
	keys := "../../capture/pcap/testdata/tls/chromium-h2.keys"
	code, _, stderr := run(t, "", "analyze", "--format", "json", "--fail-on", "none", "--keylog", keys, p)
	if code != ExitOK || strings.Contains(stderr, "finished early") {
		t.Fatalf("default limit: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "", "analyze", "--format", "json", "--fail-on", "none", "--max-connections", "1", "--keylog", keys, p)
	if code != ExitOK || !strings.Contains(stderr, "finished early") || !strings.Contains(stderr, "--max-connections") {
		t.Errorf("--max-connections 1: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, _ := run(t, "", "analyze", "--max-connections", "-1", p); code != ExitUsage {
		t.Errorf("--max-connections -1: exit %d, want %d", code, ExitUsage)
	}
}
