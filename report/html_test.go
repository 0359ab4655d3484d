package report

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func parseHTML(t *testing.T, data []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, c string) bool {
	v, _ := attr(n, "class")
	for _, x := range strings.Fields(v) {
		if x == c {
			return true
		}
	}
	return false
}

func walkHTML(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkHTML(c, fn)
	}
}

func findAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walkHTML(n, func(x *html.Node) {
		if x.Type == html.ElementNode && pred(x) {
			out = append(out, x)
		}
	})
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walkHTML(n, func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
	})
	return b.String()
}

// TestHTMLSelfContained: the page loads nothing: no element with a
// source, no stylesheet link, no frame, no event handler attribute
// (hostile strings must not become attributes), one inline style and one
// inline script whose hashes are the ones the Content-Security-Policy
// allows.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range cases(t, false) {
		t.Run(name, func(t *testing.T) {
			doc := parseHTML(t, render(t, "html", r))
			walkHTML(doc, func(n *html.Node) {
				if n.Type != html.ElementNode {
					return
				}
				switch n.Data {
				case "link", "iframe", "frame", "object", "embed", "img", "image", "video", "audio", "source", "base", "use", "foreignobject":
					t.Errorf("element <%s> in a self-contained report", n.Data)
				}
				for _, a := range n.Attr {
					k := strings.ToLower(a.Key)
					if k == "src" || k == "srcset" || k == "xlink:href" || k == "background" || k == "formaction" {
						t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
					}
					if strings.HasPrefix(k, "on") {
						t.Errorf("event handler <%s %s=%q>", n.Data, a.Key, a.Val)
					}
					if k == "href" && n.Data != "a" {
						t.Errorf("<%s href=%q>", n.Data, a.Val)
					}
					if k == "href" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
						t.Errorf("javascript: link %q", a.Val)
					}
				}
			})
			scripts := findAll(doc, func(n *html.Node) bool { return n.Data == "script" })
			styles := findAll(doc, func(n *html.Node) bool { return n.Data == "style" })
			if len(scripts) != 1 || len(styles) != 1 {
				t.Fatalf("%d scripts and %d styles, want one of each", len(scripts), len(styles))
			}
			metas := findAll(doc, func(n *html.Node) bool {
				v, _ := attr(n, "http-equiv")
				return n.Data == "meta" && strings.EqualFold(v, "Content-Security-Policy")
			})
			if len(metas) != 1 {
				t.Fatalf("%d CSP meta elements", len(metas))
			}
			csp, _ := attr(metas[0], "content")
			for _, want := range []string{"default-src 'none'", "script-src '" + cspHash(textOf(scripts[0])) + "'", "style-src '" + cspHash(textOf(styles[0])) + "'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q (inline content and hash disagree)", csp, want)
				}
			}
			if css := textOf(styles[0]); strings.Contains(css, "@import") || strings.Contains(css, "url(") {
				t.Errorf("the stylesheet loads something")
			}
		})
	}
}

