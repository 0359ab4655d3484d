package report

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/oauthlint/oauthlint/rules"
)

// The HTML report is one self-contained file: inline CSS and JS (no
// external scripts, fonts, images or CDNs; a Content-Security-Policy
// with the hashes of the inline style and script forbids loading
// anything else), a summary, filters by severity, party, outcome and
// rule, each flow drawn as an inline SVG sequence diagram, and the
// findings with evidence, fix and spec references. html/template escapes
// every value from the traffic, in the SVG as in the HTML.

var (
	//go:embed html/report.html.tmpl
	htmlTemplateText string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
		"upper": strings.ToUpper,
		"textX": func() int { return dgTextX },
	}).Parse(htmlTemplateText))
	htmlCSP = fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src data:; base-uri 'none'; form-action 'none'",
		cspHash(htmlCSS), cspHash(htmlJS))
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPrinter struct{}

// Print writes the HTML document.
func (htmlPrinter) Print(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, buildHTMLView(r)); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	return bw.Flush()
}

type htmlView struct {
	R        *Report
	CSP      string
	Style    template.CSS
	Script   template.JS
	Summary  htmlSummary
	Flows    []htmlFlow
	Groups   []htmlGroup
	Filters  htmlFilters
	Total    int
	RulesRun []htmlRuleRow
}

type htmlSummary struct {
	Violations int
	BySeverity []htmlCount
	ByParty    []htmlCount
	NotChecked int
	Errors     int
}

type htmlCount struct {
	Key   string
	Label string
	N     int
}

type htmlFilters struct {
	Severities []htmlCount
	Parties    []htmlCount
	Outcomes   []htmlCount
	Rules      []htmlCount
}

type htmlGroup struct {
	ID       string
	Title    string
	Note     string
	Findings []htmlFinding
}

type htmlFinding struct {
	F          rules.Finding
	Anchor     string
	Num        string
	Outcome    string
	Party      string
	Flows      []htmlLink
	Exchange   string
	ExLink     string
	Request    string
	Ref        string
	Repeats    string
	Evidence   []htmlEvidence
	Message    string
	Fix        string
	References []htmlRef
}

type htmlLink struct {
	Text string
	Href string
}

type htmlEvidence struct {
	Field    string
	Value    string
	Exchange string
	Ref      string
	Secret   bool
}

type htmlRef struct {
	Text string
	URL  string
}

type htmlRuleRow struct {
	RuleInfo
	Violations int
	PartyName  string
}

type htmlFlow struct {
	F       Flow
	Anchor  string
	Diagram diagram
	Steps   []htmlStep
	Missing []htmlMissing
	Scopes  []string
	Range   string
}

type htmlStep struct {
	S      Step
	Anchor string
	Ref    string
	Status string
	Error  bool
}

type htmlMissing struct {
	Kind      string
	Reason    string
	ImpliedBy int
}

