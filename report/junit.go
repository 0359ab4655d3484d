package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/oauthlint/oauthlint/rules"
)

// JUnit XML for CI systems that show test reports (Jenkins, GitLab,
// Azure DevOps, GitHub test-reporter actions). One test suite per flow,
// one test case per rule run on that flow:
//
//   - failure: the rule found a violation (outcome fail) in the flow;
//   - error: the rule could not be evaluated (outcome error);
//   - skipped: the evidence was not captured (outcome not-available), or
//     the rule does not apply because the flow holds none of the messages
//     it checks (a token rule on a discovery-only flow);
//   - passed otherwise.
//
// A rule is run on a flow when one of its packs is active for the flow
// (Flow.Packs), as the engine does.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties *junitPropsList `xml:"properties,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitPropsList struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkip    `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	// Text is CDATA so the multi-line details stay readable in the file;
	// encoding/xml splits any "]]>" inside, and xmlText removes the
	// characters XML 1.0 cannot carry at all.
	Text string `xml:",cdata"`
}

type junitSkip struct {
	Message string `xml:"message,attr"`
}

type junitPrinter struct{}

// Print writes the JUnit XML document.
func (junitPrinter) Print(w io.Writer, r *Report) error {
	doc := buildJUnit(r)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func buildJUnit(r *Report) junitSuites {
	doc := junitSuites{Name: "oauthlint", Time: seconds(r.Stats.DurationMS), Suites: []junitSuite{}}
	table := ruleTable(r)
	// Findings per (flow, rule).
	type key struct{ flow, rule string }
	byKey := map[key][]rules.Finding{}
	var orphans []rules.Finding
	flowIDs := map[string]bool{}
	for _, fl := range r.Flows {
		flowIDs[fl.ID] = true
	}
	for _, f := range r.Findings {
		placed := false
		for _, id := range findingFlows(f) {
			if flowIDs[id] {
				byKey[key{id, f.Rule}] = append(byKey[key{id, f.Rule}], f)
				placed = true
			}
		}
		if !placed {
			orphans = append(orphans, f)
		}
	}

	for _, fl := range r.Flows {
		s := junitSuite{Name: suiteName(fl), Time: "0", Properties: flowProps(fl)}
		kinds := map[string]bool{"flow": true}
		for _, st := range fl.Steps {
			kinds[st.Kind] = true
		}
		for _, m := range fl.Missing {
			kinds[string(m.Kind)] = true
		}
		for _, ri := range table {
			fs := byKey[key{fl.ID, ri.ID}]
			if len(fs) == 0 && !overlaps(ri.Packs, fl.Packs) {
				continue // not run on this flow
			}
			c := junitCase{Name: ri.ID + ": " + ri.Title, Classname: "oauthlint." + fl.ID, Time: "0"}
			judge(&c, fs)
			if c.Failure == nil && c.Error == nil && c.Skipped == nil && len(ri.AppliesTo) > 0 && !anyKind(ri.AppliesTo, kinds) {
				c.Skipped = &junitSkip{Message: "not applicable: the flow has no " + strings.Join(ri.AppliesTo, " or ") + " message"}
			}
			s.add(c)
		}
		doc.add(s)
	}
	if len(orphans) > 0 {
		// Findings tied to no reconstructed flow (possible with custom
		// rules over the whole capture): one case per rule.
		s := junitSuite{Name: "outside any flow", Time: "0"}
		var order []string
		byRule := map[string][]rules.Finding{}
		for _, f := range orphans {
			if _, ok := byRule[f.Rule]; !ok {
				order = append(order, f.Rule)
			}
			byRule[f.Rule] = append(byRule[f.Rule], f)
		}
		for _, id := range order {
			c := junitCase{Name: id + ": " + byRule[id][0].Title, Classname: "oauthlint", Time: "0"}
			judge(&c, byRule[id])
			s.add(c)
		}
		doc.add(s)
	}
	return doc
}

// judge sets the case's outcome from the rule's findings on the flow: a
// violation outweighs an error, which outweighs not-available.
func judge(c *junitCase, fs []rules.Finding) {
	var fails, errs, na []rules.Finding
	for _, f := range fs {
		switch f.Outcome {
		case rules.Fail:
			fails = append(fails, f)
		case rules.NotAvailable:
			na = append(na, f)
		default:
			errs = append(errs, f)
		}
	}
	switch {
	case len(fails) > 0:
		worst := fails[0].Severity
		for _, f := range fails {
			if f.Severity.Rank() > worst.Rank() {
				worst = f.Severity
			}
		}
		msg := oneLine(fails[0].Message)
		if len(fails) > 1 {
			msg = fmt.Sprintf("%d violations; first: %s", len(fails), msg)
		}
		c.Failure = &junitProblem{Message: msg, Type: string(worst), Text: xmlText(problemText(fails))}
	case len(errs) > 0:
		c.Error = &junitProblem{Message: oneLine(errs[0].Message), Type: "rule-error", Text: xmlText(problemText(errs))}
	case len(na) > 0:
		c.Skipped = &junitSkip{Message: "not checked: " + oneLine(na[0].Message)}
	}
}

// problemText is the body of a failure: each finding with where it is,
// the evidence, the fix and the references.
func problemText(fs []rules.Finding) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s] %s (%s)\n", strings.ToUpper(string(f.Severity)), f.Title, f.Party.Describe())
		fmt.Fprintf(&b, "what: %s\n", oneLine(f.Message))
		if f.Anchor > 0 {
			fmt.Fprintf(&b, "exchange: #%d", f.Anchor)
			if len(f.Repeats) > 0 {
				fmt.Fprintf(&b, " (recurs at %s)", joinInts(f.Repeats, ", ", "#"))
			}
			b.WriteString("\n")
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "evidence: %s = %s", e.Field, oneLine(e.Value))
			if ref := refString(e.Ref); ref != "" {
				fmt.Fprintf(&b, "  [%s]", ref)
			}
			b.WriteString("\n")
		}
		if fix := oneLine(f.Fix); fix != "" {
			fmt.Fprintf(&b, "fix: %s\n", fix)
		}
		if len(f.References) > 0 {
			fmt.Fprintf(&b, "spec: %s\n", strings.Join(f.References, "; "))
		}
	}
	return b.String()
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

