// Package rules loads rule packs (one YAML file per rule, expressions in
// CEL), compiles them once, and evaluates them as pure functions of the
// flows built by package analyze. Rules never do I/O and never print; they
// return Findings, which the post-processing pipeline dedupes and sorts and
// the report printers format.
package rules

import (
	"fmt"
	"strings"
)

// Severity ranks a finding.
type Severity string

// Severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank is larger for more severe findings (critical 5 … info 1, unknown 0).
func (s Severity) Rank() int {
	for i, x := range Severities {
		if x == s {
			return len(Severities) - i
		}
	}
	return 0
}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// ParseSeverity parses a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if !v.Valid() {
		return "", fmt.Errorf("unknown severity %q (want one of critical, high, medium, low, info)", s)
	}
	return v, nil
}

// Outcome says what evaluating a rule established.
type Outcome string

const (
	// Fail: the traffic shows the violation.
	Fail Outcome = "fail"
	// NotAvailable: the rule applies but the evidence it needs was not
	// captured or was redacted; nothing is claimed either way.
	NotAvailable Outcome = "not-available"
	// Error: the rule could not be evaluated (an expression failed).
	Error Outcome = "error"
)

// Party is who is at fault.
type Party string

const (
	Client Party = "client"
	AS     Party = "as"
	RS     Party = "rs"
)

// Valid reports whether p is a known party.
func (p Party) Valid() bool { return p == Client || p == AS || p == RS }

// Describe names the party for people.
func (p Party) Describe() string {
	switch p {
	case Client:
		return "client"
	case AS:
		return "authorization server"
	case RS:
		return "resource server"
	}
	return string(p)
}

// Packs known to oauthlint. Custom packs may add names of their own.
const (
	PackOAuth2 = "oauth2"
	PackOIDC   = "oidc"
)

// MCPPack returns the pack name of an MCP revision ("mcp-2025-11-25").
func MCPPack(rev string) string { return "mcp-" + rev }

// BuiltinPacks lists the built-in packs.
var BuiltinPacks = []string{PackOAuth2, PackOIDC, "mcp-2025-03-26", "mcp-2025-06-18", "mcp-2025-11-25", "mcp-2026-07-28"}
