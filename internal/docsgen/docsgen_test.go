package docsgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthlint/oauthlint/rules/builtin"
)

var update = flag.Bool("update", false, "rewrite the generated reference files")

func check(t *testing.T, path string, want []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/docsgen -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: the rules or the types it documents changed (run: go test ./internal/docsgen -update)", path)
	}
}

func TestRuleSchemaUpToDate(t *testing.T) {
	b, err := RuleSchema("../..")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	check(t, "../../rules/rule.schema.json", b)
}

func TestRulesDocUpToDate(t *testing.T) {
	rs, err := builtin.Rules()
	if err != nil {
		t.Fatal(err)
	}
	b, err := RulesDoc("../..", rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !bytes.Contains(b, []byte("### "+r.ID+"\n")) {
			t.Errorf("docs lack %s", r.ID)
		}
	}
	check(t, "../../docs/rules.md", b)
}
