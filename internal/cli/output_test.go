package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -o FORMAT=FILE writes further reports besides stdout.
func TestOutputFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"sarif": filepath.Join(dir, "out.sarif"), "html": filepath.Join(dir, "report.html"),
		"junit": filepath.Join(dir, "junit.xml"), "md": filepath.Join(dir, "review.md"), "json": filepath.Join(dir, "report.json"),
	}
	args := []string{"analyze", "--format", "json", "--fail-on", "none"}
	for f, p := range files {
		args = append(args, "-o", f+"="+p)
	}
	code, out, errs := run(t, "", append(args, example)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	stdout := parseReport(t, out)
	for f, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("-o %s: %v", f, err)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o644 {
			t.Errorf("-o %s: mode %v, want 0644", f, st.Mode().Perm())
		}
		switch f {
		case "sarif":
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []json.RawMessage `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
				t.Errorf("sarif file: %v %+v", err, log)
			} else if len(log.Runs[0].Results) != len(stdout.Findings) {
				t.Errorf("sarif has %d results, the JSON %d findings", len(log.Runs[0].Results), len(stdout.Findings))
			}
		case "html":
			if !strings.HasPrefix(string(data), "<!DOCTYPE html>") || !strings.Contains(string(data), "<svg") {
				t.Errorf("html file does not look like the report")
			}
		case "junit":
			var v struct {
				XMLName xml.Name
			}
			if err := xml.Unmarshal(data, &v); err != nil || v.XMLName.Local != "testsuites" {
				t.Errorf("junit file: %v %v", err, v.XMLName)
			}
		case "md":
			if !strings.HasPrefix(string(data), "# oauthlint report") {
				t.Errorf("markdown file starts with %.40q", data)
			}
		case "json":
			if string(data) != out {
				t.Errorf("-o json differs from --format json on stdout")
			}
		}
	}
	// Only the reports are left in the directory: no temporary files.
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(files) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v", names)
	}
}

func TestOutputFilesShowSecretsPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret.html")
	if code, _, errs := run(t, "", "analyze", "--format", "tsv", "--fail-on", "none", "--show-secrets", "-o", "html="+p, example); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("a report with secrets has mode %v, want 0600", st.Mode().Perm())
	}
}

// Bad -o values are usage errors, reported before any input is read
// (the input here does not even exist).
func TestOutputFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		spec string
		want string
	}{
		{"sarif", "want FORMAT=FILE"},
		{"=out.sarif", "want FORMAT=FILE"},
		{"sarif=", "want FORMAT=FILE"},
		{"pdf=" + filepath.Join(dir, "x.pdf"), "unknown format"},
		{"sarif=" + filepath.Join(dir, "missing", "x.sarif"), "does not exist"},
		{"sarif=" + dir, "is a directory"},
		{"sarif=-", "use --format sarif"},
	} {
		code, _, errs := run(t, "", "analyze", "-o", tc.spec, "no-such-capture.har")
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("-o %q: exit %d, stderr %q; want exit 2 with %q", tc.spec, code, errs, tc.want)
		}
	}
	p := filepath.Join(dir, "a.out")
	code, _, errs := run(t, "", "analyze", "-o", "sarif="+p, "-o", "json="+p, "no-such-capture.har")
	if code != ExitUsage || !strings.Contains(errs, "already the target") {
		t.Errorf("same file twice: exit %d, %q", code, errs)
	}
}
