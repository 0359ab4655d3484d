package report

import (
	"encoding/json"
	"io"
)

type jsonPrinter struct{}

// Print writes the report as indented JSON (the documented contract).
func (jsonPrinter) Print(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
