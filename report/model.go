// Package report turns an analysis and its findings into the documented
// output contract (Report) and prints it in one of several formats. Build
// applies redaction once, so printers never see a secret unless the user
// asked for them; printers only format, they never judge.
package report

import (
	"sort"
	"strings"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/rules"
)

// SchemaVersion is the version of the JSON output contract. It changes
// only when a field is removed or changes meaning.
const SchemaVersion = 1

// Report is the output contract: what every format prints.
type Report struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          Tool            `json:"tool"`
	Inputs        []Input         `json:"inputs"`
	Flows         []Flow          `json:"flows"`
	Findings      []rules.Finding `json:"findings"`
	Stats         Stats           `json:"stats"`
	// Rules lists every rule that was run (whether it fired or not), so
	// that consumers can tell a rule that passed from one that was not
	// run; SARIF's rule table and JUnit's test cases are built from it.
	Rules []RuleInfo `json:"rules"`
}

// RuleInfo describes one rule of the run.
type RuleInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Level is the normative level of the requirement (MUST, SHOULD, …).
	Level string `json:"level,omitempty"`
	// Severity is the rule's default severity; a finding may carry
	// another one when a severity case of the rule matched.
	Severity rules.Severity `json:"severity"`
	Party    rules.Party    `json:"party"`
	Packs    []string       `json:"packs"`
	// AppliesTo names the message kinds the rule is evaluated on, or
	// "flow".
	AppliesTo []string `json:"applies_to"`
	// Fix is the rule's generic fix: the rule's fix template with its
	// expressions elided ("…"); findings carry the rendered fix.
	Fix        string   `json:"fix"`
	References []string `json:"references"`
	Motivation string   `json:"motivation,omitempty"`
}

// Tool describes the run.
type Tool struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	MCPRevision string   `json:"mcp_revision"`
	Packs       []string `json:"packs"`
	FailOn      string   `json:"fail_on"`
	ShowSecrets bool     `json:"show_secrets"`
	Rules       int      `json:"rules"`
}

// Input describes one input file.
type Input struct {
	File      string   `json:"file"`
	Format    string   `json:"format"`
	Creator   string   `json:"creator,omitempty"`
	Entries   int      `json:"entries"`
	Exchanges int      `json:"exchanges"`
	Truncated bool     `json:"truncated"`
	Sanitized bool     `json:"sanitized"`
	Warnings  []string `json:"warnings"`
	// Undecrypted lists the TLS connections of a packet capture that
	// could not be decrypted (server name, time range, frames, reason):
	// flows near one of them do not conclude from what they lack.
	Undecrypted []capture.Undecrypted `json:"undecrypted,omitempty"`
}

// Flow summarises one reconstructed flow.
type Flow struct {
	ID         string               `json:"id"`
	Kind       string               `json:"kind"`
	ClientID   string               `json:"client_id,omitempty"`
	ClientType string               `json:"client_type"`
	Issuer     string               `json:"issuer,omitempty"`
	Resource   string               `json:"resource,omitempty"`
	MCP        analyze.MCPInfo      `json:"mcp"`
	Packs      []string             `json:"packs"`
	Complete   bool                 `json:"complete"`
	Steps      []Step               `json:"steps"`
	Missing    []analyze.MissingLeg `json:"missing"`
	Scopes     Scopes               `json:"scopes"`
}

// Step is one exchange of a flow.
type Step struct {
	Exchange int         `json:"exchange"`
	Kind     string      `json:"kind"`
	Method   string      `json:"method"`
	URL      string      `json:"url"`
	Status   int         `json:"status"`
	Time     string      `json:"time,omitempty"`
	Ref      capture.Ref `json:"ref"`
	Gaps     []string    `json:"gaps,omitempty"`
}

// Scopes is the flow's scope provenance.
type Scopes struct {
	// Hint is where an MCP 2025-11-25+ client takes its scopes from.
	Hint       ScopeList   `json:"hint"`
	Advertised []ScopeList `json:"advertised"`
	Registered *ScopeList  `json:"registered,omitempty"`
	Requested  []string    `json:"requested"`
	Granted    []string    `json:"granted"`
}

