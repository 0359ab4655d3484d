package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/oauthlint/oauthlint/rules"
)

type markdownPrinter struct{}

// Print writes a review document (GitHub-flavoured Markdown): summary,
// each flow as a numbered list of its exchanges, the violations grouped
// by the party that has to fix them with evidence, fix and spec
// references, then what could not be checked and the rules that ran.
// Every value from the traffic is escaped, so a hostile capture cannot
// inject markup, links or HTML into the document.
func (markdownPrinter) Print(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	ix := indexFindings(r)

	bw.WriteString("# oauthlint report\n\n")
	meta := []string{"oauthlint " + mdCode(orDash(r.Tool.Version))}
	if len(r.Tool.Packs) > 0 {
		meta = append(meta, "packs: "+mdEscape(strings.Join(r.Tool.Packs, ", ")))
	}
	if r.Tool.MCPRevision != "" {
		meta = append(meta, "MCP revision: "+mdEscape(r.Tool.MCPRevision))
	}
	if r.Tool.FailOn != "" {
		meta = append(meta, "fail on: "+mdEscape(r.Tool.FailOn))
	}
	meta = append(meta, fmt.Sprintf("%d rules", r.Tool.Rules))
	if r.Tool.ShowSecrets {
		meta = append(meta, "**secrets shown unredacted: do not share this document**")
	} else {
		meta = append(meta, "secrets redacted")
	}
	bw.WriteString(strings.Join(meta, " · ") + "\n\n")

	// Summary.
	bw.WriteString("## Summary\n\n| | |\n|---|---|\n")
	fails := r.Stats.ByOutcome[string(rules.Fail)]
	line := fmt.Sprintf("**%d**", fails)
	if s := severitySummary(r.Stats); s != "" {
		line += " (" + s + ")"
	}
	fmt.Fprintf(bw, "| Violations | %s |\n", line)
	for _, p := range parties {
		fmt.Fprintf(bw, "| … by the %s | %d |\n", p.Describe(), r.Stats.ByParty[string(p)])
	}
	fmt.Fprintf(bw, "| Not checked (evidence not in the capture) | %d |\n", r.Stats.ByOutcome[string(rules.NotAvailable)])
	fmt.Fprintf(bw, "| Rule errors | %d |\n", r.Stats.ByOutcome[string(rules.Error)])
	fmt.Fprintf(bw, "| Flows | %d reconstructed from %d exchanges (%d OAuth/MCP) |\n\n", r.Stats.Flows, r.Stats.Exchanges, r.Stats.OAuthExchanges)

	if len(r.Inputs) > 0 {
		bw.WriteString("**Inputs**\n\n")
		for _, in := range r.Inputs {
			fmt.Fprintf(bw, "- %s — %s", mdCode(in.File), mdEscape(in.Format))
			if in.Creator != "" {
				fmt.Fprintf(bw, " (%s)", mdEscape(in.Creator))
			}
			fmt.Fprintf(bw, ": %d entries, %d exchanges", in.Entries, in.Exchanges)
			if in.Sanitized {
				bw.WriteString(", sanitized export (credentials removed: rules that need them report not checked)")
			}
			if in.Truncated {
				bw.WriteString(", **truncated**")
			}
			bw.WriteString("\n")
			for _, warn := range in.Warnings {
				fmt.Fprintf(bw, "  - warning: %s\n", mdEscape(oneLine(warn)))
			}
		}
		bw.WriteString("\n")
	}

	// Flows.
	if len(r.Flows) > 0 {
		bw.WriteString("## Flows\n")
	}
	for _, fl := range r.Flows {
		fmt.Fprintf(bw, "\n### %s · %s\n\n", mdEscape(fl.ID), mdEscape(fl.Kind))
		bw.WriteString("| | |\n|---|---|\n")
		if fl.ClientID != "" || fl.ClientType != "" {
			c := mdCell(mdCode(orDash(fl.ClientID)))
			if fl.ClientType != "" {
				c += " (" + mdCell(mdEscape(fl.ClientType)) + ")"
			}
			fmt.Fprintf(bw, "| Client | %s |\n", c)
		}
		if fl.Issuer != "" {
			fmt.Fprintf(bw, "| Authorization server | %s |\n", mdCell(mdCode(fl.Issuer)))
		}
		if fl.Resource != "" {
			fmt.Fprintf(bw, "| Resource | %s |\n", mdCell(mdCode(fl.Resource)))
		}
		if fl.MCP.Revision != "" || fl.MCP.Forced || fl.MCP.Source != "" {
			rev := orDash(fl.MCP.Revision)
			if fl.MCP.Forced {
				rev += " (forced)"
			}
			src := ""
			if fl.MCP.Source != "" {
				src = " — " + mdEscape(oneLine(fl.MCP.Source))
			}
			fmt.Fprintf(bw, "| MCP revision | %s |\n", mdCell(mdEscape(rev)+src))
		}
		fmt.Fprintf(bw, "| Packs | %s |\n", mdCell(mdEscape(orDash(strings.Join(fl.Packs, ", ")))))
		complete := "yes"
		if !fl.Complete {
			complete = "no"
		}
		fmt.Fprintf(bw, "| Complete | %s |\n\n", complete)

		missingBefore := map[int][]int{}
		for i, m := range fl.Missing {
			missingBefore[m.ImpliedBy] = append(missingBefore[m.ImpliedBy], i)
		}
		n := 0
		for _, s := range fl.Steps {
			for _, mi := range missingBefore[s.Exchange] {
				m := fl.Missing[mi]
				n++
				fmt.Fprintf(bw, "%d. *not captured:* **%s** — %s (implied by exchange #%d)\n", n, mdEscape(string(m.Kind)), mdEscape(oneLine(m.Reason)), m.ImpliedBy)
			}
			delete(missingBefore, s.Exchange)
			n++
			fmt.Fprintf(bw, "%d. **%s** %s", n, mdEscape(s.Kind), mdCode(strings.TrimSpace(s.Method+" "+s.URL)))
			if s.Status > 0 {
				fmt.Fprintf(bw, " → %d", s.Status)
			} else {
				bw.WriteString(" → no response")
			}
			fmt.Fprintf(bw, " · exchange #%d", s.Exchange)
			if ref := refString(s.Ref); ref != "" {
				fmt.Fprintf(bw, " · %s", mdCode(ref))
			}
			if len(s.Gaps) > 0 {
				fmt.Fprintf(bw, " · gaps: %s", mdEscape(strings.Join(s.Gaps, ", ")))
			}
			var marks []string
			for _, i := range ix.byExchange[s.Exchange] {
				f := r.Findings[i]
				if !containsStr(findingFlows(f), fl.ID) && len(findingFlows(f)) > 0 {
					continue
				}
				marks = append(marks, fmt.Sprintf("[%s](#%s)", mdEscape(f.Rule), ix.anchor[i]))
			}
			if len(marks) > 0 {
				fmt.Fprintf(bw, " · ⚠ %s", strings.Join(marks, ", "))
			}
			bw.WriteString("\n")
		}
		// Legs implied by an exchange outside the step list.
		for _, m := range fl.Missing {
			if _, left := missingBefore[m.ImpliedBy]; !left {
				continue
			}
			n++
			fmt.Fprintf(bw, "%d. *not captured:* **%s** — %s (implied by exchange #%d)\n", n, mdEscape(string(m.Kind)), mdEscape(oneLine(m.Reason)), m.ImpliedBy)
		}
		writeScopesMD(bw, fl.Scopes)
	}

	// Violations by party.
	bw.WriteString("\n## Findings\n")
	if len(ix.fails) == 0 {
		bw.WriteString("\nNo violations found.\n")
	}
	for _, g := range ix.groups {
		fmt.Fprintf(bw, "\n### %s — %d violation(s)\n", titleCase(g.name), len(g.items))
		for _, i := range g.items {
			writeFindingMD(bw, r, r.Findings[i], ix.number[i], ix.anchor[i])
		}
	}

	if len(ix.notChecked) > 0 {
		fmt.Fprintf(bw, "\n## Not checked — %d\n\nThe capture lacks the evidence these rules need (a leg was not captured, or the export removed credentials); nothing is claimed either way.\n\n", len(ix.notChecked))
		bw.WriteString("| Rule | Party | Flow | Exchange | Why |\n|---|---|---|---|---|\n")
		for _, i := range ix.notChecked {
			f := r.Findings[i]
			fmt.Fprintf(bw, "| <a id=\"%s\"></a>%s | %s | %s | %s | %s |\n", ix.anchor[i], mdCell(mdEscape(f.Rule)), mdCell(f.Party.Describe()),
				mdCell(mdEscape(flowList(f))), exchangeCell(f.Anchor), mdCell(mdEscape(oneLine(f.Message))))
		}
	}
	if len(ix.errors) > 0 {
		fmt.Fprintf(bw, "\n## Rule errors — %d\n\nThese rules could not be evaluated; this is a bug in the rule or in oauthlint, not a verdict on the traffic.\n\n", len(ix.errors))
		bw.WriteString("| Rule | Flow | Exchange | Error |\n|---|---|---|---|\n")
		for _, i := range ix.errors {
			f := r.Findings[i]
			fmt.Fprintf(bw, "| <a id=\"%s\"></a>%s | %s | %s | %s |\n", ix.anchor[i], mdCell(mdEscape(f.Rule)), mdCell(mdEscape(flowList(f))),
				exchangeCell(f.Anchor), mdCell(mdEscape(oneLine(f.Message))))
		}
	}

	if table := ruleTable(r); len(table) > 0 {
		perRule := map[string]int{}
		for _, i := range ix.fails {
			perRule[r.Findings[i].Rule]++
		}
		fmt.Fprintf(bw, "\n## Rules run — %d\n\n| Rule | Severity | Party | Violations | Requirement |\n|---|---|---|---|---|\n", len(table))
		for _, ri := range table {
			fmt.Fprintf(bw, "| %s | %s | %s | %d | %s |\n", mdCell(mdEscape(ri.ID)), mdCell(mdEscape(string(ri.Severity))), mdCell(ri.Party.Describe()),
				perRule[ri.ID], mdCell(mdEscape(ri.Title)))
		}
	}
	return bw.Flush()
}