func buildHTMLView(r *Report) htmlView {
	v := htmlView{R: r, CSP: htmlCSP, Style: template.CSS(htmlCSS), Script: template.JS(htmlJS)}
	ix := indexFindings(r)

	v.Summary.Violations = r.Stats.ByOutcome[string(rules.Fail)]
	for _, s := range rules.Severities {
		if n := r.Stats.BySeverity[string(s)]; n > 0 {
			v.Summary.BySeverity = append(v.Summary.BySeverity, htmlCount{Key: string(s), Label: string(s), N: n})
		}
	}
	for _, p := range parties {
		v.Summary.ByParty = append(v.Summary.ByParty, htmlCount{Key: string(p), Label: p.Describe(), N: r.Stats.ByParty[string(p)]})
	}
	v.Summary.NotChecked = r.Stats.ByOutcome[string(rules.NotAvailable)]
	v.Summary.Errors = r.Stats.ByOutcome[string(rules.Error)]

	// Filters offer what occurs in the findings, with counts.
	sev, party, outc, rule := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range r.Findings {
		sev[string(f.Severity)]++
		party[string(f.Party)]++
		outc[string(f.Outcome)]++
		rule[f.Rule]++
	}
	for _, s := range rules.Severities {
		if n, ok := sev[string(s)]; ok {
			v.Filters.Severities = append(v.Filters.Severities, htmlCount{Key: string(s), Label: string(s), N: n})
			delete(sev, string(s))
		}
	}
	for _, k := range sortedKeys(sev) {
		v.Filters.Severities = append(v.Filters.Severities, htmlCount{Key: k, Label: orDash(k), N: sev[k]})
	}
	for _, p := range parties {
		if n, ok := party[string(p)]; ok {
			v.Filters.Parties = append(v.Filters.Parties, htmlCount{Key: string(p), Label: p.Describe(), N: n})
			delete(party, string(p))
		}
	}
	for _, k := range sortedKeys(party) {
		v.Filters.Parties = append(v.Filters.Parties, htmlCount{Key: k, Label: orDash(k), N: party[k]})
	}
	for _, o := range []rules.Outcome{rules.Fail, rules.NotAvailable, rules.Error} {
		if n, ok := outc[string(o)]; ok {
			v.Filters.Outcomes = append(v.Filters.Outcomes, htmlCount{Key: string(o), Label: outcomeLabel(o), N: n})
			delete(outc, string(o))
		}
	}
	for _, k := range sortedKeys(outc) {
		v.Filters.Outcomes = append(v.Filters.Outcomes, htmlCount{Key: k, Label: orDash(k), N: outc[k]})
	}
	for _, k := range sortedKeys(rule) {
		v.Filters.Rules = append(v.Filters.Rules, htmlCount{Key: k, Label: k, N: rule[k]})
	}
	v.Total = len(r.Findings)

	mk := func(i int) htmlFinding { return htmlFindingOf(r, i, ix) }
	for _, g := range ix.groups {
		hg := htmlGroup{ID: "party-" + string(g.party), Title: titleCase(g.name)}
		for _, i := range g.items {
			hg.Findings = append(hg.Findings, mk(i))
		}
		v.Groups = append(v.Groups, hg)
	}
	if len(ix.notChecked) > 0 {
		hg := htmlGroup{ID: "not-checked", Title: "Not checked",
			Note: "The capture lacks the evidence these rules need (a leg was not captured, or the export removed credentials); nothing is claimed either way."}
		for _, i := range ix.notChecked {
			hg.Findings = append(hg.Findings, mk(i))
		}
		v.Groups = append(v.Groups, hg)
	}
	if len(ix.errors) > 0 {
		hg := htmlGroup{ID: "rule-errors", Title: "Rule errors",
			Note: "These rules could not be evaluated: a bug in the rule or in oauthlint, not a verdict on the traffic."}
		for _, i := range ix.errors {
			hg.Findings = append(hg.Findings, mk(i))
		}
		v.Groups = append(v.Groups, hg)
	}

	for _, fl := range r.Flows {
		hf := htmlFlow{F: fl, Anchor: "flow-" + fl.ID, Diagram: buildDiagram(r, fl, ix)}
		if len(fl.Steps) > 0 {
			hf.Range = fmt.Sprintf("exchanges #%d–#%d", firstStep(fl), lastStep(fl))
		}
		for _, s := range fl.Steps {
			st := htmlStep{S: s, Anchor: stepAnchor(fl.ID, s.Exchange), Ref: refString(s.Ref), Status: "no response"}
			if s.Status > 0 {
				st.Status = fmt.Sprint(s.Status)
				st.Error = s.Status >= 400
			} else {
				st.Error = true
			}
			hf.Steps = append(hf.Steps, st)
		}
		for _, m := range fl.Missing {
			hf.Missing = append(hf.Missing, htmlMissing{Kind: string(m.Kind), Reason: oneLine(m.Reason), ImpliedBy: m.ImpliedBy})
		}
		sc := fl.Scopes
		if sc.Hint.Source != "" && sc.Hint.Source != "none" {
			hf.Scopes = append(hf.Scopes, "scope hint ("+scopeOrigin(sc.Hint)+"): "+scopeText(sc.Hint.Scopes))
		}
		for _, a := range sc.Advertised {
			hf.Scopes = append(hf.Scopes, "advertised by "+scopeOrigin(a)+": "+scopeText(a.Scopes))
		}
		if sc.Registered != nil {
			hf.Scopes = append(hf.Scopes, "registered: "+scopeText(sc.Registered.Scopes))
		}
		if len(sc.Requested) > 0 {
			hf.Scopes = append(hf.Scopes, "requested: "+scopeText(sc.Requested))
		}
		if len(sc.Granted) > 0 {
			hf.Scopes = append(hf.Scopes, "granted: "+scopeText(sc.Granted))
		}
		v.Flows = append(v.Flows, hf)
	}

	perRule := map[string]int{}
	for _, i := range ix.fails {
		perRule[r.Findings[i].Rule]++
	}
	for _, ri := range ruleTable(r) {
		v.RulesRun = append(v.RulesRun, htmlRuleRow{RuleInfo: ri, Violations: perRule[ri.ID], PartyName: ri.Party.Describe()})
	}
	return v
}

