package pcap_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// TestRequestListMatchesTshark compares the requests found with tshark's
// on the same generated capture (reordered and retransmitted segments
// included). It needs tshark (apt-get install tshark) and is skipped
// without it.
func TestRequestListMatchesTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install -y tshark)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	for _, opts := range []pcapgen.Options{
		{Seed: 11, Size: 6 << 20, Impair: pcapgen.Impair{Reorder: 0.02, Retransmit: 0.02}},
		{Seed: 12, Size: 3 << 20, Format: pcapgen.FormatPcapng, IPv6: true, Link: pcapgen.LinkSLL2},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "t.pcap")
		f, _ := os.Create(path)
		if _, err := pcapgen.Generate(f, opts); err != nil {
			t.Fatal(err)
		}
		f.Close()
		cmd := exec.Command(tshark, "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-Y", "http.request",
			"-T", "fields", "-e", "http.request.method", "-e", "http.request.uri")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, stderr.String())
		}
		var theirs []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" {
				theirs = append(theirs, line)
			}
		}
		exs, _, err := input.Read(path, input.Options{MaxBody: pcap.DefaultMaxBody})
		if err != nil {
			t.Fatal(err)
		}
		ours := requestList(exs)
		if len(ours) < 50 {
			t.Fatalf("only %d requests generated", len(ours))
		}
		sort.Strings(theirs)
		sort.Strings(ours)
		if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
			t.Errorf("seed %d: oauthlint found %d requests, tshark %d; first difference: %s", opts.Seed, len(ours), len(theirs), firstDiff(ours, theirs))
		}
	}
}

func requestList(exs []*capture.Exchange) []string {
	var out []string
	for _, ex := range exs {
		target := ex.Request.URL.RequestURI()
		if ex.Request.Method == "CONNECT" {
			target = ex.Request.URL.Host
		}
		out = append(out, ex.Request.Method+"\t"+target)
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return "oauthlint " + a[i] + " / tshark " + b[i]
		}
	}
	if len(a) > len(b) {
		return "extra in oauthlint: " + a[len(b)]
	}
	if len(b) > len(a) {
		return "extra in tshark: " + b[len(a)]
	}
	return "none"
}
