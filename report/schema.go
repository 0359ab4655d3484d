package report

import _ "embed"

// JSONSchema is the JSON Schema (draft 2020-12) of the JSON output, the
// documented contract (Report). The file is generated from the Go types
// and their doc comments by the package tests (go test ./report -update)
// and the tests fail when it is stale.
//
//go:embed schema/report.schema.json
var JSONSchema []byte
