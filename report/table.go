package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/oauthlint/oauthlint/rules"
)

type tablePrinter struct{ opts Options }

// Print writes a summary, the flows, a findings table and the details a
// reviewer needs to act on each finding (evidence, fix, references).
func (p tablePrinter) Print(w io.Writer, r *Report) error {
	width := p.opts.Width
	if width <= 0 {
		width = 120
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()

	for _, in := range r.Inputs {
		fmt.Fprintf(bw, "input  %s (%s%s): %d entries, %d exchanges", in.File, in.Format, creator(in.Creator), in.Entries, in.Exchanges)
		if in.Sanitized {
			bw.WriteString(", sanitized export (no credentials)")
		}
		if in.Truncated {
			bw.WriteString(", TRUNCATED")
		}
		bw.WriteByte('\n')
		for _, warn := range in.Warnings {
			fmt.Fprintf(bw, "  warning: %s\n", warn)
		}
		if n := len(in.Undecrypted); n > 0 {
			fmt.Fprintf(bw, "  undecrypted: %d TLS connection(s) could not be read; rules that would conclude from what a flow near one lacks report not-available (listed in --format json: inputs[].undecrypted)\n", n)
		}
	}
	fmt.Fprintf(bw, "flows  %d reconstructed from %d exchanges (%d OAuth/MCP)\n", r.Stats.Flows, r.Stats.Exchanges, r.Stats.OAuthExchanges)
	for _, f := range r.Flows {
		fmt.Fprintf(bw, "  %-4s %-18s", f.ID, f.Kind)
		if f.ClientID != "" {
			fmt.Fprintf(bw, " client=%s", f.ClientID)
		}
		if f.Issuer != "" {
			fmt.Fprintf(bw, " as=%s", f.Issuer)
		}
		if f.Resource != "" {
			fmt.Fprintf(bw, " resource=%s", f.Resource)
		}
		if f.MCP.Revision != "" {
			fmt.Fprintf(bw, " mcp=%s", f.MCP.Revision)
		}
		fmt.Fprintf(bw, " exchanges %d-%d\n", firstStep(f), lastStep(f))
		if f.MCP.Revision != "" || f.MCP.Forced {
			fmt.Fprintf(bw, "       revision: %s\n", f.MCP.Source)
		}
		for _, m := range f.Missing {
			fmt.Fprintf(bw, "       missing %s: %s\n", m.Kind, m.Reason)
		}
	}
	bw.WriteByte('\n')

	var fails, na, errs []rules.Finding
	for _, f := range r.Findings {
		switch f.Outcome {
		case rules.Fail:
			fails = append(fails, f)
		case rules.NotAvailable:
			na = append(na, f)
		default:
			errs = append(errs, f)
		}
	}
	if len(fails) == 0 && len(errs) == 0 {
		bw.WriteString("No violations found.\n")
	} else {
		bw.Flush()
		if err := p.findingsTable(w, append(fails, errs...), width); err != nil {
			return err
		}
		bw.WriteString("\nDetails\n")
		for i, f := range append(fails, errs...) {
			fmt.Fprintf(bw, "\n[%d] %s %s (%s, %s) flow %s, exchange #%d\n", i+1, strings.ToUpper(string(f.Severity)), f.Rule, f.Party.Describe(), f.Outcome, strings.Join(f.Flows, ","), f.Anchor)
			fmt.Fprintf(bw, "    %s\n", f.Title)
			writeWrapped(bw, "    what: ", f.Message, width)
			for _, e := range f.Evidence {
				writeWrapped(bw, "    evidence: ", fmt.Sprintf("%s = %s  [%s]", e.Field, e.Value, e.Ref), width)
			}
			writeWrapped(bw, "    fix: ", f.Fix, width)
			writeWrapped(bw, "    spec: ", strings.Join(f.References, "; "), width)
		}
	}
	if len(na) > 0 {
		fmt.Fprintf(bw, "\nNot checked (evidence not in the capture): %d\n", len(na))
		// A leg the capture lacks makes every rule about it not-available:
		// one line per flow and reason, listing the rules.
		type group struct {
			where, why string
			rules      []string
		}
		var groups []*group
		index := map[string]*group{}
		for _, f := range na {
			why := f.Message
			if _, after, ok := strings.Cut(f.Message, "cannot be checked: "); ok {
				why = after
			}
			where := "flow " + strings.Join(f.Flows, ",")
			key := where + "\x00" + why
			g := index[key]
			if g == nil {
				g = &group{where: where, why: why}
				index[key] = g
				groups = append(groups, g)
			}
			g.rules = append(g.rules, f.Rule)
		}
		for _, g := range groups {
			writeWrapped(bw, fmt.Sprintf("  %s: ", g.where), fmt.Sprintf("%s; %d rule(s): %s", g.why, len(g.rules), strings.Join(g.rules, ", ")), width)
		}
	}
	fmt.Fprintf(bw, "\n%s\n", summaryLine(r))
	return nil
}

func creator(c string) string {
	if c == "" {
		return ""
	}
	return ", " + c
}

func firstStep(f Flow) int {
	if len(f.Steps) == 0 {
		return 0
	}
	return f.Steps[0].Exchange
}

func lastStep(f Flow) int {
	if len(f.Steps) == 0 {
		return 0
	}
	return f.Steps[len(f.Steps)-1].Exchange
}

func (p tablePrinter) findingsTable(w io.Writer, fs []rules.Finding, width int) error {
	rows := make([][]string, 0, len(fs))
	fixed := []int{1, 8, 4, 6, 5} // #, SEVERITY, RULE, PARTY, WHERE minimum widths
	for i, f := range fs {
		sev := strings.ToUpper(string(f.Severity))
		if f.Outcome == rules.Error {
			sev = "ERROR"
		}
		where := fmt.Sprintf("%s #%d", strings.Join(f.Flows, ","), f.Anchor)
		row := []string{fmt.Sprint(i + 1), sev, f.Rule, string(f.Party), where, f.Title}
		for c := range fixed {
			fixed[c] = max(fixed[c], len(row[c]))
		}
		rows = append(rows, row)
	}
	// Column widths include one space of padding on each side; borders
	// cost one more per column. The finding column takes what is left.
	used := 1
	for _, n := range fixed {
		used += n + 3
	}
	last := max(width-used-1, 26)
	widths := tw.NewMapper[int, int]()
	for c, n := range fixed {
		widths.Set(c, n+2)
	}
	widths.Set(len(fixed), last)
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithColumnWidths(widths),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.On),
	)
	t.Header([]string{"#", "SEVERITY", "RULE", "PARTY", "WHERE", "FINDING"})
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// writeWrapped writes prefix+text wrapped at width, continuation lines
// indented under the text.
func writeWrapped(w *bufio.Writer, prefix, text string, width int) {
	indent := strings.Repeat(" ", len([]rune(prefix)))
	line := prefix
	col := len([]rune(prefix))
	for _, word := range strings.Fields(text) {
		n := len([]rune(word))
		if col > len([]rune(indent)) && col+1+n > width {
			w.WriteString(line)
			w.WriteByte('\n')
			line, col = indent, len([]rune(indent))
		}
		if col > len([]rune(indent)) {
			line += " "
			col++
		}
		line += word
		col += n
	}
	w.WriteString(line)
	w.WriteByte('\n')
}

func summaryLine(r *Report) string {
	var parts []string
	for _, s := range r.Stats.SortedSeverities() {
		parts = append(parts, fmt.Sprintf("%d %s", r.Stats.BySeverity[s], s))
	}
	fails := r.Stats.ByOutcome[string(rules.Fail)]
	s := fmt.Sprintf("%d violation(s)", fails)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if n := r.Stats.ByOutcome[string(rules.NotAvailable)]; n > 0 {
		s += fmt.Sprintf(", %d not checked", n)
	}
	if n := r.Stats.ByOutcome[string(rules.Error)]; n > 0 {
		s += fmt.Sprintf(", %d rule error(s)", n)
	}
	return s + fmt.Sprintf(" in %d flow(s).", r.Stats.Flows)
}
