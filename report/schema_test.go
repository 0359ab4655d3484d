package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/rules"
)

const reportSchemaFile = "schema/report.schema.json"

// The JSON Schema of the output is generated from the Go types of Report
// (json tags: names; omitempty: optional; doc comments: descriptions), so
// the struct stays the single source of the contract.

// schemaNode is one JSON Schema; field order is the order people read.
type schemaNode struct {
	Schema               string                 `json:"$schema,omitempty"`
	Title                string                 `json:"title,omitempty"`
	Description          string                 `json:"description,omitempty"`
	Ref                  string                 `json:"$ref,omitempty"`
	Type                 any                    `json:"type,omitempty"`
	Const                any                    `json:"const,omitempty"`
	Enum                 []string               `json:"enum,omitempty"`
	Format               string                 `json:"format,omitempty"`
	Items                *schemaNode            `json:"items,omitempty"`
	AnyOf                []*schemaNode          `json:"anyOf,omitempty"`
	Properties           map[string]*schemaNode `json:"properties,omitempty"`
	Required             []string               `json:"required,omitempty"`
	AdditionalProperties any                    `json:"additionalProperties,omitempty"`
	Defs                 map[string]*schemaNode `json:"$defs,omitempty"`
}

// enums are the named string types whose values are closed sets.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(rules.Severity("")): func() []string {
		var out []string
		for _, s := range rules.Severities {
			out = append(out, string(s))
		}
		return out
	}(),
	reflect.TypeOf(rules.Outcome("")): {string(rules.Fail), string(rules.NotAvailable), string(rules.Error)},
	reflect.TypeOf(rules.Party("")):   {string(rules.Client), string(rules.AS), string(rules.RS)},
	reflect.TypeOf(analyze.Kind("")): func() []string {
		var out []string
		for _, k := range analyze.MessageKinds {
			out = append(out, string(k))
		}
		return append(out, string(analyze.KindOther))
	}(),
}

// formats are string fields with a JSON Schema format.
var formats = map[string]string{"Step.Time": "date-time"}

type schemaGen struct {
	docs map[string]string // "Type" and "Type.Field" → doc comment
	defs map[string]*schemaNode
}

func generateSchema(t *testing.T) []byte {
	t.Helper()
	g := &schemaGen{docs: map[string]string{}, defs: map[string]*schemaNode{}}
	for _, dir := range []string{".", "../rules", "../capture", "../analyze"} {
		g.readDocs(t, dir)
	}
	root := g.object(reflect.TypeOf(Report{}))
	root.Schema = "https://json-schema.org/draft/2020-12/schema"
	root.Title = "oauthlint report"
	root.Description = fmt.Sprintf("The JSON output of oauthlint analyze --format json, schema_version %d. "+
		"Fields are only added within a schema version; a field is removed or changes meaning only with a new schema_version. "+
		"Generated from the Go types of package report; do not edit.", SchemaVersion)
	root.Properties["schema_version"] = &schemaNode{Description: root.Properties["schema_version"].Description, Const: SchemaVersion}
	root.Defs = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readDocs collects the doc comments of the struct types of a package.
func (g *schemaGen) readDocs(t *testing.T, dir string) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, dir+"/"+name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				if doc != nil {
					g.docs[ts.Name.Name] = cleanDoc(doc.Text())
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					text := ""
					if fl.Doc != nil {
						text = fl.Doc.Text()
					} else if fl.Comment != nil {
						text = fl.Comment.Text()
					}
					for _, n := range fl.Names {
						if text != "" {
							g.docs[ts.Name.Name+"."+n.Name] = cleanDoc(text)
						}
					}
				}
			}
		}
	}
}

func cleanDoc(s string) string { return strings.Join(strings.Fields(s), " ") }