func (d *junitSuites) add(s junitSuite) {
	d.Tests += s.Tests
	d.Failures += s.Failures
	d.Errors += s.Errors
	d.Skipped += s.Skipped
	d.Suites = append(d.Suites, s)
}

func suiteName(fl Flow) string {
	name := fl.ID + " " + fl.Kind
	var who []string
	if fl.ClientID != "" {
		who = append(who, "client "+fl.ClientID)
	}
	if fl.Issuer != "" {
		who = append(who, "AS "+fl.Issuer)
	}
	if fl.Resource != "" {
		who = append(who, "resource "+fl.Resource)
	}
	if len(who) > 0 {
		name += " (" + strings.Join(who, ", ") + ")"
	}
	return name
}

func flowProps(fl Flow) *junitPropsList {
	p := &junitPropsList{}
	add := func(k, v string) {
		if v != "" {
			p.Props = append(p.Props, junitProp{Name: k, Value: v})
		}
	}
	add("flow", fl.ID)
	add("kind", fl.Kind)
	add("client_id", fl.ClientID)
	add("client_type", fl.ClientType)
	add("issuer", fl.Issuer)
	add("resource", fl.Resource)
	add("mcp_revision", fl.MCP.Revision)
	add("packs", strings.Join(fl.Packs, ","))
	if len(fl.Steps) > 0 {
		add("exchanges", fmt.Sprintf("%d-%d", firstStep(fl), lastStep(fl)))
	}
	for _, m := range fl.Missing {
		add("missing."+string(m.Kind), oneLine(m.Reason))
	}
	return p
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func anyKind(kinds []string, present map[string]bool) bool {
	for _, k := range kinds {
		if present[k] {
			return true
		}
	}
	return false
}

// xmlText replaces the characters XML 1.0 forbids (most C0 controls,
// U+FFFE, U+FFFF) by U+FFFD; attributes and character
// data get the same treatment from encoding/xml, CDATA does not.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }
