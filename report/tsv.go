package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

type tsvPrinter struct{}

var tsvHeader = []string{"severity", "outcome", "rule", "party", "flow", "exchange", "ref", "message", "fix", "evidence", "references"}

// Print writes one line per finding, tab-separated, with a header line:
// stable, greppable output for pipes. Tabs and newlines inside values are
// replaced by spaces.
func (tsvPrinter) Print(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(tsvHeader, "\t"))
	bw.WriteByte('\n')
	for _, f := range r.Findings {
		ref := ""
		var ev []string
		for _, e := range f.Evidence {
			if ref == "" && e.Exchange == f.Anchor {
				ref = e.Ref.String()
			}
			ev = append(ev, fmt.Sprintf("%s=%s", e.Field, e.Value))
		}
		cols := []string{string(f.Severity), string(f.Outcome), f.Rule, string(f.Party), strings.Join(f.Flows, ","),
			fmt.Sprint(f.Anchor), ref, f.Message, f.Fix, strings.Join(ev, "; "), strings.Join(f.References, "; ")}
		for i, c := range cols {
			cols[i] = tsvClean(c)
		}
		bw.WriteString(strings.Join(cols, "\t"))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

var tsvReplacer = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")

func tsvClean(s string) string { return tsvReplacer.Replace(s) }
