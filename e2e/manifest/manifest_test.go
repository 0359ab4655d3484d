package manifest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const sample = `
description: test
flows: 1
expect:
  - {rule: AZ-SCOPE-MISSING, outcome: fail, party: client, severity: low}
  - {rule: TQ-VERIFIER-MATCH, outcome: not-available, party: client, inputs: [har]}
  - rule: DCRS-EMPTY-URL
    outcome: fail
    party: as
    known_failure: not reported when the client stops
false_positives:
  - {rule: SEQ-ASM-ORDER, party: client, reason: the capture has a gap, inputs: [pcap]}
`

func report(findings ...Finding) *Report {
	return &Report{SchemaVersion: 1, Flows: []Flow{{ID: "F1"}}, Findings: findings}
}

func TestLoadDefaultsNameAndOutcome(t *testing.T) {
	m, err := Load(write(t, "founding.yaml", sample))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "founding" {
		t.Errorf("name %q, want the file name", m.Name)
	}
	if m.FalsePositives[0].Outcome != "fail" {
		t.Errorf("false positive outcome %q, want fail by default", m.FalsePositives[0].Outcome)
	}
}

func TestLoadRejectsBadManifests(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field":   "expect: []\nflow: 1\n",
		"bad outcome":     "expect: [{rule: X, outcome: failed, party: client}]\n",
		"bad party":       "expect: [{rule: X, outcome: fail, party: server}]\n",
		"bad severity":    "expect: [{rule: X, outcome: fail, party: as, severity: urgent}]\n",
		"bad input":       "expect: [{rule: X, outcome: fail, party: as, inputs: [browser]}]\n",
		"no reason":       "false_positives: [{rule: X}]\n",
		"bad knob":        "setup: {as: hydra, client: sdk, knobs: [scope=none]}\n",
		"knob mcp-remote": "setup: {as: hydra, client: mcp-remote, knobs: [state=omit]}\n",
		"bad as":          "setup: {as: keycloak, client: sdk}\n",
	} {
		if _, err := Load(write(t, "m.yaml", body)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestCheck(t *testing.T) {
	m, err := Load(write(t, "m.yaml", sample))
	if err != nil {
		t.Fatal(err)
	}
	scope := Finding{Rule: "AZ-SCOPE-MISSING", Outcome: "fail", Party: "client", Severity: "low", Flow: "F1"}
	na := Finding{Rule: "TQ-VERIFIER-MATCH", Outcome: "not-available", Party: "client", Severity: "high"}
	seq := Finding{Rule: "SEQ-ASM-ORDER", Outcome: "fail", Party: "client", Severity: "high"}

	if p := m.Check(report(scope), InputLive); len(p) != 0 {
		t.Errorf("live: %v, want no problem", p)
	}
	if p := m.Check(report(scope, na), InputHAR); len(p) != 0 {
		t.Errorf("har: %v, want no problem", p)
	}
	if p := m.Check(report(scope, seq), InputPcap); len(p) != 0 {
		t.Errorf("pcap with the known false positive: %v, want no problem", p)
	}

	cases := []struct {
		name string
		r    *Report
		kind string
		want string
	}{
		{"missing expected", report(), InputLive, "expected finding missing: AZ-SCOPE-MISSING fail (client, low)"},
		{"wrong severity", report(Finding{Rule: "AZ-SCOPE-MISSING", Outcome: "fail", Party: "client", Severity: "medium"}), InputLive, "expected finding missing"},
		{"input-limited expectation", report(scope), InputHAR, "expected finding missing: TQ-VERIFIER-MATCH not-available"},
		{"unexpected fail", report(scope, seq), InputLive, "unexpected finding: SEQ-ASM-ORDER fail"},
		{"known failure fixed", report(scope, Finding{Rule: "DCRS-EMPTY-URL", Outcome: "fail", Party: "as", Severity: "low"}), InputLive, "known failure no longer happens: DCRS-EMPTY-URL"},
		{"false positive gone", report(scope), InputPcap, "known false positive SEQ-ASM-ORDER fail no longer reported"},
		{"flow count", &Report{SchemaVersion: 1, Findings: []Finding{scope}}, InputLive, "0 flow(s) reconstructed, the manifest expects 1"},
		{"connection without keys", func() *Report {
			r := report(scope, seq)
			r.Inputs = []Input{{File: "capture.pcap", Undecrypted: []Undecrypted{{Server: "127.0.0.1:4444", ServerName: "127.0.0.1", Kind: "no-keys", Reason: "no key log entry"}}}}
			return r
		}(), InputPcap, "TLS connection to 127.0.0.1:4444 (127.0.0.1) could not be read (no-keys)"},
	}
	for _, c := range cases {
		p := m.Check(c.r, c.kind)
		if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, c.want) }) {
			t.Errorf("%s: problems %q, want one containing %q", c.name, p, c.want)
		}
	}
	// A not-available finding nobody listed is not a problem.
	if p := m.Check(report(scope, Finding{Rule: "CB-CODE", Outcome: "not-available", Party: "as"}), InputLive); len(p) != 0 {
		t.Errorf("unlisted not-available: %v, want no problem", p)
	}
}

func TestSignature(t *testing.T) {
	r := report(
		Finding{Rule: "B", Outcome: "fail", Party: "rs", Severity: "low", Flow: "F1"},
		Finding{Rule: "A", Outcome: "fail", Party: "client", Severity: "high", Flow: "F2"},
		Finding{Rule: "B", Outcome: "fail", Party: "rs", Severity: "low", Flow: "F2"},
		Finding{Rule: "C", Outcome: "not-available", Party: "as", Severity: "high"},
	)
	got := (&Manifest{}).Signature(r)
	want := []string{"A/client/high", "B/rs/low"}
	if !slices.Equal(got, want) {
		t.Errorf("Signature = %v, want %v", got, want)
	}
	// A rule expected only for some inputs differs between inputs by
	// design: it is not compared.
	m := &Manifest{Expect: []Expectation{{Rule: "A", Outcome: "fail", Party: "client", Inputs: []string{InputHAR}}}}
	if got, want := m.Signature(r), []string{"B/rs/low"}; !slices.Equal(got, want) {
		t.Errorf("Signature with A limited to har = %v, want %v", got, want)
	}
}

func TestParseReport(t *testing.T) {
	if _, err := ParseReport([]byte(`{"schema_version": 2}`)); err == nil {
		t.Error("schema_version 2 accepted")
	}
	if _, err := ParseReport([]byte(`not json`)); err == nil {
		t.Error("garbage accepted")
	}
	r, err := ParseReport([]byte(`{"schema_version":1,"flows":[{"id":"F1","kind":"authorization_code"}],"findings":[{"rule":"X","outcome":"fail","party":"as","severity":"low","flow":"F1","exchange":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Exchange != 3 {
		t.Errorf("parsed %+v", r)
	}
}

// The committed scenario manifests must all load.
func TestScenarioManifestsLoad(t *testing.T) {
	ms, err := LoadDir(filepath.Join("..", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no manifests in e2e/scenarios")
	}
	for _, m := range ms {
		if m.Setup == nil {
			t.Errorf("%s: no setup", m.File)
		}
	}
}
