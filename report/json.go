package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
)

type jsonPrinter struct{}

// Print writes the report as indented JSON (the documented contract).
//
// The output is byte for byte what json.Encoder with a two-space indent
// writes for the whole Report, but the list members (flows, findings,
// rules) are encoded one element at a time: encoding/json builds the
// whole document in memory, twice with indentation, which for the
// thousands of findings of a large capture was the run's peak of memory.
func (jsonPrinter) Print(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encode writes v indented as at the given depth, without the
	// encoder's trailing newline.
	encode := func(v any, depth int) error {
		buf.Reset()
		enc.SetIndent(strings.Repeat("  ", depth), "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	list := func(v any) error {
		rv := reflect.ValueOf(v)
		if rv.IsNil() || rv.Len() == 0 {
			return encode(v, 1)
		}
		bw.WriteString("[\n")
		for i := 0; i < rv.Len(); i++ {
			bw.WriteString("    ")
			if err := encode(rv.Index(i).Interface(), 2); err != nil {
				return err
			}
			if i < rv.Len()-1 {
				bw.WriteString(",")
			}
			bw.WriteString("\n")
		}
		_, err := bw.WriteString("  ]")
		return err
	}
	fields := []struct {
		name  string
		value any
		list  bool
	}{
		{"schema_version", r.SchemaVersion, false},
		{"tool", r.Tool, false},
		{"inputs", r.Inputs, false},
		{"flows", r.Flows, true},
		{"findings", r.Findings, true},
		{"stats", r.Stats, false},
		{"rules", r.Rules, true},
	}
	bw.WriteString("{\n")
	for i, f := range fields {
		bw.WriteString(`  "` + f.name + `": `)
		var err error
		if f.list {
			err = list(f.value)
		} else {
			err = encode(f.value, 1)
		}
		if err != nil {
			return err
		}
		if i < len(fields)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}
