// Package builtin embeds oauthlint's built-in rule packs: one YAML file per
// rule under rules/, named by rule ID, with fixtures under testdata/.
package builtin

import (
	"embed"
	"sync"

	"github.com/oauthlint/oauthlint/rules"
)

//go:embed rules/*.yaml
var files embed.FS

var (
	once   sync.Once
	loaded []*rules.Rule
	err    error
)

// Rules returns the built-in rules. They are validated by the tests, so an
// error here means a broken build.
func Rules() ([]*rules.Rule, error) {
	once.Do(func() {
		loaded, err = rules.LoadFS(files, "rules", "builtin")
	})
	return loaded, err
}
