package pcap_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Through capture/input, as the CLI reads: standard input, the Info
// mapping and progress.

func generated(t *testing.T, opts pcapgen.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := pcapgen.Generate(&buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInputStdin(t *testing.T) {
	data := generated(t, pcapgen.Options{Seed: 5, Size: 1 << 20, Format: pcapgen.FormatPcapng})
	exs, info, err := input.Read("-", input.Options{MaxBody: pcap.DefaultMaxBody, Stdin: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) == 0 || info.Format != input.PCAPNG || info.File != "(stdin)" || info.Creator != "oauthlint pcapgen" {
		t.Fatalf("%d exchanges, info %+v", len(exs), info)
	}
	if exs[0].Ref.File != "(stdin)" || info.Entries != len(exs) || info.Exchanges != len(exs) {
		t.Errorf("ref %+v, entries %d, exchanges %d", exs[0].Ref, info.Entries, info.Exchanges)
	}
}

func TestInputFileProgressAndWarnings(t *testing.T) {
	data := generated(t, pcapgen.Options{Seed: 6, Size: 2 << 20})
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	var calls int
	var lastRead, lastTotal int64
	var lastEx int
	exs, info, err := input.Read(path, input.Options{MaxBody: pcap.DefaultMaxBody, Progress: func(read, total int64, n int) {
		calls++
		lastRead, lastTotal, lastEx = read, total, n
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastTotal != int64(len(data)-10) || lastRead != lastTotal || lastEx != len(exs) {
		t.Errorf("progress: %d calls, last %d/%d bytes, %d exchanges (have %d)", calls, lastRead, lastTotal, lastEx, len(exs))
	}
	if !info.Truncated || len(info.Warnings) == 0 || !strings.Contains(strings.Join(info.Warnings, "\n"), "truncated capture") {
		t.Errorf("info %+v", info)
	}
}

func TestInputUnusablePcap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.pcap")
	os.WriteFile(path, []byte("\xd4\xc3\xb2\xa1\x02\x00"), 0o600)
	_, info, err := input.Read(path, input.Options{MaxBody: pcap.DefaultMaxBody})
	if err == nil || info.Format != input.PCAP || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("err %v, info %+v", err, info)
	}
}