func scopeText(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, " ")
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func stepAnchor(flow string, exchange int) string { return fmt.Sprintf("%s-x%d", flow, exchange) }

func htmlFindingOf(r *Report, i int, ix findingIndex) htmlFinding {
	f := r.Findings[i]
	hf := htmlFinding{F: f, Anchor: ix.anchor[i], Outcome: outcomeLabel(f.Outcome), Party: f.Party.Describe(),
		Message: oneLine(f.Message), Fix: oneLine(f.Fix)}
	if n, ok := ix.number[i]; ok {
		hf.Num = fmt.Sprint(n)
	}
	flows := findingFlows(f)
	for _, id := range flows {
		hf.Flows = append(hf.Flows, htmlLink{Text: id, Href: "#flow-" + id})
	}
	if f.Anchor > 0 {
		hf.Exchange = fmt.Sprintf("#%d", f.Anchor)
		if len(flows) > 0 {
			hf.ExLink = "#" + stepAnchor(flows[0], f.Anchor)
		}
	}
	if s, ok := anchorRef(r, f); ok {
		if s.Method != "" {
			hf.Request = strings.TrimSpace(s.Method + " " + s.URL)
			if s.Status > 0 {
				hf.Request += fmt.Sprintf(" → %d", s.Status)
			}
		}
		hf.Ref = refString(s.Ref)
	}
	if len(f.Repeats) > 0 {
		hf.Repeats = joinInts(f.Repeats, ", ", "#")
	}
	for _, e := range f.Evidence {
		hf.Evidence = append(hf.Evidence, htmlEvidence{Field: e.Field, Value: e.Value, Exchange: exchangeCell(e.Exchange),
			Ref: refString(e.Ref), Secret: e.Secret})
	}
	for _, ref := range f.References {
		hf.References = append(hf.References, htmlRef{Text: ref, URL: referenceURL(ref)})
	}
	return hf
}

// The sequence diagram. Geometry is computed here; the template only
// draws what it is given.

const (
	dgWidth     = 1200
	dgLaneX0    = 120
	dgLaneGap   = 165
	dgTextX     = dgLaneX0 + 3*dgLaneGap + 70
	dgHeaderTop = 8
	dgHeaderH   = 46
	dgRowsTop   = dgHeaderTop + dgHeaderH + 34
	dgRowH      = 32
	dgTextChars = 64
)

type diagram struct {
	Width, Height int
	Lanes         []dgLane
	Rows          []dgRow
	LifeTop       int
	LifeBottom    int
	Label         string
	// Head and HeadMissing are the ids of the arrow-head markers, unique
	// per diagram (ids are document-wide).
	Head, HeadMissing string
}

type dgLane struct {
	X, BoxX, BoxW int
	Name, Sub     string
	SubTitle      string
}

type dgRow struct {
	Missing   bool
	Exchange  int
	ID        string
	Kind      string
	Y         int
	X1, X2    int // arrow from X1 to X2 (head at X2)
	LabelX    int
	LabelEnd  bool
	Num       string
	Text      string
	FullText  string
	Error     bool
	Markers   []dgMarker
	Tooltip   string
	Direction string
}

// dgMarker is one badge on an arrow: the findings of one severity and
// outcome on that arrow (anchored there, or with other evidence there:
// Secondary). One badge per group keeps a leg with twenty not-checked
// rules readable; the badge shows the count, and the filters recount it
// from the findings still shown.
type dgMarker struct {
	CX, CY    int
	Href      string
	Severity  string
	Outcome   string
	Secondary bool
	// Members are the anchors (element ids) of the findings.
	Members []string
	Label   string
	Title   string
}

