package builtin

import (
	"testing"

	"github.com/oauthlint/oauthlint/rules"
)

func TestBuiltinRulesCompile(t *testing.T) {
	rs, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.Compile(rs); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.File() != "builtin/rules/"+r.ID+".yaml" {
			t.Errorf("rule %s is in %s; name the file after the id", r.ID, r.File())
		}
	}
}
