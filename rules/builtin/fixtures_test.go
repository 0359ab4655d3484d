package builtin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/rules"
)

// TestFixtures runs every fixture under testdata/ against every built-in
// rule: each rule must fire exactly where its fixtures say, and nowhere
// else in any fixture.
func TestFixtures(t *testing.T) {
	rs, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rules.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	files, err := rules.FixtureFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, "testdata/"), func(t *testing.T) {
			res, err := eng.RunFixture(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Problems {
				t.Error(p)
			}
		})
	}
}

// TestEveryRuleHasFixtures: a rule is only shipped with a capture where it
// fires and one where it must stay silent.
func TestEveryRuleHasFixtures(t *testing.T) {
	rs, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		ents, err := os.ReadDir(filepath.Join("testdata", r.ID))
		if err != nil {
			t.Errorf("%s: no fixtures (testdata/%s/fire-*.har and silent-*.har)", r.ID, r.ID)
			continue
		}
		var fire, silent bool
		for _, e := range ents {
			fire = fire || strings.HasPrefix(e.Name(), "fire")
			silent = silent || strings.HasPrefix(e.Name(), "silent")
		}
		if !fire || !silent {
			t.Errorf("%s: needs a fire-*.har and a silent-*.har fixture", r.ID)
		}
		// The fire fixture must really expect the rule.
		found := false
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "fire") {
				b, _ := os.ReadFile(filepath.Join("testdata", r.ID, e.Name()))
				if strings.Contains(string(b), r.ID) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: no fire fixture expects it", r.ID)
		}
	}
}
