package rules

import (
	"os"
	"regexp"
	"sort"
	"strconv"
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
	// As Run, what the rules judged on a flow share is built once per
	// flow (and not charged to any rule).
	ins := make([]flowInputs, len(res.Flows))
	for i, f := range res.Flows {
		ins[i] = inputsFor(f, RunOptions{})
	}
	// OAUTHLINT_RULETIME_ROUNDS repeats the judging (each round with its
	// own verdicts, as a new Run), for a profile with enough samples.
	rounds, _ := strconv.Atoi(os.Getenv("OAUTHLINT_RULETIME_ROUNDS"))
	rounds = max(rounds, 1)
	// OAUTHLINT_RULETIME_ONLY keeps the rules whose ID it matches (a
	// regular expression), to profile one rule.
	only := regexp.MustCompile(os.Getenv("OAUTHLINT_RULETIME_ONLY"))
	var judged []*compiled
	for _, c := range e.rules {
		if only.MatchString(c.rule.ID) {
			judged = append(judged, c)
			out = append(out, rt{id: c.rule.ID})
		}
	}
	for range rounds {
		memo := &verdicts{}
		for k, c := range judged {
			start := time.Now()
			for i, f := range res.Flows {
				c.judge(res, f, ins[i], memo)
			}
			out[k].d += time.Since(start)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].d > out[j].d })
	var total time.Duration
	for _, r := range out {
		total += r.d
	}
	t.Logf("flows %d, rounds %d, total %v", len(res.Flows), rounds, total)
	for _, r := range out[:min(25, len(out))] {
		t.Logf("%-32s %v", r.id, r.d)
	}
}
