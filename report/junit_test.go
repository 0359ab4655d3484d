package report

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/rules"
)

// parsedJUnit is what a CI system reads from the document.
type parsedJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, r *Report) parsedJUnit {
	t.Helper()
	var doc parsedJUnit
	out := render(t, "junit", r)
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JUnit output is not well-formed XML: %v", err)
	}
	return doc
}

// TestJUnitCases: one test case per rule run on each flow; a case fails
// exactly when the rule has a fail finding on that flow.
func TestJUnitCases(t *testing.T) {
	for name, r := range cases(t, false) {
		t.Run(name, func(t *testing.T) {
			doc := parseJUnit(t, r)
			table := ruleTable(r)
			wantTests := 0
			fails := map[string]bool{}
			for _, f := range r.Findings {
				if f.Outcome == rules.Fail {
					for _, fl := range findingFlows(f) {
						fails[fl+" "+f.Rule] = true
					}
				}
			}
			for _, fl := range r.Flows {
				for _, ri := range table {
					if overlaps(ri.Packs, fl.Packs) || fails[fl.ID+" "+ri.ID] {
						wantTests++
					}
				}
			}
			if doc.Tests != wantTests {
				t.Errorf("%d test cases, want %d (rules run × flows)", doc.Tests, wantTests)
			}
			if doc.Failures != len(fails) {
				t.Errorf("%d failures, want %d (rule × flow pairs with a violation)", doc.Failures, len(fails))
			}
			sum := 0
			for _, s := range doc.Suites {
				sum += len(s.Cases)
				for _, c := range s.Cases {
					flow := strings.TrimPrefix(c.Classname, "oauthlint.")
					rule, _, _ := strings.Cut(c.Name, ":")
					if got := c.Failure != nil; got != fails[flow+" "+rule] {
						t.Errorf("%s %s: failure=%v, want %v", flow, rule, got, !got)
					}
					if c.Failure != nil && !strings.Contains(c.Failure.Text, "fix: ") {
						t.Errorf("%s %s: failure text without the fix", flow, rule)
					}
				}
			}
			if sum != doc.Tests {
				t.Errorf("suites hold %d cases, the total says %d", sum, doc.Tests)
			}
		})
	}
}

func TestJUnitOutcomes(t *testing.T) {
	doc := parseJUnit(t, synthetic())
	got := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			rule, _, _ := strings.Cut(c.Name, ":")
			key := strings.TrimPrefix(c.Classname, "oauthlint.") + " " + rule
			switch {
			case c.Failure != nil:
				got[key] = "failure:" + c.Failure.Type
			case c.Error != nil:
				got[key] = "error"
			case c.Skipped != nil && strings.HasPrefix(c.Skipped.Message, "not checked"):
				got[key] = "skipped:not-available"
			case c.Skipped != nil && strings.HasPrefix(c.Skipped.Message, "not applicable"):
				got[key] = "skipped:not-applicable"
			default:
				got[key] = "passed"
			}
		}
	}
	for key, want := range map[string]string{
		"F1 TQ-VERIFIER-MATCH":      "failure:critical",
		"F1 TR-NO-STORE":            "failure:high",
		"F1 AZ-STATE":               "skipped:not-available",
		"F1 AZ-SCOPE-SELECTION":     "error",
		"F1 AZ-PKCE-S256":           "passed", // the authorize leg is missing but known: the rule applies
		"F1 DCRQ-SCOPE":             "skipped:not-applicable",
		"F2 PRM-SCOPES-RECOMMENDED": "failure:medium", // shared by both flows
		"F1 PRM-SCOPES-RECOMMENDED": "failure:medium",
		"F2 TR-NO-STORE":            "skipped:not-applicable",
	} {
		if got[key] != want {
			t.Errorf("%s: %q, want %q", key, got[key], want)
		}
	}
	if _, ok := got["F2 CHAL-SCOPE-HINT"]; ok {
		t.Errorf("CHAL-SCOPE-HINT (mcp pack) listed on F2 (oauth2 only)")
	}
}