func buildDiagram(r *Report, fl Flow, ix findingIndex) diagram {
	catalog := ruleTable(r)
	d := diagram{Width: dgWidth, Label: "Sequence diagram of flow " + fl.ID, Head: "head-" + fl.ID, HeadMissing: "head-missing-" + fl.ID}
	subs := [laneCount]string{orDash(fl.ClientID), "user agent", hostOf(fl.Issuer), hostOf(fl.Resource)}
	if fl.ClientID == "" {
		subs[laneClient] = "client"
	}
	if fl.Issuer == "" {
		subs[laneAS] = ""
	}
	if fl.Resource == "" {
		subs[laneRS] = ""
	}
	for i := lane(0); i < laneCount; i++ {
		x := dgLaneX0 + int(i)*dgLaneGap
		d.Lanes = append(d.Lanes, dgLane{X: x, BoxX: x - 75, BoxW: 150, Name: laneNames[i], Sub: truncate(subs[i], 22), SubTitle: subs[i]})
	}

	// Missing legs are drawn just before the exchange that implies them.
	missingAt := map[int][]int{}
	for i, m := range fl.Missing {
		missingAt[m.ImpliedBy] = append(missingAt[m.ImpliedBy], i)
	}
	y := dgRowsTop
	addMissing := func(mi int) {
		m := fl.Missing[mi]
		from, to := legLanes(string(m.Kind), "", fl)
		row := dgRow{Missing: true, Kind: string(m.Kind), Y: y, Num: "—",
			Text: truncate(string(m.Kind)+" — not captured", dgTextChars), FullText: string(m.Kind) + " — not captured",
			Tooltip: fmt.Sprintf("%s not captured: %s (implied by exchange #%d)", m.Kind, oneLine(m.Reason), m.ImpliedBy)}
		row.setArrow(d.Lanes[from].X, d.Lanes[to].X)
		row.Markers = markersFor(r, catalog, fl, 0, string(m.Kind), row, ix)
		d.Rows = append(d.Rows, row)
		y += dgRowH
	}
	drawn := map[int]bool{}
	for _, s := range fl.Steps {
		for _, mi := range missingAt[s.Exchange] {
			addMissing(mi)
		}
		delete(missingAt, s.Exchange)
		if drawn[s.Exchange] {
			continue // one arrow per exchange, even if it plays two roles
		}
		drawn[s.Exchange] = true
		kind := s.Kind
		for _, o := range fl.Steps {
			if o.Exchange == s.Exchange && o.Kind != s.Kind {
				kind += "+" + o.Kind
			}
		}
		from, to := legLanes(s.Kind, s.URL, fl)
		status := "no response"
		if s.Status > 0 {
			status = fmt.Sprint(s.Status)
		}
		full := fmt.Sprintf("%s %s → %s", s.Method, s.URL, status)
		short := fmt.Sprintf("%s %s → %s", s.Method, pathAndQuery(s.URL), status)
		row := dgRow{Exchange: s.Exchange, ID: stepAnchor(fl.ID, s.Exchange), Kind: kind, Y: y, Num: fmt.Sprintf("#%d", s.Exchange),
			Text: truncate(short, dgTextChars), FullText: full, Error: s.Status == 0 || s.Status >= 400,
			Tooltip: fmt.Sprintf("exchange #%d %s: %s", s.Exchange, kind, full)}
		if ref := refString(s.Ref); ref != "" {
			row.Tooltip += " [" + ref + "]"
		}
		row.setArrow(d.Lanes[from].X, d.Lanes[to].X)
		row.Markers = markersFor(r, catalog, fl, s.Exchange, "", row, ix)
		d.Rows = append(d.Rows, row)
		y += dgRowH
	}
	for mi, m := range fl.Missing {
		if _, left := missingAt[m.ImpliedBy]; left {
			addMissing(mi)
		}
	}
	d.LifeTop = dgHeaderTop + dgHeaderH
	d.LifeBottom = y
	d.Height = y + 12
	return d
}

type markerKey struct {
	secondary bool
	outcome   string
	severity  string
}

func markerOutcomeRank(o string) int {
	switch rules.Outcome(o) {
	case rules.Fail:
		return 3
	case rules.Error:
		return 2
	case rules.NotAvailable:
		return 1
	}
	return 0
}

