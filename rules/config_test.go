package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfig(t *testing.T) {
	r1, _ := Parse("a.yaml", []byte(validRule("AAA-ONE")))
	r2, _ := Parse("b.yaml", []byte(validRule("BBB-TWO")))
	c, err := LoadConfig(writeFile(t, "c.yaml", "rules:\n  AAA-ONE: {enabled: false}\n  BBB-TWO: {severity: critical}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Apply([]*Rule{r1, r2})
	if err != nil || len(rs) != 1 || rs[0].ID != "BBB-TWO" {
		t.Fatalf("Apply = %v, %v", rs, err)
	}
	fs := c.Override([]Finding{{Rule: "BBB-TWO", Severity: Low, Outcome: Fail}})
	if fs[0].Severity != Critical {
		t.Errorf("severity = %s", fs[0].Severity)
	}
	// Unknown ids are errors, not silently ignored.
	c, _ = LoadConfig(writeFile(t, "c.yaml", "rules:\n  NOPE-RULE: {enabled: false}\n"))
	if _, err := c.Apply([]*Rule{r1}); err == nil || !strings.Contains(err.Error(), "NOPE-RULE") {
		t.Errorf("unknown id: %v", err)
	}
	// Bad values and unknown keys with their line.
	_, err = LoadConfig(writeFile(t, "c.yaml", "rules:\n  AAA-ONE: {severity: huge}\n  BBB-TWO: {enabeld: false}\nextra: 1\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{":2:", `severity "huge"`, ":3:", "unknown field rules.BBB-TWO.enabeld", ":4:1: unknown field extra"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("config error lacks %q:\n%v", want, err)
		}
	}
}

func TestBaselineNeedsReasons(t *testing.T) {
	_, err := LoadBaseline(writeFile(t, "b.yaml", "suppressions:\n  - rule: TR-NO-STORE\n    url: https://auth.example.com/*\n  - rule: AZ-STATE\n    reason: \"\"\n"))
	if err == nil {
		t.Fatal("suppressions without a reason were accepted")
	}
	if n := strings.Count(err.Error(), "has no reason"); n != 2 {
		t.Errorf("%d reason errors, want 2:\n%v", n, err)
	}
	if !strings.Contains(err.Error(), "b.yaml:2:") || !strings.Contains(err.Error(), "b.yaml:4:") {
		t.Errorf("no line numbers:\n%v", err)
	}
}

func TestBaselineApply(t *testing.T) {
	rs := mustBuiltinLike(t)
	e, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25", TokenNoStore: true, NoState: true})
	fs := e.Run(res, RunOptions{})
	if len(fs) != 2 {
		t.Fatalf("findings = %d", len(fs))
	}
	for _, f := range fs {
		if f.Fingerprint == "" || f.Endpoint == "" {
			t.Errorf("%s: no fingerprint/endpoint", f.Rule)
		}
	}
	b, err := LoadBaseline(writeFile(t, "b.yaml", `suppressions:
  - rule: TEST-NOSTORE
    url: https://auth.example.com/*
    reason: "mock AS of our integration tests; tracked in OPS-12"
`))
	if err != nil {
		t.Fatal(err)
	}
	kept, supp := b.Apply(fs)
	if len(kept) != 1 || kept[0].Rule != "TEST-STATE" || len(supp) != 1 || supp[0].Reason == "" || !strings.HasSuffix(supp[0].By, "b.yaml:2") {
		t.Fatalf("kept %v suppressed %v", kept, supp)
	}
	// A fingerprint pins one finding; the same defect in another capture
	// has the same fingerprint.
	res2 := analyzeScenario(t, hb.Scenario{Seed: 99, Revision: "2025-11-25", TokenNoStore: true, NoState: true})
	fs2 := e.Run(res2, RunOptions{})
	for i := range fs {
		if fs[i].Fingerprint != fs2[i].Fingerprint {
			t.Errorf("%s: fingerprint changed across captures: %s vs %s", fs[i].Rule, fs[i].Fingerprint, fs2[i].Fingerprint)
		}
	}
}

// mustBuiltinLike returns two small rules (the builtin package cannot be
// imported here: it imports this one).
func mustBuiltinLike(t *testing.T) []*Rule {
	t.Helper()
	a, is := Parse("nostore.yaml", []byte(`id: TEST-NOSTORE
engine: 1
title: no-store
severity: high
party: as
packs: [oauth2]
applies-to: [token]
when: token.response.ok
condition: "!token.response.no_store"
message: m
fix: f
references: [x]
`))
	if len(is) > 0 {
		t.Fatal(is)
	}
	b, is := Parse("state.yaml", []byte(`id: TEST-STATE
engine: 1
title: state
severity: medium
party: client
packs: [oauth2]
applies-to: [authorize]
condition: "!authorize.has_state"
message: m
fix: f
references: [x]
`))
	if len(is) > 0 {
		t.Fatal(is)
	}
	return []*Rule{a, b}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"https://a/*", "https://a/oauth2/token", true},
		{"https://a/*", "https://b/x", false},
		{"*/token", "https://a/oauth2/token", true},
		{"https://a/*/token", "https://a/x/y/token", true},
		{"https://a/token", "https://a/token", true},
		{"https://a/token", "https://a/token2", false},
		{"*", "", true},
	} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
