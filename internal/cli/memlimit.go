package cli

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is analyze's soft memory limit: with it a 1 GB packet
// capture is analyzed in under 256 MB of resident memory at about the
// speed of an unlimited run (docs/pcap.md). Above it the garbage collector
// works harder (at most about half the CPU); nothing fails.
const DefaultMemoryLimit = "210MiB"

// parseByteSize reads "0", "off", "1048576", "512KiB", "210MiB", "2GiB",
// "500MB" or "1GB".
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "0", "off", "none":
		return 0, nil
	}
	units := []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size (e.g. 210MiB, 1GiB, 0 for no limit)", s)
	}
	return int64(n * float64(mult)), nil
}

// applyMemoryLimit sets the runtime's soft memory limit for the run and
// returns a function that restores the previous one. An explicit
// --memory-limit wins; otherwise GOMEMLIMIT in the environment, when set,
// is left as the runtime read it.
func applyMemoryLimit(flag string, explicit bool) (restore func(), err error) {
	n, err := parseByteSize(flag)
	if err != nil {
		return nil, usageError("--memory-limit: %v", err)
	}
	if !explicit && os.Getenv("GOMEMLIMIT") != "" {
		return func() {}, nil
	}
	if n == 0 {
		n = 1<<63 - 1 // the runtime's "no limit"
	}
	prev := debug.SetMemoryLimit(n)
	return func() { debug.SetMemoryLimit(prev) }, nil
}
