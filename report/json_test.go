package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The JSON printer writes list members one at a time; its output must stay
// byte for byte what encoding/json writes for the whole report.
func TestJSONPrinterMatchesEncoder(t *testing.T) {
	for name, r := range map[string]*Report{"synthetic": synthetic(), "empty": emptyReport(), "nil lists": {SchemaVersion: 1}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := (jsonPrinter{}).Print(&got, r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: the streaming printer differs from encoding/json:\n got %.400s\nwant %.400s", name, got.String(), want.String())
		}
	}
}

// Every member of Report must be written by the printer, in order.
func TestJSONPrinterCoversReport(t *testing.T) {
	var got bytes.Buffer
	if err := (jsonPrinter{}).Print(&got, emptyReport()); err != nil {
		t.Fatal(err)
	}
	rt := reflect.TypeFor[Report]()
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if !strings.Contains(got.String(), `"`+tag+`":`) {
			t.Errorf("Report.%s (%q) is not written by the JSON printer", rt.Field(i).Name, tag)
		}
	}
}