func writeScopesMD(bw *bufio.Writer, sc Scopes) {
	var lines []string
	if sc.Hint.Source != "" && sc.Hint.Source != "none" {
		lines = append(lines, fmt.Sprintf("scope hint (%s): %s", mdEscape(scopeOrigin(sc.Hint)), mdScopes(sc.Hint.Scopes)))
	}
	for _, a := range sc.Advertised {
		lines = append(lines, fmt.Sprintf("advertised by %s: %s", mdEscape(scopeOrigin(a)), mdScopes(a.Scopes)))
	}
	if sc.Registered != nil {
		lines = append(lines, "registered: "+mdScopes(sc.Registered.Scopes))
	}
	if len(sc.Requested) > 0 {
		lines = append(lines, "requested: "+mdScopes(sc.Requested))
	}
	if len(sc.Granted) > 0 {
		lines = append(lines, "granted: "+mdScopes(sc.Granted))
	}
	if len(lines) == 0 {
		return
	}
	bw.WriteString("\nScopes:\n\n")
	for _, l := range lines {
		bw.WriteString("- " + l + "\n")
	}
}

// scopeOrigin names where a scope list came from: "PRM https://… (exchange #2)".
func scopeOrigin(s ScopeList) string {
	out := s.Source
	if s.Document != "" {
		out = s.Document
	}
	if s.Field != "" {
		out += " " + s.Field
	}
	if s.Exchange > 0 {
		out += fmt.Sprintf(", exchange #%d", s.Exchange)
	}
	return out
}

