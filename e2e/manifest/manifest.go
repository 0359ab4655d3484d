// Package manifest reads the e2e scenario manifests and checks oauthlint's
// JSON reports against them.
//
// A manifest says what a capture of one scenario must produce: the findings
// expected (rule, outcome, party, optionally severity and the kinds of input
// they apply to), the findings oauthlint is known to get wrong today (each with
// the reason), and optionally how the harness builds the scenario (setup).
// The expectations do not depend on the harness: the same manifest checks a
// capture made anywhere of the same stack (see docs/e2e.md).
//
// The check is strict both ways: an expected finding that is missing is an
// error, a `fail` finding nobody expected is an error, a known failure that no
// longer happens is an error (so the manifest is corrected when oauthlint is),
// and so is a known false positive that is gone.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Input kinds a capture can come in; an expectation may be limited to some.
const (
	InputLive = "live" // the JSON report of `oauthlint capture`
	InputHAR  = "har"  // the HAR `oauthlint capture --har` wrote (redacted)
	InputPcap = "pcap" // a tcpdump capture of the same scenario
)

var inputKinds = []string{InputLive, InputHAR, InputPcap}

// Manifest is one scenario file.
type Manifest struct {
	// Name identifies the scenario; it defaults to the file name.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Setup tells the harness how to build the scenario; external captures
	// ignore it.
	Setup *Setup `yaml:"setup"`
	// Analyze holds extra flags for `oauthlint analyze`/`capture` (for
	// example --mcp-revision), used for every input.
	Analyze []string `yaml:"analyze"`
	// Flows, when set, is the number of flows every input must reconstruct.
	Flows int `yaml:"flows"`
	// Expect lists the findings the capture must produce.
	Expect []Expectation `yaml:"expect"`
	// FalsePositives lists findings oauthlint reports today that are wrong.
	FalsePositives []FalsePositive `yaml:"false_positives"`

	// File is where the manifest was read from.
	File string `yaml:"-"`
}

// Setup describes the stack the harness starts for a scenario.
type Setup struct {
	// AS is the authorization server: hydra or oidc-provider.
	AS string `yaml:"as"`
	// ASScopes is the AS's scopes_supported (Hydra adds openid and offline
	// by itself).
	ASScopes []string `yaml:"as_scopes"`
	// PRMScopes is the protected resource metadata's scopes_supported;
	// empty: the member is omitted.
	PRMScopes []string `yaml:"prm_scopes"`
	// ChallengeScope is the scope the 401 challenge names (and the MCP
	// server requires); empty: no scope parameter.
	ChallengeScope []string `yaml:"challenge_scope"`
	// Client is sdk (the MCP SDK client with our provider), mcp-remote or
	// claude-code (Claude Code's claude mcp add/login/list; run only when
	// OAUTHLINT_E2E_CLAUDE names the binary).
	Client string `yaml:"client"`
	// Knobs reproduce client bugs (sdk client only): scope=omit,
	// scope=outside, pkce=none, pkce=plain, state=omit, resource=omit,
	// redirect=mismatch.
	Knobs []string `yaml:"knobs"`
	// ClientURI makes the SDK client send client_uri and contacts in its
	// registration (Hydra echoes absent ones as "" and null, which the SDK
	// rejects).
	ClientURI bool `yaml:"client_uri"`
	// MetadataScope is the SDK client's configured fallback scope.
	MetadataScope string `yaml:"metadata_scope"`
	// MCPRemoteArgs are extra mcp-remote flags.
	MCPRemoteArgs []string `yaml:"mcp_remote_args"`
	// ClientExit is the exit status the client must end with: 0 when the
	// MCP session must work, 1 when the flow must fail.
	ClientExit int `yaml:"client_exit"`
}

// Expectation is one finding the capture must contain.
type Expectation struct {
	Rule     string `yaml:"rule"`
	Outcome  string `yaml:"outcome"`
	Party    string `yaml:"party"`
	Severity string `yaml:"severity"`
	// Inputs limits the expectation to some input kinds (default: all).
	Inputs []string `yaml:"inputs"`
	// KnownFailure, when set, says why oauthlint does not produce this
	// (correct) finding today: the check then requires it to be absent, so
	// the manifest is updated when oauthlint is fixed.
	KnownFailure string `yaml:"known_failure"`
	// Why explains the expectation for a reader.
	Why string `yaml:"why"`
}

