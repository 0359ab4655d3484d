// Package docsgen generates the committed reference files from the code
// they describe, so they cannot drift: the JSON Schema of a rule file
// (from the rules.Rule struct and its comments) and docs/rules.md (every
// built-in rule, the rows not implemented and why, the expression
// reference from the analyze view types). `go test ./internal/docsgen
// -update` rewrites them; the test fails when they are stale.
package docsgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/oauthlint/oauthlint/rules"
)

// RuleSchema returns the JSON Schema of a rule file. root is the
// repository root (Go comments are read from the source).
func RuleSchema(root string) ([]byte, error) {
	r := &jsonschema.Reflector{FieldNameTag: "yaml", ExpandedStruct: true}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		return nil, err
	}
	err := r.AddGoComments("github.com/oauthlint/oauthlint", "rules")
	os.Chdir(wd)
	if err != nil {
		return nil, fmt.Errorf("reading rule comments: %w", err)
	}
	s := r.Reflect(&rules.Rule{})
	s.ID = "https://github.com/oauthlint/oauthlint/rules/rule.schema.json"
	s.Title = "oauthlint rule file"
	s.Description = "One oauthlint rule: YAML with CEL expressions. Generated from rules.Rule; do not edit."
	sev := []any{}
	for _, x := range rules.Severities {
		sev = append(sev, string(x))
	}
	kinds := []any{}
	for _, k := range rules.ValidKinds() {
		kinds = append(kinds, k)
	}
	requires := []any{}
	for _, k := range rules.ValidKinds()[1:] {
		requires = append(requires, k)
	}
	for _, p := range rules.RequirableParts {
		requires = append(requires, p)
	}
	if p, ok := s.Properties.Get("severity"); ok {
		p.Enum = sev
	}
	if p, ok := s.Properties.Get("party"); ok {
		p.Enum = []any{"client", "as", "rs"}
	}
	if p, ok := s.Properties.Get("id"); ok {
		p.Pattern = `^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`
	}
	if p, ok := s.Properties.Get("engine"); ok {
		p.Const = rules.EngineVersion
	}
	if p, ok := s.Properties.Get("applies-to"); ok && p.Items != nil {
		p.Items.Enum = kinds
		p.MinItems = ptr(uint64(1))
	}
	if p, ok := s.Properties.Get("requires"); ok && p.Items != nil {
		p.Items.Enum = requires
	}
	if p, ok := s.Properties.Get("packs"); ok && p.Items != nil {
		p.Items.Pattern = `^[a-z0-9][a-z0-9.-]*$`
		p.MinItems = ptr(uint64(1))
	}
	if d, ok := s.Definitions["SeverityCase"]; ok {
		if p, ok := d.Properties.Get("severity"); ok {
			p.Enum = sev
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func ptr[T any](v T) *T { return &v }

// NotPassive is a catalog row deliberately not implemented.
type NotPassive struct {
	ID     string `yaml:"id"`
	Reason string `yaml:"reason"`
}

// RulesDoc renders docs/rules.md.
func RulesDoc(root string, rs []*rules.Rule) ([]byte, error) {
	var np []NotPassive
	data, err := os.ReadFile(filepath.Join(root, "internal/docsgen/not-passive.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, &np); err != nil {
		return nil, fmt.Errorf("not-passive.yaml: %w", err)
	}
	comments, err := fieldComments(filepath.Join(root, "analyze"))
	if err != nil {
		return nil, err
	}
	rs = append([]*rules.Rule{}, rs...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })

	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# oauthlint rule reference\n\n")
	w("Generated from the rule files and the Go types by `go test ./internal/docsgen -update`; do not edit by hand.\n\n")
	w("%d built-in rules. Severity follows the requirement level: MUST → high (critical for credential leakage), SHOULD → medium, interop and heuristics → low/info.\n\n", len(rs))

	// Packs.
	packs := map[string]int{}
	for _, r := range rs {
		for _, p := range r.Packs {
			packs[p]++
		}
	}
	w("## Packs\n\n| pack | rules | applies to |\n|---|---|---|\n")
	for _, p := range rules.BuiltinPacks {
		what := "every flow"
		switch {
		case p == rules.PackOIDC:
			what = "OpenID Connect flows (openid scope or an OpenID provider configuration)"
		case strings.HasPrefix(p, "mcp-"):
			what = "flows whose MCP revision is " + strings.TrimPrefix(p, "mcp-")
		}
		w("| `%s` | %d | %s |\n", p, packs[p], what)
	}
	w("\n")

	// Index by section.
	sections := map[string][]*rules.Rule{}
	var prefixes []string
	for _, r := range rs {
		p := strings.SplitN(r.ID, "-", 2)[0]
		if _, ok := sections[p]; !ok {
			prefixes = append(prefixes, p)
		}
		sections[p] = append(sections[p], r)
	}
	sort.Strings(prefixes)
	w("## Index\n\n| rule | party | severity | title |\n|---|---|---|---|\n")
	for _, r := range rs {
		w("| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Party, r.Severity, mdCell(r.Title))
	}
	w("\n")
	holes := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	for _, p := range prefixes {
		w("## %s\n\n", p)
		for _, r := range sections[p] {
			w("### %s\n\n**%s**\n\n", r.ID, mdCell(r.Title))
			sev := string(r.Severity)
			for _, c := range r.SeverityCases {
				sev += fmt.Sprintf("; %s when `%s`", c.Severity, oneLine(c.When))
			}
			w("- level: %s\n- severity: %s\n- party: %s\n- packs: %s\n- applies to: %s", orDash(r.Level), sev, r.Party.Describe(),
				"`"+strings.Join(r.Packs, "`, `")+"`", strings.Join(r.AppliesTo, ", "))
			if len(r.Requires) > 0 {
				w(" (also reads %s)", strings.Join(r.Requires, ", "))
			}
			w("\n- references: %s\n", strings.Join(r.References, "; "))
			if len(r.Supersedes) > 0 {
				w("- supersedes: %s (reported instead of them on the same exchange)\n", strings.Join(r.Supersedes, ", "))
			}
			w("\n")
			if r.Motivation != "" {
				w("%s\n\n", oneLine(r.Motivation))
			}
			if r.When != "" {
				w("Applies when: `%s`\n\n", oneLine(r.When))
			}
			w("Violation when: `%s`\n\n", oneLine(r.Condition))
			w("Fix: %s\n\n", oneLine(holes.ReplaceAllString(r.Fix, "…")))
			if r.Example != "" {
				w("Example:\n\n```\n%s\n```\n\n", strings.TrimSpace(r.Example))
			}
		}
	}
	w("## Not implemented: not passively checkable\n\n| catalog row | why |\n|---|---|\n")
	for _, n := range np {
		w("| %s | %s |\n", n.ID, mdCell(n.Reason))
	}
	w("\n## Expression reference\n\n")
	w("Rules are CEL expressions over these variables. A rule that applies to a kind gets each message of that kind in turn; the other variables hold the flow's message in effect of their kind, or an empty view (every field at its zero value; test presence with `has(flow.authorize)` or `x.http.id != 0`).\n\n")
	w("| variable | type |\n|---|---|\n")
	for _, v := range rules.Variables() {
		t := v.Type.Name()
		if v.List {
			t = "list of " + t
		}
		w("| `%s` | [%s](#type-%s) |\n", v.Name, t, strings.ToLower(v.Type.Name()))
	}
	w("\n")
	for _, t := range viewTypes() {
		w("### Type %s\n\n", t.Name())
		if c := comments[t.Name()]; c != "" {
			w("%s\n\n", oneLine(c))
		}
		w("| field | CEL type | meaning |\n|---|---|---|\n")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := f.Tag.Get("cel")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			w("| `%s` | %s | %s |\n", name, celType(f.Type), mdCell(oneLine(comments[t.Name()+"."+f.Name])))
		}
		w("\n")
	}
	w("### Functions\n\n| function | meaning |\n|---|---|\n")
	var fns []string
	for k := range rules.FunctionDocs {
		fns = append(fns, k)
	}
	sort.Strings(fns)
	for _, k := range fns {
		w("| `%s` | %s |\n", k, mdCell(rules.FunctionDocs[k]))
	}
	w("\nPlus CEL's standard functions and the string, list and set extensions (`split`, `join`, `lists.range`, `sets.contains`, …).\n")
	return b.Bytes(), nil
}

// viewTypes are every struct type reachable from the rule variables.
func viewTypes() []reflect.Type {
	seen := map[reflect.Type]bool{}
	var out []reflect.Type
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "" || !strings.Contains(t.PkgPath(), "oauthlint") {
			return
		}
		seen[t] = true
		out = append(out, t)
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("cel") != "" && f.Tag.Get("cel") != "-" {
				walk(f.Type)
			}
		}
	}
	for _, v := range rules.Variables() {
		walk(v.Type)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func celType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return celType(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "int"
	case reflect.Float64:
		return "double"
	case reflect.Slice:
		return "list(" + celType(t.Elem()) + ")"
	case reflect.Map:
		return "map(" + celType(t.Key()) + ", " + celType(t.Elem()) + ")"
	case reflect.Interface:
		return "dyn"
	case reflect.Struct:
		return fmt.Sprintf("[%s](#type-%s)", t.Name(), strings.ToLower(t.Name()))
	}
	return t.String()
}

// fieldComments reads the doc comments of the types and fields of a Go
// package directory: "Type" and "Type.Field" → text.
func fieldComments(dir string) (map[string]string, error) {
	fset := token.NewFileSet()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/oauthlint/oauthlint/analyze", doc.AllDecls|doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	for _, t := range pkg.Types {
		out[t.Name] = t.Doc
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := ""
				if f.Doc != nil {
					text = f.Doc.Text()
				} else if f.Comment != nil {
					text = f.Comment.Text()
				}
				for _, n := range f.Names {
					out[t.Name+"."+n.Name] = text
				}
			}
		}
	}
	return out, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
