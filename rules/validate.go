package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/oauthlint/oauthlint/analyze"
)

// EngineVersion is the rule format version this build understands.
const EngineVersion = 1

var idRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`)

// KindFlow is the applies-to value for once-per-flow rules.
const KindFlow = "flow"

// ValidKinds lists the applies-to values.
func ValidKinds() []string {
	out := []string{KindFlow}
	for _, k := range analyze.MessageKinds {
		out = append(out, string(k))
	}
	return out
}

// RequirableParts are the exchange parts a rule may require.
var RequirableParts = []string{"response", "response-body", "request-body", "credentials"}

func isKind(s string) bool {
	for _, k := range ValidKinds() {
		if k == s {
			return true
		}
	}
	return false
}

func isPart(s string) bool {
	for _, p := range RequirableParts {
		if p == s {
			return true
		}
	}
	return false
}

func (r *Rule) issue(field, format string, args ...any) Issue {
	p := r.pos[field]
	if p.line == 0 {
		p = position{line: 1, col: 1}
	}
	return Issue{File: r.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

// validate checks everything about a rule except its expressions.
func (r *Rule) validate() []Issue {
	var is []Issue
	req := func(field, val string) {
		if strings.TrimSpace(val) == "" {
			is = append(is, r.issue(field, "%s is required", field))
		}
	}
	req("id", r.ID)
	if r.ID != "" && !idRe.MatchString(r.ID) {
		is = append(is, r.issue("id", "id %q must look like PREFIX-NAME in capitals (e.g. AZ-SCOPE-SELECTION)", r.ID))
	}
	if r.Engine != EngineVersion {
		if _, ok := r.pos["engine"]; !ok {
			is = append(is, r.issue("id", "engine: %d is required (the rule format version)", EngineVersion))
		} else {
			is = append(is, r.issue("engine", "engine %d is not supported by this oauthlint (it understands engine %d); upgrade oauthlint or port the rule", r.Engine, EngineVersion))
		}
	}
	req("title", r.Title)
	if !r.Severity.Valid() {
		is = append(is, r.issue("severity", "severity %q is not one of critical, high, medium, low, info", r.Severity))
	}
	for i, c := range r.SeverityCases {
		if !c.Severity.Valid() {
			is = append(is, r.issue(fmt.Sprintf("severity-cases[%d].severity", i), "severity %q is not one of critical, high, medium, low, info", c.Severity))
		}
		if strings.TrimSpace(c.When) == "" {
			is = append(is, r.issue(fmt.Sprintf("severity-cases[%d].when", i), "severity-cases[%d].when is required", i))
		}
	}
	if !r.Party.Valid() {
		is = append(is, r.issue("party", "party %q is not one of client, as, rs", r.Party))
	}
	if len(r.Packs) == 0 {
		is = append(is, r.issue("packs", "packs is required (e.g. [oauth2] or [mcp-2025-11-25, mcp-2026-07-28])"))
	}
	for _, p := range r.Packs {
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`).MatchString(p) {
			is = append(is, r.issue("packs", "pack name %q must be lower-case letters, digits, '.' and '-'", p))
		}
	}
	if len(r.AppliesTo) == 0 {
		is = append(is, r.issue("applies-to", "applies-to is required (one or more of %s)", strings.Join(ValidKinds(), ", ")))
	}
	for _, k := range r.AppliesTo {
		if !isKind(k) {
			is = append(is, r.issue("applies-to", "applies-to %q is not one of %s", k, strings.Join(ValidKinds(), ", ")))
		}
	}
	for _, k := range r.Requires {
		if !isKind(k) && !isPart(k) || k == KindFlow {
			is = append(is, r.issue("requires", "requires %q is neither a message kind nor one of %s", k, strings.Join(RequirableParts, ", ")))
		}
	}
	for _, id := range r.Supersedes {
		switch {
		case !idRe.MatchString(id):
			is = append(is, r.issue("supersedes", "supersedes %q is not a rule id (PREFIX-NAME in capitals)", id))
		case id == r.ID:
			is = append(is, r.issue("supersedes", "a rule cannot supersede itself"))
		}
	}
	req("condition", r.Condition)
	req("message", r.Message)
	req("fix", r.Fix)
	if len(r.References) == 0 {
		is = append(is, r.issue("id", "references is required: cite the spec sections the rule enforces"))
	}
	for i, e := range r.Evidence {
		if strings.TrimSpace(e.At) == "" {
			is = append(is, r.issue(fmt.Sprintf("evidence[%d].at", i), "evidence[%d].at is required", i))
		}
		if strings.TrimSpace(e.Value) == "" {
			is = append(is, r.issue(fmt.Sprintf("evidence[%d].value", i), "evidence[%d].value is required", i))
		}
		if strings.TrimSpace(e.Field) == "" {
			is = append(is, r.issue(fmt.Sprintf("evidence[%d].field", i), "evidence[%d].field is required", i))
		}
	}
	return is
}