// FalsePositive is a finding oauthlint reports although it is wrong; the
// check requires it to be present until oauthlint is fixed.
type FalsePositive struct {
	Rule     string   `yaml:"rule"`
	Outcome  string   `yaml:"outcome"`
	Party    string   `yaml:"party"`
	Severity string   `yaml:"severity"`
	Inputs   []string `yaml:"inputs"`
	Reason   string   `yaml:"reason"`
}

// Load reads and validates one manifest.
func Load(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.File = path
	if m.Name == "" {
		m.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// LoadDir reads every *.yaml manifest of a directory, sorted by name.
func LoadDir(dir string) ([]*Manifest, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Manifest
	var errs []string
	for _, f := range files {
		m, err := Load(f)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, m)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid manifests:\n  %s", strings.Join(errs, "\n  "))
	}
	return out, nil
}

var (
	outcomes   = []string{"fail", "not-available", "error"}
	parties    = []string{"client", "as", "rs"}
	severities = []string{"critical", "high", "medium", "low", "info"}
	knobs      = []string{"scope=omit", "scope=outside", "pkce=none", "pkce=plain", "state=omit", "resource=omit", "redirect=mismatch"}
)

func (m *Manifest) validate() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	checkInputs := func(where string, in []string) {
		for _, k := range in {
			if !slices.Contains(inputKinds, k) {
				add("%s: unknown input kind %q (want %s)", where, k, strings.Join(inputKinds, ", "))
			}
		}
	}
	for i, e := range m.Expect {
		where := fmt.Sprintf("expect[%d] (%s)", i, e.Rule)
		if e.Rule == "" {
			add("%s: rule is required", where)
		}
		if !slices.Contains(outcomes, e.Outcome) {
			add("%s: outcome %q must be one of %s", where, e.Outcome, strings.Join(outcomes, ", "))
		}
		if !slices.Contains(parties, e.Party) {
			add("%s: party %q must be one of %s", where, e.Party, strings.Join(parties, ", "))
		}
		if e.Severity != "" && !slices.Contains(severities, e.Severity) {
			add("%s: severity %q must be one of %s", where, e.Severity, strings.Join(severities, ", "))
		}
		checkInputs(where, e.Inputs)
	}
	for i, f := range m.FalsePositives {
		where := fmt.Sprintf("false_positives[%d] (%s)", i, f.Rule)
		if f.Rule == "" {
			add("%s: rule is required", where)
		}
		if f.Outcome == "" {
			m.FalsePositives[i].Outcome = "fail"
		} else if !slices.Contains(outcomes, f.Outcome) {
			add("%s: outcome %q must be one of %s", where, f.Outcome, strings.Join(outcomes, ", "))
		}
		if f.Party != "" && !slices.Contains(parties, f.Party) {
			add("%s: party %q must be one of %s", where, f.Party, strings.Join(parties, ", "))
		}
		if f.Reason == "" {
			add("%s: a reason is required (what oauthlint gets wrong)", where)
		}
		checkInputs(where, f.Inputs)
	}
	if s := m.Setup; s != nil {
		if s.AS != "hydra" && s.AS != "oidc-provider" {
			add("setup.as %q must be hydra or oidc-provider", s.AS)
		}
		if s.Client != "sdk" && s.Client != "mcp-remote" && s.Client != "claude-code" {
			add("setup.client %q must be sdk, mcp-remote or claude-code", s.Client)
		}
		for _, k := range s.Knobs {
			if !slices.Contains(knobs, k) {
				add("setup.knobs: unknown knob %q (want %s)", k, strings.Join(knobs, ", "))
			}
		}
		if len(s.Knobs) > 0 && s.Client != "sdk" {
			add("setup.knobs apply to the sdk client only")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Report is the part of oauthlint's JSON output (schema_version 1) the
// check reads.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Inputs        []Input   `json:"inputs"`
	Flows         []Flow    `json:"flows"`
	Findings      []Finding `json:"findings"`
}

// Input is one input of the report; only what the check needs.
type Input struct {
	File        string        `json:"file"`
	Undecrypted []Undecrypted `json:"undecrypted"`
}

// Undecrypted is a TLS connection of a packet capture oauthlint could not
// read.
type Undecrypted struct {
	Server     string `json:"server"`
	ServerName string `json:"server_name"`
	Kind       string `json:"kind"`
	Reason     string `json:"reason"`
}

// Flow is a reconstructed flow of the report.
type Flow struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// Finding is one finding of the report.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Outcome  string `json:"outcome"`
	Party    string `json:"party"`
	Message  string `json:"message"`
	Flow     string `json:"flow"`
	Exchange int    `json:"exchange"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s (%s, %s) flow %s exchange #%d: %s", f.Rule, f.Outcome, f.Party, f.Severity, f.Flow, f.Exchange, f.Message)
}

// ParseReport decodes a JSON report.
func ParseReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not an oauthlint JSON report: %w", err)
	}
	if r.SchemaVersion != 1 {
		return nil, fmt.Errorf("report schema_version %d; this check reads version 1", r.SchemaVersion)
	}
	return &r, nil
}

func appliesTo(inputs []string, kind string) bool {
	return len(inputs) == 0 || slices.Contains(inputs, kind)
}

func (e Expectation) matches(f Finding) bool {
	return f.Rule == e.Rule && f.Outcome == e.Outcome && f.Party == e.Party && (e.Severity == "" || f.Severity == e.Severity)
}

func (p FalsePositive) matches(f Finding) bool {
	return f.Rule == p.Rule && f.Outcome == p.Outcome && (p.Party == "" || f.Party == p.Party) && (p.Severity == "" || f.Severity == p.Severity)
}

func (e Expectation) String() string {
	s := fmt.Sprintf("%s %s (%s", e.Rule, e.Outcome, e.Party)
	if e.Severity != "" {
		s += ", " + e.Severity
	}
	return s + ")"
}

// Check compares one report of the given input kind with the manifest and
// returns every mismatch, each a sentence saying what to look at.
func (m *Manifest) Check(r *Report, kind string) []string {
	var problems []string
	// The client of a scenario starts after the capture and writes its
	// keys: a connection that could not be read means the capture, not
	// the scenario, went wrong (a key the client had not written when it
	// exited), and every other mismatch below would only be its
	// consequence.
	for _, in := range r.Inputs {
		for _, u := range in.Undecrypted {
			problems = append(problems, fmt.Sprintf("TLS connection to %s (%s) could not be read (%s): %s", u.Server, u.ServerName, u.Kind, u.Reason))
		}
	}
	if m.Flows > 0 && len(r.Flows) != m.Flows {
		problems = append(problems, fmt.Sprintf("%d flow(s) reconstructed, the manifest expects %d", len(r.Flows), m.Flows))
	}
	explained := make([]bool, len(r.Findings))
	for _, e := range m.Expect {
		if !appliesTo(e.Inputs, kind) {
			continue
		}
		found := false
		for i, f := range r.Findings {
			if e.matches(f) {
				found = true
				explained[i] = true
			}
		}
		switch {
		case e.KnownFailure == "" && !found:
			problems = append(problems, fmt.Sprintf("expected finding missing: %s", e))
		case e.KnownFailure != "" && found:
			problems = append(problems, fmt.Sprintf("known failure no longer happens: %s is reported now; remove its known_failure (%s)", e, e.KnownFailure))
		}
	}
	for _, p := range m.FalsePositives {
		if !appliesTo(p.Inputs, kind) {
			continue
		}
		found := false
		for i, f := range r.Findings {
			if p.matches(f) {
				found = true
				explained[i] = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("known false positive %s %s no longer reported; remove it from false_positives (%s)", p.Rule, p.Outcome, p.Reason))
		}
	}
	for i, f := range r.Findings {
		if f.Outcome == "fail" && !explained[i] {
			problems = append(problems, fmt.Sprintf("unexpected finding: %s", f))
		}
	}
	return problems
}

// Signature is the comparable part of a report: its fail findings as
// "RULE/party/severity", sorted and without repeats. Two inputs of the same
// scenario must have the same signature. Rules the manifest expects (or
// lists as false positives) only for some input kinds are left out: they
// differ between inputs by design (a pcap does not record how the client's
// run ended, a HAR written by capture does).
func (m *Manifest) Signature(r *Report) []string {
	inputSpecific := map[string]bool{}
	for _, e := range m.Expect {
		if len(e.Inputs) > 0 {
			inputSpecific[e.Rule] = true
		}
	}
	for _, f := range m.FalsePositives {
		if len(f.Inputs) > 0 {
			inputSpecific[f.Rule] = true
		}
	}
	var out []string
	for _, f := range r.Findings {
		if f.Outcome != "fail" || inputSpecific[f.Rule] {
			continue
		}
		s := f.Rule + "/" + f.Party + "/" + f.Severity
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