// findingLeg returns the missing leg a not-checked finding is about: the
// first kind its rule applies to that the flow lacks.
func findingLeg(catalog []RuleInfo, fl Flow, f rules.Finding) (string, bool) {
	if f.Outcome != rules.NotAvailable || len(fl.Missing) == 0 {
		return "", false
	}
	for _, ri := range catalog {
		if ri.ID != f.Rule {
			continue
		}
		for _, k := range ri.AppliesTo {
			for _, m := range fl.Missing {
				if string(m.Kind) == k {
					return k, true
				}
			}
		}
	}
	return "", false
}

func (row *dgRow) setArrow(from, to int) {
	row.X1, row.X2 = from, to
	if to >= from {
		row.Direction = "right"
		row.X2 = to - 3
		row.LabelX = from + 8
	} else {
		row.Direction = "left"
		row.X2 = to + 3
		row.LabelX = from - 8
		row.LabelEnd = true
	}
}

// markersFor places the badges of a row: the findings about it, grouped
// by severity and outcome; filled on the arrow of the findings' anchor
// exchange, hollow on the arrows of their other evidence and repeats. A not-checked finding about a
// leg the capture lacks is marked on that leg's dashed arrow instead
// (its anchor is only the exchange that proves the leg happened).
// exchange is 0 for a missing-leg row, whose kind is missingKind. Badges
// sit near the arrow head, stepping back towards its tail.
func markersFor(r *Report, catalog []RuleInfo, fl Flow, exchange int, missingKind string, row dgRow, ix findingIndex) []dgMarker {
	var out []dgMarker
	groups := map[markerKey]*dgMarker{}
	var order []markerKey
	for i, f := range r.Findings {
		fls := findingFlows(f)
		if len(fls) > 0 && !containsStr(fls, fl.ID) {
			continue
		}
		leg, onLeg := findingLeg(catalog, fl, f)
		primary, secondary := false, false
		switch {
		case missingKind != "":
			primary = onLeg && leg == missingKind
		case onLeg:
			// Drawn on the missing leg, not on the anchor.
		default:
			primary = f.Anchor == exchange
		}
		if !primary && missingKind == "" {
			for _, e := range f.Evidence {
				if e.Exchange == exchange && exchange > 0 {
					secondary = true
				}
			}
			for _, x := range f.Repeats {
				if x == exchange {
					secondary = true
				}
			}
		}
		if !primary && !secondary {
			continue
		}
		line := fmt.Sprintf("%s %s (%s, %s): %s", strings.ToUpper(string(f.Severity)), f.Rule, f.Party.Describe(), outcomeLabel(f.Outcome), f.Title)
		k := markerKey{secondary, string(f.Outcome), string(f.Severity)}
		m, ok := groups[k]
		if !ok {
			m = &dgMarker{Href: "#" + ix.anchor[i], Severity: string(f.Severity), Outcome: string(f.Outcome), Secondary: secondary}
			groups[k] = m
			order = append(order, k)
		}
		m.Members = append(m.Members, ix.anchor[i])
		m.Title += "\n" + line
	}
	// Findings anchored here first, then violations before errors before
	// not checked, then by severity.
	sort.SliceStable(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if x.secondary != y.secondary {
			return !x.secondary
		}
		if rx, ry := markerOutcomeRank(x.outcome), markerOutcomeRank(y.outcome); rx != ry {
			return rx > ry
		}
		return rules.Severity(x.severity).Rank() > rules.Severity(y.severity).Rank()
	})
	for _, k := range order {
		m := groups[k]
		n := len(m.Members)
		m.Label = "!"
		if n > 1 {
			m.Label = fmt.Sprint(n)
		}
		what := "finding"
		if n > 1 {
			what = "findings"
		}
		if m.Secondary {
			what += " with evidence on this exchange"
		}
		m.Title = fmt.Sprintf("%d %s:%s", n, what, m.Title)
		out = append(out, *m)
	}
	step := 18
	for k := range out {
		if row.Direction == "right" {
			out[k].CX = row.X2 - 16 - k*step
		} else {
			out[k].CX = row.X2 + 16 + k*step
		}
		out[k].CY = row.Y
	}
	return out
}
