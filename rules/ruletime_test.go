package rules

import (
	"os"
	"sort"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
)

// TestRuleTimes (manual): OAUTHLINT_RULETIME=capture.pcap go test ./rules -run RuleTimes -v
func TestRuleTimes(t *testing.T) {
	path := os.Getenv("OAUTHLINT_RULETIME")
	if path == "" {
		t.Skip("set OAUTHLINT_RULETIME to a capture")
	}
	e := builtinEngine(t)
	exs, _, err := input.Read(path, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	related := RelatedFlows(res.Flows, MaxRelatedFlows)
	for _, f := range res.Flows {
		f.All = related[f]
	}
	type rt struct {
		id string
		d  time.Duration
	}
	var out []rt
	memo := &verdicts{} // as Run judges shared messages
	for _, c := range e.rules {
		start := time.Now()
		for _, f := range res.Flows {
			packs := intersect(c.rule.Packs, ActivePacks(f, RunOptions{}))
			if len(packs) > 0 {
				c.evalFlow(res, f, packs, unknownsFor(f), baseVars(f), &flowMessages{f: f}, memo)
			}
		}
		out = append(out, rt{c.rule.ID, time.Since(start)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].d > out[j].d })
	var total time.Duration
	for _, r := range out {
		total += r.d
	}
	t.Logf("flows %d, total %v", len(res.Flows), total)
	for _, r := range out[:25] {
		t.Logf("%-32s %v", r.id, r.d)
	}
}