// ScopeList is one advertised scope list and where it came from.
type ScopeList struct {
	Source   string   `json:"source"`
	Document string   `json:"document,omitempty"`
	Field    string   `json:"field,omitempty"`
	Exchange int      `json:"exchange,omitempty"`
	Scopes   []string `json:"scopes"`
}

// Stats counts what was analysed and found.
type Stats struct {
	Exchanges      int            `json:"exchanges"`
	OAuthExchanges int            `json:"oauth_exchanges"`
	Flows          int            `json:"flows"`
	Findings       int            `json:"findings"`
	BySeverity     map[string]int `json:"by_severity"`
	ByOutcome      map[string]int `json:"by_outcome"`
	ByParty        map[string]int `json:"by_party"`
	DurationMS     int64          `json:"duration_ms"`
}

// Meta is what the caller knows about the run.
type Meta struct {
	Version     string
	MCPRevision string
	Packs       []string
	FailOn      string
	ShowSecrets bool
	Rules       int
	Inputs      []Input
	Duration    time.Duration
	RunOptions  rules.RunOptions
	// Catalog is the rules the engine ran; it becomes Report.Rules.
	Catalog []*rules.Rule
}

// Build assembles the report and redacts it: evidence marked secret is
// replaced by its redacted form and every known secret value is scrubbed
// from every string, unless meta.ShowSecrets.
func Build(res *analyze.Result, findings []rules.Finding, meta Meta) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool: Tool{Name: "oauthlint", Version: meta.Version, MCPRevision: meta.MCPRevision, Packs: nonNil(meta.Packs),
			FailOn: meta.FailOn, ShowSecrets: meta.ShowSecrets, Rules: meta.Rules},
		Inputs:   meta.Inputs,
		Flows:    []Flow{},
		Findings: append([]rules.Finding{}, findings...),
	}
	if r.Inputs == nil {
		r.Inputs = []Input{}
	}
	for i := range r.Inputs {
		if r.Inputs[i].Warnings == nil {
			r.Inputs[i].Warnings = []string{}
		}
	}
	for _, f := range res.Flows {
		r.Flows = append(r.Flows, summarize(f, rules.ActivePacks(f, meta.RunOptions)))
	}
	st := Stats{Exchanges: len(res.Exchanges), Flows: len(res.Flows), Findings: len(findings),
		BySeverity: map[string]int{}, ByOutcome: map[string]int{}, ByParty: map[string]int{}, DurationMS: meta.Duration.Milliseconds()}
	for _, m := range res.Messages {
		if m.Kind != analyze.KindOther {
			st.OAuthExchanges++
		}
	}
	for _, f := range findings {
		st.ByOutcome[string(f.Outcome)]++
		if f.Outcome == rules.Fail {
			st.BySeverity[string(f.Severity)]++
			st.ByParty[string(f.Party)]++
		}
	}
	r.Stats = st
	r.Rules = catalog(meta.Catalog)
	for i := range r.Findings {
		if r.Findings[i].Flows == nil {
			r.Findings[i].Flows = []string{}
		}
		if r.Findings[i].Evidence == nil {
			r.Findings[i].Evidence = []rules.Evidence{}
		}
		if r.Findings[i].References == nil {
			r.Findings[i].References = []string{}
		}
	}
	if !meta.ShowSecrets {
		redact(r, res.Secrets)
	}
	return r
}

