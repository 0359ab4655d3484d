package rules

import (
	"sort"

	"github.com/oauthlint/oauthlint/capture"
)

// Finding is what a rule established about a flow.
type Finding struct {
	Rule     string   `json:"rule"`
	Title    string   `json:"title"`
	Level    string   `json:"level,omitempty"`
	Severity Severity `json:"severity"`
	Outcome  Outcome  `json:"outcome"`
	Party    Party    `json:"party"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
	// Flow is the flow the finding was made on; Flows lists every flow
	// that shares the evidence (a metadata document several flows used).
	Flow  string   `json:"flow"`
	Flows []string `json:"flows,omitempty"`
	// Anchor is the exchange id the finding is about; Repeats lists
	// further exchanges of the same flow where the same finding recurs
	// (a client re-fetching the same document).
	Anchor     int        `json:"exchange"`
	Repeats    []int      `json:"repeats,omitempty"`
	Evidence   []Evidence `json:"evidence"`
	References []string   `json:"references"`
	Packs      []string   `json:"packs"`
	// Endpoint is the URL (without query) of the exchange the finding is
	// about; Fingerprint identifies the finding across captures (same rule,
	// party, endpoint and evidence fields), for baselines and SARIF.
	Endpoint    string `json:"endpoint,omitempty"`
	Fingerprint string `json:"fingerprint"`
}

// Evidence is one exact field that shows the finding.
type Evidence struct {
	// Exchange is the exchange id (1-based; 0 = none).
	Exchange int         `json:"exchange"`
	Ref      capture.Ref `json:"ref"`
	Field    string      `json:"field"`
	Value    string      `json:"value"`
	// Secret marks credential values, redacted unless --show-secrets.
	Secret bool `json:"secret,omitempty"`
}

// Postprocess merges duplicates (the same rule on the same exchange seen
// from several flows) and sorts findings: most severe first, then by the
// exchange they are about, then by rule id.
func Postprocess(in []Finding) []Finding {
	type key struct {
		rule    string
		anchor  int
		outcome Outcome
		msg     string
	}
	type flowKey struct {
		rule    string
		flow    string
		outcome Outcome
		msg     string
	}
	idx := map[key]int{}
	inFlow := map[flowKey]int{}
	var out []Finding
	for _, f := range in {
		k := key{f.Rule, f.Anchor, f.Outcome, f.Message}
		if i, ok := idx[k]; ok {
			// The same exchange judged from another flow that shares it.
			for _, id := range f.Flows {
				if !containsString(out[i].Flows, id) {
					out[i].Flows = append(out[i].Flows, id)
				}
			}
			continue
		}
		fk := flowKey{f.Rule, f.Flow, f.Outcome, f.Message}
		if i, ok := inFlow[fk]; ok {
			// The same finding again in the same flow (a re-fetched
			// document): one finding, the repeats listed.
			if f.Anchor != out[i].Anchor && !containsInt(out[i].Repeats, f.Anchor) {
				out[i].Repeats = append(out[i].Repeats, f.Anchor)
			}
			idx[k] = i
			continue
		}
		idx[k] = len(out)
		inFlow[fk] = len(out)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := outcomeRank(a.Outcome), outcomeRank(b.Outcome); ra != rb {
			return ra > rb
		}
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Anchor != b.Anchor {
			return a.Anchor < b.Anchor
		}
		return a.Rule < b.Rule
	})
	return out
}

func outcomeRank(o Outcome) int {
	switch o {
	case Fail:
		return 3
	case Error:
		return 2
	case NotAvailable:
		return 1
	}
	return 0
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func containsInt(l []int, x int) bool {
	for _, y := range l {
		if y == x {
			return true
		}
	}
	return false
}
