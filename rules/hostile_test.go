package rules_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/rules"
)

// Tests named TestHostile_* demonstrate problems found by the hardening
// work in code owned elsewhere; each says what is wrong, where, and the
// fix proposed. They fail until fixed. Their time limits are hang guards
// (twenty times what a fixed version needs), not speed targets.

// withDeadline runs f and fails the test if it has not returned within d
// (f keeps running in the background until the test binary exits).
func withDeadline(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}

// TestHostile_RelatedFlowsQuadratic: rules.RelatedFlows gathers, for
// every flow, every other flow sharing any key (client, AS origin,
// resource origin, …), then sorts them to keep the 64 nearest. A capture
// whose flows all talk to one AS (any long session, or a crafted HAR)
// makes that O(n² log n): 2 000 flows take ~1.5 s, 20 000 several minutes
// (measured with har-many-flows and pcap-conn-flood in internal/hostile,
// where it dominates the run).
//
// Fix (rules/engine.go RelatedFlows): flows are in time order and only
// the max nearest are kept, so per key keep the sorted index list and, for
// flow i, binary-search its place and take at most max neighbours on each
// side before merging: O(n · keys · max).
func TestHostile_RelatedFlowsQuadratic(t *testing.T) {
	const n = 50000
	flows := make([]*analyze.Flow, n)
	for i := range flows {
		flows[i] = &analyze.Flow{ID: fmt.Sprintf("f%d", i), ClientID: "c1", Issuer: "https://as.example.com"}
	}
	var rel map[*analyze.Flow][]*analyze.Flow
	// The deadline only has to tell linear from quadratic: the linear
	// version takes under a second, but 5–10 s under the race detector on
	// 2 cores busy with the rest of the suite (a 10 s deadline failed
	// there once), while the quadratic one would take hours.
	withDeadline(t, 60*time.Second, fmt.Sprintf("RelatedFlows on %d flows of one client", n), func() {
		rel = rules.RelatedFlows(flows, rules.MaxRelatedFlows)
	})
	for _, i := range []int{0, n / 2, n - 1} {
		if got := len(rel[flows[i]]); got != rules.MaxRelatedFlows {
			t.Errorf("flow %d: %d related flows, want %d", i, got, rules.MaxRelatedFlows)
		}
	}
}

// TestHostile_CELHelperCostIgnoresInputSize: the CEL cost limit
// (rules.CostLimit) counts each call of a Go helper function as one unit,
// whatever the size of its argument, so a rule can loop over a helper
// that does work proportional to the capture. Here a rule from a --rules
// pack splits a 1 MB scope parameter 20 000 times: well within the cost
// limit, and minutes of CPU per flow (several hours for a capture of many
// flows) before the engine moves on.
//
// Fix (rules/cel.go): give the helpers runtime costs proportional to
// their input (cel.CostTrackerOptions with interpreter.OverloadCostTracker
// per overload: len(string) for scopes/split-like helpers, list sizes for
// the set helpers), and bound each evaluation in time as well
// (cel.InterruptCheckFrequency and Program.ContextEval with a deadline),
// reporting an error outcome that names the rule, as the cost limit does.
func TestHostile_CELHelperCostIgnoresInputSize(t *testing.T) {
	scope := strings.TrimSuffix(strings.Repeat("a+", 500000), "+")
	doc := `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[` +
		`{"startedDateTime":"2026-03-02T10:00:00Z","request":{"method":"GET","url":"https://as.example.com/authorize?response_type=code&client_id=c1&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&state=s1&scope=` + scope + `","headers":[]},` +
		`"response":{"status":302,"headers":[{"name":"Location","value":"http://localhost:3000/cb?code=c0de&state=s1"}],"content":{}}}]}}`
	exs, _, err := har.Read(bytes.NewReader([]byte(doc)), "big-scope.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	r, issues := rules.Parse("loop.yaml", []byte(`id: X-HELPER-LOOP
engine: 1
title: a helper in a loop
severity: high
party: client
packs: [hostile]
applies-to: [authorize]
condition: "lists.range(20000).all(i, size(scopes(authorize.http.query['scope'][0])) > 0)"
message: m
fix: f
references: ["none"]
`))
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	eng, err := rules.Compile([]*rules.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	var fs []rules.Finding
	withDeadline(t, 10*time.Second, "one rule on one authorization request", func() {
		fs = eng.Run(res, rules.RunOptions{ExtraPacks: []string{"hostile"}})
	})
	if len(fs) != 1 || fs[0].Outcome != rules.Error {
		t.Errorf("findings %+v, want one error outcome (stopped by a limit)", fs)
	}
}
