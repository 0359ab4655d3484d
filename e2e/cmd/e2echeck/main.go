// Command e2echeck checks captures against an e2e scenario manifest: each
// capture must give the findings the manifest lists and no unexpected fail
// finding, and all of them the same fail findings. It is how a capture made
// outside the harness (another machine, another client build) is judged by
// the same expectations as the harness's own runs.
//
//	go run ./e2e/cmd/e2echeck [-oauthlint BIN] [-keylog FILE] MANIFEST CAPTURE...
//
// A CAPTURE is a HAR, a pcap/pcapng (decrypted with -keylog when it holds
// TLS) or the JSON report of `oauthlint capture --format json` (*.json).
// Exit status: 0 when everything matches, 1 when something does not, 2 on a
// usage or input error.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oauthlint/oauthlint/e2e/harness"
	"github.com/oauthlint/oauthlint/e2e/manifest"
)

func main() {
	os.Exit(run())
}

func run() int {
	oauthlint := flag.String("oauthlint", "", "the oauthlint binary (default: oauthlint on PATH, else built from this module)")
	keylog := flag.String("keylog", "", "TLS key log (SSLKEYLOGFILE format) for pcap captures")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: e2echeck [-oauthlint BIN] [-keylog FILE] MANIFEST CAPTURE...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 2 {
		flag.Usage()
		return 2
	}
	m, err := manifest.Load(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2echeck: %v\n", err)
		return 2
	}
	bin, cleanup, err := findOauthlint(*oauthlint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2echeck: %v\n", err)
		return 2
	}
	defer cleanup()

	bad := false
	var first []string
	firstName := ""
	for _, file := range flag.Args()[1:] {
		kl := ""
		if harness.InputKind(file) == manifest.InputPcap {
			kl = *keylog
		}
		r, problems, err := harness.CheckFile(bin, m, file, kl)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2echeck: %v\n", err)
			return 2
		}
		if len(problems) == 0 {
			fmt.Printf("ok    %s (%s): %d flow(s), %d finding(s) as %s expects\n", file, harness.InputKind(file), len(r.Flows), len(r.Findings), m.Name)
		}
		for _, p := range problems {
			fmt.Printf("FAIL  %s (%s): %s\n", file, harness.InputKind(file), p)
			bad = true
		}
		sig := m.Signature(r)
		if firstName == "" {
			first, firstName = sig, file
		} else if !slices.Equal(sig, first) {
			fmt.Printf("FAIL  %s and %s give different fail findings:\n        %s\n        %s\n", firstName, file, strings.Join(first, " "), strings.Join(sig, " "))
			bad = true
		}
	}
	if bad {
		return 1
	}
	return 0
}

// findOauthlint returns the binary to use: the flag, else oauthlint on PATH,
// else one built from the module this command belongs to.
func findOauthlint(flagValue string) (string, func(), error) {
	if flagValue != "" {
		return flagValue, func() {}, nil
	}
	if p, err := exec.LookPath("oauthlint"); err == nil {
		return p, func() {}, nil
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", nil, fmt.Errorf("no oauthlint on PATH and not inside the oauthlint module: pass -oauthlint BIN")
	}
	dir, err := os.MkdirTemp("", "e2echeck-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "oauthlint")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/oauthlint")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build ./cmd/oauthlint: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
