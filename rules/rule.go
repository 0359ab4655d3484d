package rules

// Rule is one check, as written in a rule file. This struct is the single
// source of the rule file format: the loader, the JSON Schema and the
// reference documentation are all derived from it.
type Rule struct {
	// ID is the catalog ID (e.g. AZ-SCOPE-SELECTION); it never changes
	// meaning once released.
	ID string `yaml:"id" json:"id"`
	// Engine is the rule format version; this build understands 1.
	Engine int `yaml:"engine" json:"engine"`
	// Title says in one line what is wrong when the rule fires.
	Title string `yaml:"title" json:"title"`
	// Level is the normative level of the requirement (MUST, SHOULD, …).
	Level string `yaml:"level,omitempty" json:"level,omitempty"`
	// Severity of a violation; SeverityCases may lower or raise it.
	Severity      Severity       `yaml:"severity" json:"severity"`
	SeverityCases []SeverityCase `yaml:"severity-cases,omitempty" json:"severity-cases,omitempty"`
	// Party at fault: client, as or rs.
	Party Party `yaml:"party" json:"party"`
	// Packs the rule belongs to.
	Packs []string `yaml:"packs" json:"packs"`
	// AppliesTo names the message kinds the rule is evaluated on, once per
	// message (prm, challenge, as_metadata, registration, authorize,
	// callback, token, refresh, resource, …), or "flow" for once per flow.
	AppliesTo []string `yaml:"applies-to" json:"applies-to"`
	// Requires lists further message kinds the rule reads: when one of
	// them is known to have happened but was not captured, the outcome is
	// not-available; when it never happened the rule does not apply. It
	// may also name exchange parts the violation depends on: "response",
	// "response-body", "request-body", "credentials".
	Requires []string `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Supersedes lists rules this one refines: when both fail on the same
	// exchange of the same flow, only this rule's finding is reported (one
	// finding per defect, the most specific one). A listed rule that is not
	// loaded is ignored.
	Supersedes []string `yaml:"supersedes,omitempty" json:"supersedes,omitempty"`
	// When is a CEL precondition (default true): false means the rule
	// does not apply.
	When string `yaml:"when,omitempty" json:"when,omitempty"`
	// Condition is a CEL expression that is true when the requirement is
	// violated.
	Condition string `yaml:"condition" json:"condition"`
	// Message and Fix are templates: {{ expr }} is replaced by the value
	// of the CEL expression.
	Message string `yaml:"message" json:"message"`
	Fix     string `yaml:"fix" json:"fix"`
	// Evidence lists the exact fields that show the violation.
	Evidence []EvidenceSpec `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// References are spec sections ("RFC 6749 §3.3").
	References []string `yaml:"references" json:"references"`
	// Monotone says the violation rests only on messages the capture
	// holds: more messages could add to it, never retract it (a code
	// redeemed twice stays redeemed twice). Near traffic the capture could
	// not read, such a finding stands, where otherwise it would be
	// not-available because the flow's lists of messages (flow.tokens,
	// flows, …) may be incomplete. A leg the flow lacks altogether stays
	// unknown either way.
	Monotone bool `yaml:"monotone,omitempty" json:"monotone,omitempty"`
	// Motivation says why the requirement matters, with public examples.
	Motivation string `yaml:"motivation,omitempty" json:"motivation,omitempty"`
	// Example shows, on the wire, a message that violates the rule.
	Example string `yaml:"example,omitempty" json:"example,omitempty"`

	file string
	pos  map[string]position
}

// SeverityCase overrides the severity when its condition holds; the first
// matching case wins.
type SeverityCase struct {
	When     string   `yaml:"when" json:"when"`
	Severity Severity `yaml:"severity" json:"severity"`
}

// EvidenceSpec names one field that shows the violation.
type EvidenceSpec struct {
	// At is a CEL expression yielding the message (or scope source) the
	// field belongs to, e.g. "authorize" or "flow.scope_hint"; its
	// exchange becomes the evidence's location.
	At string `yaml:"at" json:"at"`
	// Field names the field for people ("query parameter scope").
	Field string `yaml:"field" json:"field"`
	// Value is a CEL expression giving the field's value.
	Value string `yaml:"value" json:"value"`
	// Secret marks values that are credentials: redacted in every output
	// unless --show-secrets.
	Secret bool `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// File returns the file the rule was loaded from.
func (r *Rule) File() string { return r.file }

type position struct{ line, col int }
