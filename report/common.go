package report

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/oauthlint/oauthlint/rules"
)

// Helpers shared by the document formats (SARIF, Markdown, HTML, JUnit).
// They only look at the Report, which Build already redacted.

// parties lists the parties in the order reviews present them: the
// client first (most findings are about it), then the servers.
var parties = []rules.Party{rules.Client, rules.AS, rules.RS}

// ruleTable returns every rule of the run: the catalog of the report,
// plus any rule that produced a finding but is missing from it (a caller
// that did not pass the catalog, or a user pack), described from its
// first finding. Sorted by id.
func ruleTable(r *Report) []RuleInfo {
	seen := make(map[string]bool, len(r.Rules))
	out := make([]RuleInfo, 0, len(r.Rules))
	for _, ri := range r.Rules {
		if !seen[ri.ID] {
			seen[ri.ID] = true
			out = append(out, ri)
		}
	}
	for _, f := range r.Findings {
		if seen[f.Rule] {
			continue
		}
		seen[f.Rule] = true
		out = append(out, RuleInfo{ID: f.Rule, Title: f.Title, Level: f.Level, Severity: f.Severity, Party: f.Party,
			Packs: nonNil(f.Packs), AppliesTo: []string{}, Fix: f.Fix, References: nonNil(f.References)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// findingFlows returns the flows a finding belongs to (Flows, else Flow).
func findingFlows(f rules.Finding) []string {
	if len(f.Flows) > 0 {
		return f.Flows
	}
	if f.Flow != "" {
		return []string{f.Flow}
	}
	return nil
}

// stepOf returns the step of the report that carries an exchange.
func stepOf(r *Report, exchange int) (Step, bool) {
	for _, fl := range r.Flows {
		for _, s := range fl.Steps {
			if s.Exchange == exchange {
				return s, true
			}
		}
	}
	return Step{}, false
}

// anchorRef returns where a finding's anchor exchange came from: the ref
// of the evidence on the anchor, else of the anchor's step, else of the
// first evidence.
func anchorRef(r *Report, f rules.Finding) (Step, bool) {
	for _, e := range f.Evidence {
		if e.Exchange == f.Anchor && f.Anchor > 0 {
			s, ok := stepOf(r, f.Anchor)
			if !ok {
				s = Step{Exchange: e.Exchange, Ref: e.Ref}
			}
			return s, true
		}
	}
	if f.Anchor > 0 {
		if s, ok := stepOf(r, f.Anchor); ok {
			return s, true
		}
	}
	for _, e := range f.Evidence {
		if e.Exchange > 0 {
			s, ok := stepOf(r, e.Exchange)
			if !ok {
				s = Step{Exchange: e.Exchange, Ref: e.Ref}
			}
			return s, true
		}
	}
	return Step{}, false
}

// outcomeLabel names an outcome for people.
func outcomeLabel(o rules.Outcome) string {
	switch o {
	case rules.Fail:
		return "violation"
	case rules.NotAvailable:
		return "not checked"
	case rules.Error:
		return "rule error"
	}
	return string(o)
}

// severitySummary renders the fail findings per severity, most severe
// first: "3 high, 1 low".
func severitySummary(s Stats) string {
	var parts []string
	for _, k := range s.SortedSeverities() {
		parts = append(parts, fmt.Sprintf("%d %s", s.BySeverity[k], k))
	}
	return strings.Join(parts, ", ")
}

var (
	reRFC   = regexp.MustCompile(`^RFC\s*(\d{3,5})(?:\s*§\s*([0-9][0-9A-Za-z.]*))?`)
	reDraft = regexp.MustCompile(`\((draft-[a-z0-9-]+)\)(?:\s*§\s*([0-9][0-9A-Za-z.]*))?`)
	reMCP   = regexp.MustCompile(`^MCP\s+(\d{4}-\d{2}-\d{2})\s+Authorization`)
	reOIDC  = regexp.MustCompile(`^OpenID Connect (Core|Discovery|Dynamic Client Registration) 1\.0(?:\s*§\s*([0-9][0-9.]*))?`)
)

// referenceURL resolves a spec reference as written in rules ("RFC 6749
// §5.1", "OAuth 2.1 (draft-ietf-oauth-v2-1-13) §3.2.3", "MCP 2025-11-25
// Authorization: …") to the public text, or "" when it names no spec we
// know how to link. Only the first section of "§4.1, §4.6" is linked.
func referenceURL(ref string) string {
	ref = strings.TrimSpace(ref)
	if m := reRFC.FindStringSubmatch(ref); m != nil {
		u := "https://www.rfc-editor.org/rfc/rfc" + m[1]
		if m[2] != "" {
			u += "#section-" + strings.TrimSuffix(m[2], ".")
		}
		return u
	}
	if m := reDraft.FindStringSubmatch(ref); m != nil {
		u := "https://datatracker.ietf.org/doc/html/" + m[1]
		if m[2] != "" {
			u += "#section-" + strings.TrimSuffix(m[2], ".")
		}
		return u
	}
	if m := reMCP.FindStringSubmatch(ref); m != nil {
		return "https://modelcontextprotocol.io/specification/" + m[1] + "/basic/authorization"
	}
	if m := reOIDC.FindStringSubmatch(ref); m != nil {
		doc := map[string]string{"Core": "openid-connect-core-1_0", "Discovery": "openid-connect-discovery-1_0",
			"Dynamic Client Registration": "openid-connect-registration-1_0"}[m[1]]
		return "https://openid.net/specs/" + doc + ".html"
	}
	return ""
}

// lane is a column of the sequence diagram.
type lane int

const (
	laneClient lane = iota
	laneBrowser
	laneAS
	laneRS
	laneCount
)

var laneNames = [laneCount]string{"Client", "Browser", "Authorization server", "Resource server"}

// legLanes says who sends and who receives a message of a kind: the
// browser carries the front channel (authorization request to the AS,
// redirect back to the client's redirect URI), the client talks to the
// AS on the back channel and to the resource server directly. A
// client ID metadata document is fetched by the AS from the client.
// Unknown kinds go to the server whose origin the URL shares, else the
// resource server.
func legLanes(kind, rawURL string, fl Flow) (from, to lane) {
	switch kind {
	case "authorize":
		return laneBrowser, laneAS
	case "callback":
		return laneBrowser, laneClient
	case "cimd":
		return laneAS, laneClient
	case "token", "refresh", "registration", "as_metadata", "revocation", "introspection", "jwks", "userinfo":
		return laneClient, laneAS
	case "challenge", "resource", "prm":
		return laneClient, laneRS
	}
	if fl.Issuer != "" && sameOrigin(rawURL, fl.Issuer) {
		return laneClient, laneAS
	}
	return laneClient, laneRS
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// pathAndQuery drops the scheme and host of a URL, keeping the path and
// query people recognise (the lane already names the host).
func pathAndQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	s := u.EscapedPath()
	if s == "" {
		s = "/"
	}
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s
}

// hostOf returns the host[:port] of a URL, or the input when it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}

// oneLine folds whitespace runs (newlines included) into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// flowList renders the flow ids of a finding: "F1" or "F1, F3".
func flowList(f rules.Finding) string { return strings.Join(findingFlows(f), ", ") }
