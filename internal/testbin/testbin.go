// Package testbin builds the oauthlint command for tests that run the real
// binary (a killed capture, hostile inputs, end-to-end scenarios).
package testbin

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles ./cmd/oauthlint into dir and returns the binary's path.
// It uses the go command of the toolchain running the tests (so a pinned
// GOTOOLCHAIN builds with the same one), else the one on PATH; extra
// arguments (e.g. "-race") go to go build.
func Build(dir string, extra ...string) (string, error) {
	bin := filepath.Join(dir, "oauthlint")
	gotool := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		gotool = "go"
	}
	args := append([]string{"build", "-o", bin}, extra...)
	args = append(args, "github.com/oauthlint/oauthlint/cmd/oauthlint")
	if out, err := exec.Command(gotool, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/oauthlint: %v\n%s", err, out)
	}
	return bin, nil
}