// TestHTMLDiagrams: each flow has one sequence diagram with exactly one
// arrow per exchange of the flow, one dashed leg per missing leg, and a
// badge on the arrow of each finding's anchor exchange linking to the
// finding; every internal link resolves.
func TestHTMLDiagrams(t *testing.T) {
	for name, r := range cases(t, false) {
		t.Run(name, func(t *testing.T) {
			doc := parseHTML(t, render(t, "html", r))
			ix := indexFindings(r)
			ids := map[string]bool{}
			walkHTML(doc, func(n *html.Node) {
				if id, ok := attr(n, "id"); ok && n.Type == html.ElementNode {
					if ids[id] {
						t.Errorf("duplicate id %q", id)
					}
					ids[id] = true
				}
			})
			flows := findAll(doc, func(n *html.Node) bool { return n.Data == "article" && hasClass(n, "flow") })
			if len(flows) != len(r.Flows) {
				t.Fatalf("%d flow sections, want %d", len(flows), len(r.Flows))
			}
			for i, fl := range r.Flows {
				art := flows[i]
				svgs := findAll(art, func(n *html.Node) bool { return n.Data == "svg" })
				if len(svgs) != 1 {
					t.Fatalf("flow %s: %d diagrams", fl.ID, len(svgs))
				}
				arrows := findAll(svgs[0], func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "arrow") })
				want := map[string]bool{}
				for _, s := range fl.Steps {
					want[strconv.Itoa(s.Exchange)] = true
				}
				if len(arrows) != len(want) {
					t.Errorf("flow %s: %d arrows, want %d (one per exchange)", fl.ID, len(arrows), len(want))
				}
				got := map[string]*html.Node{}
				for _, a := range arrows {
					x, _ := attr(a, "data-exchange")
					if !want[x] || got[x] != nil {
						t.Errorf("flow %s: unexpected or repeated arrow for exchange %s", fl.ID, x)
					}
					got[x] = a
				}
				legs := findAll(svgs[0], func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "missing-leg") })
				if len(legs) != len(fl.Missing) {
					t.Errorf("flow %s: %d missing legs drawn, want %d", fl.ID, len(legs), len(fl.Missing))
				}
				for j, leg := range legs {
					lines := findAll(leg, func(n *html.Node) bool { return n.Data == "line" && hasClass(n, "missing") })
					k, _ := attr(leg, "data-kind")
					if len(lines) != 1 || k != string(fl.Missing[j].Kind) {
						t.Errorf("flow %s: missing leg %d drawn as %q with %d dashed lines", fl.ID, j, k, len(lines))
					}
				}
				for i, f := range r.Findings {
					fls := findingFlows(f)
					if len(fls) > 0 && !containsStr(fls, fl.ID) {
						continue
					}
					anchor := ix.anchor[i]
					member := func(n *html.Node) bool {
						members, _ := attr(n, "data-members")
						return n.Data == "a" && hasClass(n, "marker") && !hasClass(n, "secondary") && containsStr(strings.Fields(members), anchor)
					}
					if kind, ok := findingLeg(ruleTable(r), fl, f); ok {
						// Not checked because a leg is missing: the badge is
						// on that leg.
						var marks []*html.Node
						for _, leg := range legs {
							if k, _ := attr(leg, "data-kind"); k == kind {
								marks = append(marks, findAll(leg, member)...)
							}
						}
						if len(marks) != 1 {
							t.Errorf("flow %s: %d badges for not-checked %s on the missing %s leg, want 1", fl.ID, len(marks), f.Rule, kind)
						}
						continue
					}
					if f.Anchor == 0 {
						continue
					}
					arrow := got[strconv.Itoa(f.Anchor)]
					if arrow == nil {
						continue // the anchor is not a step of this flow
					}
					marks := findAll(arrow, member)
					if len(marks) != 1 {
						t.Errorf("flow %s: %d badges for %s on the arrow of exchange #%d, want 1", fl.ID, len(marks), f.Rule, f.Anchor)
						continue
					}
					if sev, _ := attr(marks[0], "data-severity"); sev != string(f.Severity) {
						t.Errorf("flow %s: %s (%s) in a %s badge", fl.ID, f.Rule, f.Severity, sev)
					}
				}
				// A badge counts its findings.
				for _, m := range findAll(svgs[0], func(n *html.Node) bool { return n.Data == "a" && hasClass(n, "marker") }) {
					members, _ := attr(m, "data-members")
					n := len(strings.Fields(members))
					label := strings.TrimSpace(textOf(findAll(m, func(n *html.Node) bool { return n.Data == "text" })[0]))
					if (n == 1 && label != "!") || (n > 1 && label != strconv.Itoa(n)) {
						t.Errorf("flow %s: badge of %d findings labelled %q", fl.ID, n, label)
					}
				}
			}
			for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" }) {
				href, _ := attr(a, "href")
				if strings.HasPrefix(href, "#") && !ids[href[1:]] {
					t.Errorf("link %q points nowhere", href)
				}
			}
			cards := findAll(doc, func(n *html.Node) bool { return n.Data == "article" && hasClass(n, "finding") })
			if len(cards) != len(r.Findings) {
				t.Errorf("%d finding cards, want %d", len(cards), len(r.Findings))
			}
		})
	}
}

// TestHTMLEscapesHostileText: the hostile strings of the synthetic
// report come out as text, never as markup.
func TestHTMLEscapesHostileText(t *testing.T) {
	out := render(t, "html", synthetic())
	doc := parseHTML(t, out)
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "script" })); n != 1 {
		t.Errorf("%d script elements, want only the report's own", n)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "svg" })); n != 2 {
		t.Errorf("%d svg elements, want one per flow (a hostile <svg> got through?)", n)
	}
	if !strings.Contains(textOf(doc), `<script>alert("x")</script>`) {
		t.Errorf("the hostile text is not shown as text")
	}
}

func TestLegLanes(t *testing.T) {
	fl := Flow{Issuer: "https://as.example.com"}
	for kind, want := range map[string][2]lane{
		"authorize": {laneBrowser, laneAS}, "callback": {laneBrowser, laneClient},
		"token": {laneClient, laneAS}, "refresh": {laneClient, laneAS}, "registration": {laneClient, laneAS}, "as_metadata": {laneClient, laneAS},
		"challenge": {laneClient, laneRS}, "resource": {laneClient, laneRS}, "prm": {laneClient, laneRS},
		"cimd": {laneAS, laneClient},
	} {
		from, to := legLanes(kind, "https://x.example/", fl)
		if [2]lane{from, to} != want {
			t.Errorf("%s: %v→%v, want %v→%v", kind, from, to, want[0], want[1])
		}
	}
	if from, to := legLanes("other", "https://as.example.com/login", fl); from != laneClient || to != laneAS {
		t.Errorf("other at the AS origin: %v→%v", from, to)
	}
	if from, to := legLanes("other", "https://elsewhere.example/", fl); from != laneClient || to != laneRS {
		t.Errorf("other elsewhere: %v→%v", from, to)
	}
}

// TestHTMLOneArrowPerExchange: an exchange that plays two roles in a flow
// is still one arrow, labelled with both.
func TestHTMLOneArrowPerExchange(t *testing.T) {
	r := synthetic()
	fl := &r.Flows[0]
	fl.Steps = append(fl.Steps, Step{Exchange: 6, Kind: "challenge", Method: "POST", URL: fl.Steps[4].URL})
	d := buildDiagram(r, *fl, indexFindings(r))
	n := 0
	for _, row := range d.Rows {
		if row.Exchange == 6 {
			n++
			if row.Kind != "resource+challenge" {
				t.Errorf("label %q", row.Kind)
			}
		}
	}
	if n != 1 {
		t.Errorf("exchange 6 drawn %d times", n)
	}
}
