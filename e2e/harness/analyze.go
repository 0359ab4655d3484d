package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oauthlint/oauthlint/e2e/manifest"
)

// Analyze runs `oauthlint analyze --format json` on captures with the
// manifest's extra flags (and --keylog when given) and returns the parsed
// report and its bytes.
func Analyze(oauthlint string, extra []string, keylog string, files ...string) (*manifest.Report, []byte, error) {
	args := []string{"analyze", "--format", "json", "--fail-on", "none"}
	args = append(args, extra...)
	if keylog != "" {
		args = append(args, "--keylog", keylog)
	}
	args = append(args, files...)
	cmd := exec.Command(oauthlint, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("oauthlint %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	r, err := manifest.ParseReport(out.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("oauthlint %s: %w", strings.Join(args, " "), err)
	}
	return r, out.Bytes(), nil
}

// InputKind says which kind of input a capture file is, by its name: a
// .json file is the JSON report of a live capture.
func InputKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return manifest.InputLive
	case ".har":
		return manifest.InputHAR
	default:
		return manifest.InputPcap
	}
}

// CheckFile checks one capture (or live JSON report) against a manifest and
// returns the report and the problems found.
func CheckFile(oauthlint string, m *manifest.Manifest, file, keylog string) (*manifest.Report, []string, error) {
	kind := InputKind(file)
	var r *manifest.Report
	if kind == manifest.InputLive {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		if r, err = manifest.ParseReport(b); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
	} else {
		var err error
		if r, _, err = Analyze(oauthlint, m.Analyze, keylog, file); err != nil {
			return nil, nil, err
		}
	}
	return r, m.Check(r, kind), nil
}
