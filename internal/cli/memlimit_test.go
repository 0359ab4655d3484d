package cli

import (
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "off": 0, "1048576": 1 << 20, "512KiB": 512 << 10, "210MiB": 210 << 20,
		"1.5GiB": 3 << 29, "500MB": 500e6, "1GB": 1e9, " 64 MiB ": 64 << 20, "100B": 100} {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1MiB", "12XB", "1e30GiB"} {
		if _, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q): no error", in)
		}
	}
}

func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Setenv("GOMEMLIMIT", "")
	restore, err := applyMemoryLimit("64MiB", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("limit %d during the run, want %d", got, 64<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d after the run, want the previous %d", got, before)
	}
	// GOMEMLIMIT in the environment wins over the default, not over the flag.
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore, _ = applyMemoryLimit(DefaultMemoryLimit, false)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("default with GOMEMLIMIT set changed the limit to %d", got)
	}
	restore()
	restore, _ = applyMemoryLimit("32MiB", true)
	if got := debug.SetMemoryLimit(-1); got != 32<<20 {
		t.Errorf("explicit flag with GOMEMLIMIT set: limit %d, want %d", got, 32<<20)
	}
	restore()
	if _, err := applyMemoryLimit("much", true); err == nil {
		t.Error("a bad --memory-limit was accepted")
	}
}
