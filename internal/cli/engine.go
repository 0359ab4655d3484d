package cli

import (
	"fmt"

	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

// RuleSource says which rules to load: the built-in packs plus custom
// directories, tuned by a config file.
type RuleSource struct {
	Dirs   []string
	Config string
}

// load returns the rules after the config removed disabled ones, and the
// parsed config (nil when none).
func (s RuleSource) load() ([]*rules.Rule, *rules.Config, error) {
	rs, err := builtin.Rules()
	if err != nil {
		return nil, nil, &exitError{code: ExitInternal, err: fmt.Errorf("built-in rules: %w", err)}
	}
	rs = append([]*rules.Rule{}, rs...)
	for _, d := range s.Dirs {
		custom, err := rules.LoadDir(d)
		if err != nil {
			return nil, nil, usageError("--rules %s: %v", d, err)
		}
		rs = rules.Merge(rs, custom)
	}
	var cfg *rules.Config
	if s.Config != "" {
		cfg, err = rules.LoadConfig(s.Config)
		if err != nil {
			return nil, nil, usageError("--config: %v", err)
		}
		if rs, err = cfg.Apply(rs); err != nil {
			return nil, nil, usageError("--config: %v", err)
		}
	}
	return rs, cfg, nil
}

// engine loads and compiles the rules.
func (s RuleSource) engine() (*rules.Engine, *rules.Config, error) {
	rs, cfg, err := s.load()
	if err != nil {
		return nil, nil, err
	}
	e, err := s.compile(rs)
	if err != nil {
		return nil, nil, err
	}
	return e, cfg, nil
}

// compile compiles loaded rules; a failure is the user's when custom
// rules are loaded, an internal error otherwise.
func (s RuleSource) compile(rs []*rules.Rule) (*rules.Engine, error) {
	compile := rules.Compile
	if len(s.Dirs) == 0 {
		// Only built-in rules, which the tests compile in full: the
		// parts a rule needs only when it fires wait until it does.
		compile = rules.CompileDeferred
	}
	e, err := compile(rs)
	if err != nil {
		if len(s.Dirs) > 0 {
			return nil, usageError("rules do not compile: %v", err)
		}
		return nil, &exitError{code: ExitInternal, err: err}
	}
	return e, nil
}

// customPacks returns the pack names used by rules outside the built-in
// packs: they are active on every flow when packs are chosen
// automatically.
func customPacks(rs []*rules.Rule) []string {
	builtinPack := map[string]bool{}
	for _, p := range rules.BuiltinPacks {
		builtinPack[p] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		for _, p := range r.Packs {
			if !builtinPack[p] && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
