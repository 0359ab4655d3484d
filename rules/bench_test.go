package rules_test

import (
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

// BenchmarkRunBuiltin judges the real conformance capture (22 flows) with
// every built-in rule: the engine's per-evaluation overhead (cost
// tracking, deadlines, partial evaluation) shows here.
// Run: go test ./rules -run '^$' -bench RunBuiltin -benchmem
func BenchmarkRunBuiltin(b *testing.B) {
	exs, _, err := har.ReadFile("../analyze/testdata/conformance-auth.sdk-example.har", har.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rs, err := builtin.Rules()
	if err != nil {
		b.Fatal(err)
	}
	e, err := rules.Compile(rs)
	if err != nil {
		b.Fatal(err)
	}
	tl := capture.Timeline(exs)
	b.ResetTimer()
	for b.Loop() {
		res := analyze.Analyze(tl, analyze.Options{MCPRevision: "auto"})
		if fs := e.Run(res, rules.RunOptions{}); len(fs) == 0 {
			b.Fatal("no findings")
		}
	}
}
