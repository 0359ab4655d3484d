package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

// Config is a project's rule configuration (oauthlint.yaml): which rules
// run and at which severity.
type Config struct {
	// Rules maps a rule ID to its settings.
	Rules map[string]RuleConfig `yaml:"rules" json:"rules"`
	file  string
}

// RuleConfig tunes one rule.
type RuleConfig struct {
	// Enabled false turns the rule off.
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Severity replaces the rule's severity for every finding.
	Severity Severity `yaml:"severity,omitempty" json:"severity,omitempty"`
}

// LoadConfig reads a configuration file; every problem is reported with
// its line.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &LoadError{Issues: []Issue{yamlIssue(file, err)}}
	}
	c := &Config{file: file}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return c, nil
	}
	root := doc.Content[0]
	var issues []Issue
	issues = append(issues, checkKeys(file, root, map[string]bool{"rules": true}, "")...)
	if err := root.Decode(c); err != nil {
		issues = append(issues, yamlIssue(file, err))
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "rules" {
			continue
		}
		m := root.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			k, v := m.Content[j], m.Content[j+1]
			if v.Kind == yaml.MappingNode {
				issues = append(issues, checkKeys(file, v, map[string]bool{"enabled": true, "severity": true}, "rules."+k.Value+".")...)
			}
			if rc, ok := c.Rules[k.Value]; ok && rc.Severity != "" && !rc.Severity.Valid() {
				issues = append(issues, Issue{File: file, Line: v.Line, Col: v.Column, Msg: fmt.Sprintf("rules.%s.severity %q is not one of critical, high, medium, low, info", k.Value, rc.Severity)})
			}
		}
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	return c, nil
}

// Apply removes disabled rules. It fails for IDs that name no rule, so a
// typo does not silently keep a rule on.
func (c *Config) Apply(rs []*Rule) ([]*Rule, error) {
	if c == nil {
		return rs, nil
	}
	known := map[string]bool{}
	for _, r := range rs {
		known[r.ID] = true
	}
	var unknown []string
	for id := range c.Rules {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: no rule has the id %s (see 'oauthlint rules list')", c.file, strings.Join(unknown, ", "))
	}
	var out []*Rule
	for _, r := range rs {
		if rc, ok := c.Rules[r.ID]; ok && rc.Enabled != nil && !*rc.Enabled {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Override sets the configured severities on findings.
func (c *Config) Override(fs []Finding) []Finding {
	if c == nil {
		return fs
	}
	for i := range fs {
		if rc, ok := c.Rules[fs[i].Rule]; ok && rc.Severity != "" && fs[i].Outcome == Fail {
			fs[i].Severity = rc.Severity
		}
	}
	return fs
}

// Baseline lists findings a project has reviewed and accepted. Every
// suppression must say why.
type Baseline struct {
	Suppressions []Suppression `yaml:"suppressions" json:"suppressions"`
	file         string
}

// Suppression matches findings; every given field must match.
type Suppression struct {
	// Rule is the rule ID (required).
	Rule string `yaml:"rule" json:"rule"`
	// Fingerprint matches one finding exactly (as printed in the JSON
	// output); without it the other fields select findings.
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
	// URL matches the exchange the finding is about: an exact URL without
	// query, or a pattern where * matches any run of characters
	// ("https://auth.example.com/*").
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Party matches the party at fault.
	Party Party `yaml:"party,omitempty" json:"party,omitempty"`
	// Reason is required: who accepted this and why.
	Reason string `yaml:"reason" json:"reason"`
	line   int
}

// LoadBaseline reads a baseline file. A suppression without a reason, or
// without a rule, is an error.
func LoadBaseline(file string) (*Baseline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &LoadError{Issues: []Issue{yamlIssue(file, err)}}
	}
	b := &Baseline{file: file}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return b, nil
	}
	root := doc.Content[0]
	var issues []Issue
	issues = append(issues, checkKeys(file, root, map[string]bool{"suppressions": true}, "")...)
	if err := root.Decode(b); err != nil {
		return nil, &LoadError{Issues: append(issues, yamlIssue(file, err))}
	}
	var items []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "suppressions" {
			items = root.Content[i+1].Content
		}
	}
	allowed := map[string]bool{"rule": true, "fingerprint": true, "url": true, "party": true, "reason": true}
	for i := range b.Suppressions {
		s := &b.Suppressions[i]
		line, col := 0, 0
		if i < len(items) {
			line, col = items[i].Line, items[i].Column
			issues = append(issues, checkKeys(file, items[i], allowed, fmt.Sprintf("suppressions[%d].", i))...)
		}
		s.line = line
		if strings.TrimSpace(s.Reason) == "" {
			issues = append(issues, Issue{File: file, Line: line, Col: col, Msg: fmt.Sprintf("suppression of %s has no reason: say who accepted the finding and why", s.Rule)})
		}
		if strings.TrimSpace(s.Rule) == "" {
			issues = append(issues, Issue{File: file, Line: line, Col: col, Msg: "suppression without a rule id"})
		}
		if s.Party != "" && !s.Party.Valid() {
			issues = append(issues, Issue{File: file, Line: line, Col: col, Msg: fmt.Sprintf("party %q is not one of client, as, rs", s.Party)})
		}
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	return b, nil
}

// Suppressed is a finding a baseline accepted, with the reason.
type Suppressed struct {
	Finding
	Reason string `json:"reason"`
	// By is "file:line" of the suppression.
	By string `json:"by"`
}

// Apply splits findings into those kept and those the baseline accepts.
func (b *Baseline) Apply(fs []Finding) (kept []Finding, suppressed []Suppressed) {
	if b == nil {
		return fs, nil
	}
	for _, f := range fs {
		var hit *Suppression
		for i := range b.Suppressions {
			if b.Suppressions[i].matches(f) {
				hit = &b.Suppressions[i]
				break
			}
		}
		if hit == nil {
			kept = append(kept, f)
			continue
		}
		suppressed = append(suppressed, Suppressed{Finding: f, Reason: hit.Reason, By: fmt.Sprintf("%s:%d", b.file, hit.line)})
	}
	return kept, suppressed
}

func (s *Suppression) matches(f Finding) bool {
	if s.Rule != f.Rule {
		return false
	}
	if s.Fingerprint != "" && s.Fingerprint != f.Fingerprint {
		return false
	}
	if s.Party != "" && s.Party != f.Party {
		return false
	}
	if s.URL != "" && !glob(s.URL, f.Endpoint) {
		return false
	}
	return true
}

// glob matches s against a pattern where * stands for any run of
// characters (slashes included) and everything else is literal.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

// fingerprint identifies a finding across captures: the rule, the party,
// the method and endpoint of the exchange it is about (no query, no
// volatile values) and the evidence field names. The same defect seen in a
// new capture gets the same fingerprint.
func fingerprint(f *Finding, res *analyze.Result) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", f.Rule, f.Party, f.Outcome)
	if f.Anchor > 0 && f.Anchor <= len(res.Exchanges) {
		ex := res.Exchanges[f.Anchor-1]
		u := *ex.Request.URL
		u.RawQuery, u.Fragment = "", ""
		fmt.Fprintf(h, "%s %s\x00", ex.Request.Method, stableURL(&u))
	}
	for _, e := range f.Evidence {
		fmt.Fprintf(h, "%s\x00", e.Field)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// stableURL drops loopback ports, which change every run (ephemeral
// callback listeners, test servers).
func stableURL(u *url.URL) string {
	host := u.Hostname()
	if oauth.IsLoopbackHost(host) {
		return u.Scheme + "://" + host + u.EscapedPath()
	}
	return u.String()
}