func mdScopes(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return mdCode(strings.Join(s, " "))
}

func writeFindingMD(bw *bufio.Writer, r *Report, f rules.Finding, num int, anchor string) {
	fmt.Fprintf(bw, "\n<a id=\"%s\"></a>\n#### %d. %s · %s — %s\n\n", anchor, num, strings.ToUpper(string(f.Severity)), mdEscape(f.Rule), mdEscape(f.Title))
	where := fmt.Sprintf("flow %s", mdEscape(orDash(flowList(f))))
	if f.Anchor > 0 {
		where += fmt.Sprintf(", exchange #%d", f.Anchor)
	}
	if s, ok := anchorRef(r, f); ok {
		if s.Method != "" {
			where += " " + mdCode(s.Method+" "+s.URL)
		}
		if ref := refString(s.Ref); ref != "" {
			where += " at " + mdCode(ref)
		}
	}
	if len(f.Repeats) > 0 {
		where += " — recurs at exchange " + joinInts(f.Repeats, ", ", "#")
	}
	fmt.Fprintf(bw, "- **Where:** %s\n", where)
	party := f.Party.Describe()
	if f.Level != "" {
		party += " · requirement level " + mdEscape(f.Level)
	}
	fmt.Fprintf(bw, "- **Who fixes it:** %s\n", party)
	fmt.Fprintf(bw, "- **What:** %s\n", mdEscape(oneLine(f.Message)))
	if len(f.Evidence) > 0 {
		bw.WriteString("- **Evidence:**\n\n  | Field | Value | Exchange | Where |\n  |---|---|---|---|\n")
		for _, e := range f.Evidence {
			val := mdCode(e.Value)
			if e.Value == "" {
				val = "(empty)"
			}
			fmt.Fprintf(bw, "  | %s | %s | %s | %s |\n", mdCell(mdEscape(e.Field)), mdCell(val), exchangeCell(e.Exchange), mdCell(mdCodeOrEmpty(refString(e.Ref))))
		}
		bw.WriteString("\n")
	}
	if fix := oneLine(f.Fix); fix != "" {
		fmt.Fprintf(bw, "- **Fix:** %s\n", mdEscape(fix))
	}
	if len(f.References) > 0 {
		refs := make([]string, len(f.References))
		for i, ref := range f.References {
			refs[i] = mdRefLink(ref)
		}
		fmt.Fprintf(bw, "- **Spec:** %s\n", strings.Join(refs, "; "))
	}
}

