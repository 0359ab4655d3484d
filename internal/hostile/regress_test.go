package hostile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Problems the hostile corpus found in the readers, kept as regression
// tests: each says what went wrong and what is guaranteed now.

// TestUTF16HARHint: a HAR saved as UTF-16 (PowerShell's default for '>'
// redirection, some Windows editors) was refused as "not a capture
// oauthlint can read", which is misleading: it is a HAR. capture/input
// now hands it to the HAR reader, whose message says the file is UTF-16
// and how to convert it (iconv).
func TestUTF16HARHint(t *testing.T) {
	p := writeFile(t, filepath.Join(t.TempDir(), "utf16.har"), harUTF16())
	r := runBinary(t, time.Minute, "analyze", "--format", "json", p)
	if r.code != 2 || !strings.Contains(string(r.stderr), "UTF-16") || !strings.Contains(string(r.stderr), "iconv") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 saying the file is UTF-16 and how to convert it", r.code, r.stderr)
	}
}

// TestHARWarningsBounded: every unusable HAR entry used to add a warning
// without limit (20 000 entries with relative URLs: 20 000 stderr lines
// and all of them in inputs[].warnings). The HAR reader now keeps the
// first 200, as the pcap reader does, and ends with "N more warnings not
// shown".
func TestHARWarningsBounded(t *testing.T) {
	const n = 20000
	p := writeStream(t, filepath.Join(t.TempDir(), "bad-entries.har"), func(f *os.File) error { return harBadEntries(f, n) })
	r := runBinary(t, time.Minute, "analyze", "--format", "json", "--fail-on", "none", p)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, clip(string(r.stderr), 2000))
	}
	lines := strings.Count(string(r.stderr), "\n")
	var rep jsonReport
	if err := json.Unmarshal(r.stdout, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Inputs) != 1 {
		t.Fatalf("%d inputs", len(rep.Inputs))
	}
	const limit = 250
	if lines > limit || len(rep.Inputs[0].Warnings) > limit {
		t.Errorf("%d bad entries gave %d lines on stderr and %d warnings in the report; want at most %d of each, the rest counted",
			n, lines, len(rep.Inputs[0].Warnings), limit)
	}
}
