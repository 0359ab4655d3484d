// Package repocaptures reads the captures committed in the repository
// that tests run whole analyses on: every rule fixture (the fire and
// near-miss captures of each built-in rule), the examples and analyze's
// own corpus, thousands of real-shaped OAuth and MCP messages.
package repocaptures

import (
	"path/filepath"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
)

// Read reads every such capture under root, the repository's root as
// seen from the test's directory (".." for a package one level down),
// by file path. It fails the test when fewer than 100 are found (a
// wrong root) or one cannot be read.
func Read(tb testing.TB, root string) map[string][]*capture.Exchange {
	tb.Helper()
	var files []string
	for _, glob := range []string{"rules/builtin/testdata/*/*.har", "examples/*.har", "analyze/testdata/*.har"} {
		m, _ := filepath.Glob(filepath.Join(root, glob))
		files = append(files, m...)
	}
	if len(files) < 100 {
		tb.Fatalf("only %d captures found under %s", len(files), root)
	}
	out := make(map[string][]*capture.Exchange, len(files))
	for _, f := range files {
		exs, _, err := input.Read(f, input.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		out[f] = exs
	}
	return out
}