// object returns the schema of a struct type, inline.
func (g *schemaGen) object(t reflect.Type) *schemaNode {
	n := &schemaNode{Type: "object", Description: g.docs[t.Name()], Properties: map[string]*schemaNode{}, AdditionalProperties: false}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		omitempty := strings.Contains(","+opts+",", ",omitempty,")
		p := g.typeOf(f.Type, !omitempty)
		desc := g.docs[t.Name()+"."+f.Name]
		if p.Ref != "" && desc != "" {
			// $ref with siblings is fine in 2020-12; keep the field's
			// own description next to the reference.
			p = &schemaNode{Ref: p.Ref, Description: desc}
		} else if desc != "" {
			p.Description = desc
		}
		if fm, ok := formats[t.Name()+"."+f.Name]; ok {
			p.Format = fm
		}
		n.Properties[name] = p
		if !omitempty {
			n.Required = append(n.Required, name)
		}
	}
	return n
}

// typeOf maps a Go type to a schema; named structs and enums become
// $defs. required: the field is always present, so a nil pointer would
// be null.
func (g *schemaGen) typeOf(t reflect.Type, required bool) *schemaNode {
	if t == reflect.TypeFor[time.Time]() {
		return &schemaNode{Type: "string", Format: "date-time"} // RFC 3339
	}
	if vals, ok := enums[t]; ok {
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = &schemaNode{Type: "string", Description: g.docs[name], Enum: vals}
		}
		return &schemaNode{Ref: "#/$defs/" + name}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.typeOf(t.Elem(), required)
		if required {
			return &schemaNode{AnyOf: []*schemaNode{inner, {Type: "null"}}}
		}
		return inner
	case reflect.Struct:
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = nil // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return &schemaNode{Ref: "#/$defs/" + name}
	case reflect.Slice:
		return &schemaNode{Type: "array", Items: g.typeOf(t.Elem(), true)}
	case reflect.Map:
		return &schemaNode{Type: "object", AdditionalProperties: g.typeOf(t.Elem(), true)}
	case reflect.String:
		return &schemaNode{Type: "string"}
	case reflect.Bool:
		return &schemaNode{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &schemaNode{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		return &schemaNode{Type: "number"}
	}
	panic("schema: unsupported type " + t.String())
}

// TestJSONSchemaUpToDate fails when the committed schema no longer
// matches the Go types (run go test ./report -update).
func TestJSONSchemaUpToDate(t *testing.T) {
	got := generateSchema(t)
	if *update {
		if err := os.WriteFile(reportSchemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(reportSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: the Go types of the report changed; run 'go test ./report -update' and review the diff\n%s",
			reportSchemaFile, firstDiff(string(got), string(want)))
	}
	if !bytes.Equal(JSONSchema, want) {
		t.Errorf("the embedded JSONSchema differs from %s (rebuild)", reportSchemaFile)
	}
}

// TestJSONOutputValidates checks every JSON output against the committed
// schema: types, required fields, enums, no undocumented field, no null
// where an array or object is promised.
func TestJSONOutputValidates(t *testing.T) {
	sch := compileSchema(t, reportSchemaFile)
	for name, r := range cases(t, false) {
		if err := validateJSON(t, sch, render(t, "json", r)); err != nil {
			t.Errorf("%s: JSON output does not validate against %s:\n%v", name, reportSchemaFile, err)
		}
	}
	shown := pipeline(t, true, secretsHAR)
	if err := validateJSON(t, sch, render(t, "json", shown)); err != nil {
		t.Errorf("--show-secrets JSON does not validate: %v", err)
	}
	// The schema is strict where it must be.
	bad := map[string]func(map[string]any){
		"null findings": func(m map[string]any) { m["findings"] = nil },
		"unknown field": func(m map[string]any) { m["extra"] = 1 },
		"bad outcome": func(m map[string]any) {
			m["findings"].([]any)[0].(map[string]any)["outcome"] = "passed"
		},
		"missing rule": func(m map[string]any) { delete(m["findings"].([]any)[0].(map[string]any), "rule") },
		"bad version":  func(m map[string]any) { m["schema_version"] = 2 },
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		var m map[string]any
		if err := json.Unmarshal(render(t, "json", synthetic()), &m); err != nil {
			t.Fatal(err)
		}
		bad[name](m)
		data, _ := json.Marshal(m)
		if err := validateJSON(t, sch, data); err == nil {
			t.Errorf("%s: validated, want an error", name)
		}
	}
}