// findingIndex orders the findings for the document formats: violations
// grouped by party (client, AS, RS, then any other), numbered in that
// order; not-checked and errored findings apart.
type findingIndex struct {
	fails      []int
	groups     []findingGroup
	notChecked []int
	errors     []int
	number     map[int]int
	anchor     map[int]string
	byExchange map[int][]int
}

type findingGroup struct {
	party rules.Party
	name  string
	items []int
}

func indexFindings(r *Report) findingIndex {
	ix := findingIndex{number: map[int]int{}, anchor: map[int]string{}, byExchange: map[int][]int{}}
	byParty := map[rules.Party][]int{}
	order := append([]rules.Party(nil), parties...)
	for i, f := range r.Findings {
		switch f.Outcome {
		case rules.Fail:
			if _, ok := byParty[f.Party]; !ok && !containsParty(order, f.Party) {
				order = append(order, f.Party)
			}
			byParty[f.Party] = append(byParty[f.Party], i)
		case rules.NotAvailable:
			ix.notChecked = append(ix.notChecked, i)
		default:
			ix.errors = append(ix.errors, i)
		}
		if f.Anchor > 0 {
			ix.byExchange[f.Anchor] = append(ix.byExchange[f.Anchor], i)
		}
	}
	n := 0
	for _, p := range order {
		items := byParty[p]
		if len(items) == 0 {
			continue
		}
		for _, i := range items {
			n++
			ix.number[i] = n
			ix.anchor[i] = fmt.Sprintf("finding-%d", n)
			ix.fails = append(ix.fails, i)
		}
		ix.groups = append(ix.groups, findingGroup{party: p, name: p.Describe(), items: items})
	}
	for k, i := range ix.notChecked {
		ix.anchor[i] = fmt.Sprintf("not-checked-%d", k+1)
	}
	for k, i := range ix.errors {
		ix.anchor[i] = fmt.Sprintf("rule-error-%d", k+1)
	}
	return ix
}

func containsParty(l []rules.Party, p rules.Party) bool {
	for _, x := range l {
		if x == p {
			return true
		}
	}
	return false
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func joinInts(l []int, sep, prefix string) string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = fmt.Sprintf("%s%d", prefix, x)
	}
	return strings.Join(parts, sep)
}

func exchangeCell(n int) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("#%d", n)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEscape backslash-escapes what would start Markdown syntax inline
// (emphasis, code, links, images, raw HTML, autolinks, table cells,
// strike-through, entities, headings), so text from the traffic is shown
// literally. Characters that cannot start syntax where they stand (an
// underscore inside a word, a "#" inside a line, "!" not before "[",
// "&" not starting an entity) are left alone to keep the source
// readable. Line breaks become spaces and control characters U+FFFD.
func mdEscape(s string) string {
	var b strings.Builder
	rs := []rune(s)
	word := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))
	}
	for i, c := range rs {
		switch c {
		case '\\', '`', '*', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		case '_':
			if !word(i-1) || !word(i+1) {
				b.WriteByte('\\')
			}
		case '#':
			if i == 0 || strings.Trim(string(rs[i:]), "#") == "" {
				b.WriteByte('\\')
			}
		case '!':
			if i+1 < len(rs) && rs[i+1] == '[' {
				b.WriteByte('\\')
			}
		case '&':
			if i+1 < len(rs) && (unicode.IsLetter(rs[i+1]) || rs[i+1] == '#') {
				b.WriteByte('\\')
			}
		case '\r', '\n':
			c = ' '
		default:
			if c < 0x20 && c != '\t' || c == 0x7f {
				c = '\uFFFD'
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdCode renders s as a code span, with a fence longer than any run of
// backticks inside it (CommonMark §6.1); newlines become spaces.
func mdCode(s string) string {
	s = strings.Map(func(c rune) rune {
		switch {
		case c == '\r' || c == '\n':
			return ' '
		case c < 0x20 && c != '\t' || c == 0x7f:
			return '\uFFFD'
		}
		return c
	}, s)
	if s == "" {
		return "``"
	}
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}

func mdCodeOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return mdCode(s)
}

// mdCell makes inline Markdown safe inside a GFM table cell: a pipe ends
// the cell even inside a code span unless escaped. Already escaped pipes
// (from mdEscape) are left alone.
func mdCell(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '|' && (i == 0 || s[i-1] != '\\') {
			b.WriteString(`\|`)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mdRefLink renders a spec reference, linked when it resolves to a URL.
func mdRefLink(ref string) string {
	if u := referenceURL(ref); u != "" {
		return "[" + mdEscape(ref) + "](" + u + ")"
	}
	return mdEscape(ref)
}
