package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Issue is one problem in a rule file, located precisely.
type Issue struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"message"`
}

func (i Issue) String() string {
	if i.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", i.File, i.Line, i.Col, i.Msg)
	}
	return fmt.Sprintf("%s: %s", i.File, i.Msg)
}

// LoadError lists every problem found in a set of rule files.
type LoadError struct{ Issues []Issue }

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) in rule files:", len(e.Issues))
	for _, i := range e.Issues {
		b.WriteString("\n  ")
		b.WriteString(i.String())
	}
	return b.String()
}

// LoadDir loads every rule file (*.yaml, *.yml) under dir, recursively.
func LoadDir(dir string) ([]*Rule, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("rules: %s is not a directory", dir)
	}
	return loadFS(os.DirFS(dir), ".", func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) })
}

// LoadFS loads every rule file under root in fsys; names in messages are
// prefixed with prefix.
func LoadFS(fsys fs.FS, root, prefix string) ([]*Rule, error) {
	return loadFS(fsys, root, func(p string) string { return path.Join(prefix, p) })
}

func loadFS(fsys fs.FS, root string, name func(string) string) ([]*Rule, error) {
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	sort.Strings(files)
	var out []*Rule
	var issues []Issue
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			issues = append(issues, Issue{File: name(f), Msg: err.Error()})
			continue
		}
		r, is := Parse(name(f), data)
		issues = append(issues, is...)
		if r != nil {
			out = append(out, r)
		}
	}
	issues = append(issues, checkDuplicates(out)...)
	if len(issues) > 0 {
		return out, &LoadError{Issues: issues}
	}
	return out, nil
}

func checkDuplicates(rs []*Rule) []Issue {
	var issues []Issue
	seen := map[string]*Rule{}
	for _, r := range rs {
		if r.ID == "" {
			continue
		}
		if prev, ok := seen[r.ID]; ok {
			p := r.pos["id"]
			issues = append(issues, Issue{File: r.file, Line: p.line, Col: p.col,
				Msg: fmt.Sprintf("rule id %s is already defined in %s", r.ID, prev.file)})
			continue
		}
		seen[r.ID] = r
	}
	return issues
}

// yamlFields maps each YAML key of a struct type to whether it exists.
func yamlFields(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}

var (
	ruleFields     = yamlFields(reflect.TypeFor[Rule]())
	caseFields     = yamlFields(reflect.TypeFor[SeverityCase]())
	evidenceFields = yamlFields(reflect.TypeFor[EvidenceSpec]())
	yamlLineRe     = regexp.MustCompile(`line (\d+): (.*)`)
)

// Parse reads one rule file. It returns the rule (possibly incomplete)
// and every problem found, each with its line and column.
func Parse(file string, data []byte) (*Rule, []Issue) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Issue{yamlIssue(file, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, []Issue{{File: file, Line: 1, Col: 1, Msg: "empty rule file"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []Issue{{File: file, Line: root.Line, Col: root.Column, Msg: "a rule file must be a YAML mapping (id: …, title: …, condition: …)"}}
	}
	r := &Rule{file: file, pos: map[string]position{}}
	var issues []Issue
	issues = append(issues, checkKeys(file, root, ruleFields, "")...)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		r.pos[k.Value] = valuePos(v)
		switch k.Value {
		case "severity-cases":
			for j, item := range v.Content {
				if item.Kind == yaml.MappingNode {
					issues = append(issues, checkKeys(file, item, caseFields, fmt.Sprintf("severity-cases[%d].", j))...)
					recordPos(r.pos, fmt.Sprintf("severity-cases[%d].", j), item)
				}
			}
		case "evidence":
			for j, item := range v.Content {
				if item.Kind == yaml.MappingNode {
					issues = append(issues, checkKeys(file, item, evidenceFields, fmt.Sprintf("evidence[%d].", j))...)
					recordPos(r.pos, fmt.Sprintf("evidence[%d].", j), item)
				}
			}
		}
	}
	if err := root.Decode(r); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				issues = append(issues, yamlIssue(file, errors.New(msg)))
			}
		} else {
			issues = append(issues, yamlIssue(file, err))
		}
	}
	r.file = file
	issues = append(issues, r.validate()...)
	return r, issues
}

func recordPos(m map[string]position, prefix string, n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[prefix+n.Content[i].Value] = valuePos(n.Content[i+1])
	}
}

// valuePos is where a value's text starts: block scalars (| and >) start
// on the next line.
func valuePos(v *yaml.Node) position {
	if v.Kind == yaml.ScalarNode && (v.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		return position{line: v.Line + 1, col: v.Column + 2}
	}
	col := v.Column
	if v.Kind == yaml.ScalarNode && (v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
		col++
	}
	return position{line: v.Line, col: col}
}

func checkKeys(file string, n *yaml.Node, allowed map[string]bool, prefix string) []Issue {
	var issues []Issue
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			issues = append(issues, Issue{File: file, Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("%s%s is given twice", prefix, k.Value)})
		}
		seen[k.Value] = true
		if !allowed[k.Value] {
			msg := fmt.Sprintf("unknown field %s%s", prefix, k.Value)
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			issues = append(issues, Issue{File: file, Line: k.Line, Col: k.Column, Msg: msg})
		}
	}
	return issues
}

// suggest returns the allowed key closest to k, if close enough.
func suggest(k string, allowed map[string]bool) string {
	best, bestD := "", 3
	for a := range allowed {
		if d := editDistance(k, a); d < bestD || (d == bestD && a < best) {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func yamlIssue(file string, err error) Issue {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return Issue{File: file, Line: line, Col: 1, Msg: m[2]}
	}
	return Issue{File: file, Msg: msg}
}

// Merge adds extra to base, leaving out every rule of extra that is an
// exact copy of a base rule with the same ID (the shipped built-in pack
// directory passed to --rules or `rules lint`, or a copy of it). A rule
// that shares an ID but differs is kept, so Compile reports the clash.
func Merge(base, extra []*Rule) []*Rule {
	byID := make(map[string]*Rule, len(base))
	for _, r := range base {
		byID[r.ID] = r
	}
	out := append([]*Rule{}, base...)
	for _, r := range extra {
		if b, ok := byID[r.ID]; ok && sameDefinition(b, r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sameDefinition compares the YAML-visible fields, not where they came from.
func sameDefinition(a, b *Rule) bool {
	x, y := *a, *b
	x.file, y.file = "", ""
	x.pos, y.pos = nil, nil
	return reflect.DeepEqual(x, y)
}
