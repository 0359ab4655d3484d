package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Printer writes a report in one format.
type Printer interface {
	Print(w io.Writer, r *Report) error
}

// Options tune printers.
type Options struct {
	// Width is the terminal width for the table printer (0: 120).
	Width int
	// Color enables ANSI colours in the table printer.
	Color bool
}

var printers = map[string]func(Options) Printer{
	"json":     func(Options) Printer { return jsonPrinter{} },
	"tsv":      func(Options) Printer { return tsvPrinter{} },
	"table":    func(o Options) Printer { return tablePrinter{opts: o} },
	"sarif":    func(Options) Printer { return sarifPrinter{} },
	"markdown": func(Options) Printer { return markdownPrinter{} },
	"html":     func(Options) Printer { return htmlPrinter{} },
	"junit":    func(Options) Printer { return junitPrinter{} },
}

// aliases are accepted spellings of format names.
var aliases = map[string]string{"md": "markdown"}

// Formats lists the format names New accepts.
func Formats() []string {
	out := make([]string, 0, len(printers))
	for k := range printers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New returns the printer for a format name.
func New(format string, o Options) (Printer, error) {
	name := strings.ToLower(strings.TrimSpace(format))
	if a, ok := aliases[name]; ok {
		name = a
	}
	p, ok := printers[name]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	return p(o), nil
}