// catalog describes the rules of the run, sorted by id. Rule texts are
// static (no traffic in them), so they need no redaction.
func catalog(rs []*rules.Rule) []RuleInfo {
	out := make([]RuleInfo, 0, len(rs))
	for _, r := range rs {
		if r == nil {
			continue
		}
		out = append(out, RuleInfo{ID: r.ID, Title: r.Title, Level: r.Level, Severity: r.Severity, Party: r.Party,
			Packs: nonNil(r.Packs), AppliesTo: nonNil(r.AppliesTo), Fix: elideTemplate(r.Fix),
			References: nonNil(r.References), Motivation: strings.TrimSpace(r.Motivation)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// elideTemplate replaces the {{ expression }} parts of a message or fix
// template by "…": what is left reads as the generic text of the rule.
func elideTemplate(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteString("…")
		s = s[i+j+2:]
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func summarize(f *analyze.Flow, packs []string) Flow {
	out := Flow{
		ID: f.ID, Kind: f.Kind, ClientID: f.ClientID, ClientType: f.ClientType, Issuer: f.Issuer,
		Resource: f.Resource, MCP: f.MCP, Packs: nonNil(packs), Complete: f.Complete,
		Steps: []Step{}, Missing: f.MissingLegs(),
	}
	if out.Missing == nil {
		out.Missing = []analyze.MissingLeg{}
	}
	for _, s := range f.Steps() {
		st := Step{Exchange: s.ID, Kind: string(s.Kind), Method: s.Ex.Request.Method, URL: s.Ex.Request.URL.String(), Ref: s.Ex.Ref}
		if s.Ex.Response != nil {
			st.Status = s.Ex.Response.Status
		}
		if !s.Ex.Start.IsZero() {
			st.Time = s.Ex.Start.UTC().Format(time.RFC3339Nano)
		}
		for _, g := range s.Ex.Gaps {
			st.Gaps = append(st.Gaps, string(g.Kind))
		}
		out.Steps = append(out.Steps, st)
	}
	out.Scopes = Scopes{Hint: scopeList(f.ScopeHint), Advertised: []ScopeList{},
		Requested: nonNil(f.RequestedScopes), Granted: nonNil(f.GrantedScopes)}
	for _, a := range f.Advertised {
		out.Scopes.Advertised = append(out.Scopes.Advertised, scopeList(a))
	}
	if f.RegisteredScopes.Present {
		l := scopeList(f.RegisteredScopes)
		out.Scopes.Registered = &l
	}
	return out
}

func scopeList(s analyze.ScopeSource) ScopeList {
	return ScopeList{Source: s.Source, Document: s.Document, Field: s.Field, Exchange: s.HTTP.ID, Scopes: nonNil(s.Scopes)}
}

// redact replaces secret evidence and scrubs every string of the report.
func redact(r *Report, secrets *capture.SecretSet) {
	s := secrets.Scrub
	for i := range r.Inputs {
		for j := range r.Inputs[i].Warnings {
			r.Inputs[i].Warnings[j] = s(r.Inputs[i].Warnings[j])
		}
		if u := r.Inputs[i].Undecrypted; len(u) > 0 {
			u = append([]capture.Undecrypted(nil), u...)
			for j := range u {
				u[j].Reason = s(u[j].Reason)
			}
			r.Inputs[i].Undecrypted = u
		}
	}
	for i := range r.Flows {
		f := &r.Flows[i]
		f.ClientID = s(f.ClientID)
		for j := range f.Steps {
			f.Steps[j].URL = s(f.Steps[j].URL)
		}
		for j := range f.Missing {
			f.Missing[j].Reason = s(f.Missing[j].Reason)
		}
		f.MCP.Source = s(f.MCP.Source)
	}
	for i := range r.Findings {
		fd := &r.Findings[i]
		fd.Message = s(fd.Message)
		fd.Fix = s(fd.Fix)
		ev := make([]rules.Evidence, len(fd.Evidence))
		copy(ev, fd.Evidence)
		for j := range ev {
			if ev[j].Secret && ev[j].Value != "(absent)" {
				ev[j].Value = capture.Redact(ev[j].Value)
			} else {
				ev[j].Value = s(ev[j].Value)
			}
		}
		fd.Evidence = ev
	}
}

// Failing returns the fail findings at or above the severity.
func (r *Report) Failing(min rules.Severity) []rules.Finding {
	var out []rules.Finding
	for _, f := range r.Findings {
		if f.Outcome == rules.Fail && f.Severity.Rank() >= min.Rank() {
			out = append(out, f)
		}
	}
	return out
}

// SortedSeverities lists severity counts most severe first.
func (s Stats) SortedSeverities() []string {
	keys := make([]string, 0, len(s.BySeverity))
	for k := range s.BySeverity {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rules.Severity(keys[i]).Rank() > rules.Severity(keys[j]).Rank() })
	return keys
}
