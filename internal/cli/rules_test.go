package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func TestRulesList(t *testing.T) {
	code, out, _ := run(t, "", "rules", "list", "--pack", "mcp-2025-11-25", "--format", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var rs []struct {
		ID    string   `json:"id"`
		Packs []string `json:"packs"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) == 0 {
		t.Fatalf("%v %s", err, out)
	}
	for _, r := range rs {
		if !contains(r.Packs, "mcp-2025-11-25") {
			t.Errorf("%s is not in the pack", r.ID)
		}
	}
	_, out, _ = run(t, "", "rules", "list", "--rules", "testdata/custom")
	if !strings.Contains(out, "ACME-NO-OFFLINE") || !strings.Contains(out, "AZ-SCOPE-SELECTION") {
		t.Errorf("list with custom rules:\n%s", out)
	}
}

func TestRulesExplain(t *testing.T) {
	code, out, _ := run(t, "", "rules", "explain", "az-scope-selection")
	for _, want := range []string{"AZ-SCOPE-SELECTION", "level:", "party:", "References", "Why it matters", "Fix"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	code, _, errs := run(t, "", "rules", "explain", "AZ-SCOPE")
	if code != ExitUsage || !strings.Contains(errs, "did you mean") {
		t.Errorf("unknown id: %d %s", code, errs)
	}
}

func TestRulesLint(t *testing.T) {
	code, out, _ := run(t, "", "rules", "lint", "testdata/custom")
	if code != 0 || !strings.Contains(out, "1 rule(s) OK") {
		t.Errorf("good pack: %d %s", code, out)
	}
	code, out, _ = run(t, "", "rules", "lint", "../../rules/testdata/bad")
	if code != 1 {
		t.Errorf("bad pack: exit %d", code)
	}
	for _, want := range []string{"broken.yaml:4:11:", "broken.yaml:8:22: when: undefined field 'presnt'", "broken.yaml:13:1: unknown field evidance"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
	// The shipped pack directory itself lints clean: exact copies of
	// built-in rules are not duplicates…
	code, out, _ = run(t, "", "rules", "lint", "../../rules/builtin/rules")
	if code != 0 || !strings.Contains(out, "rule(s) OK") {
		t.Errorf("built-in pack dir: %d %s", code, out)
	}
	// …but a changed rule under a built-in ID is.
	dir := t.TempDir()
	data, err := os.ReadFile("../../rules/builtin/rules/AZ-SCOPE-SELECTION.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "title: ", "title: Changed ", 1)
	if err := os.WriteFile(filepath.Join(dir, "AZ-SCOPE-SELECTION.yaml"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "", "rules", "lint", dir)
	if code != 1 || !strings.Contains(out, "rule id AZ-SCOPE-SELECTION is already defined") {
		t.Errorf("changed copy of a built-in: %d %s", code, out)
	}
}

func TestRulesTestAndCustomPackInAnalyze(t *testing.T) {
	dir := t.TempDir()
	rule, _ := os.ReadFile("testdata/custom/ACME-NO-OFFLINE.yaml")
	os.WriteFile(filepath.Join(dir, "ACME-NO-OFFLINE.yaml"), rule, 0o644)
	s := hb.Scenario{Seed: 5, Revision: "2025-11-25", ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"},
		AuthScope: hb.Str("mcp:read offline_access"), DCRScope: hb.Str("mcp:read offline_access"), ASScopes: []string{"mcp:read", "offline_access"}, TokenScopeInResponse: true}
	h := hb.New("mitmproxy", "11.0.2", s.Start)
	f := s.Build(h)
	f.Authorize.Want("ACME-NO-OFFLINE")
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o755)
	har := filepath.Join(dir, "testdata", "fire.har")
	os.WriteFile(har, h.Marshal(), 0o644)

	code, out, errs := run(t, "", "rules", "test", dir)
	if code != 0 || !strings.Contains(out, "1 fixture(s), 0 failed") {
		t.Fatalf("rules test: %d\n%s%s", code, out, errs)
	}
	// The same capture through analyze --rules: the custom pack is active.
	code, out, _ = run(t, "", "analyze", "--format", "tsv", "--rules", dir, har)
	if code != 0 || !strings.Contains(out, "ACME-NO-OFFLINE") {
		t.Errorf("analyze --rules: %d\n%s", code, out)
	}
	// A wrong expectation fails the fixture.
	os.WriteFile(har, []byte(strings.Replace(string(h.Marshal()), "want: ACME-NO-OFFLINE", "want: AZ-STATE", 1)), 0o644)
	code, out, _ = run(t, "", "rules", "test", dir)
	if code != 1 || !strings.Contains(out, "unexpected ACME-NO-OFFLINE") || !strings.Contains(out, "want AZ-STATE(fail)") {
		t.Errorf("failing fixture: %d\n%s", code, out)
	}
}
