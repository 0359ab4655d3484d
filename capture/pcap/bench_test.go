package pcap_test

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Throughput of the reader alone (file bytes per second, reading to
// exchanges). The end-to-end figure (reading to findings) comes from
// bench/pcap.sh, which runs the oauthlint binary.
//
//	go test ./capture/pcap -run '^$' -bench Read -benchmem
//	PCAP_BENCH_MB=256 go test ./capture/pcap -run '^$' -bench Read

var (
	benchOnce sync.Once
	benchData []byte
)

func benchCapture(b *testing.B) []byte {
	benchOnce.Do(func() {
		mb := 32
		if s := os.Getenv("PCAP_BENCH_MB"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				mb = v
			}
		}
		var buf bytes.Buffer
		_, err := pcapgen.Generate(&buf, pcapgen.Options{Seed: 42, Size: int64(mb) << 20, IPv6: true,
			Impair: pcapgen.Impair{Reorder: 0.005, Retransmit: 0.003}})
		if err != nil {
			b.Fatal(err)
		}
		benchData = buf.Bytes()
	})
	return benchData
}

func BenchmarkRead(b *testing.B) {
	data := benchCapture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		exs, _, err := pcap.Read(bytes.NewReader(data), "bench.pcap", pcap.Options{})
		if err != nil || len(exs) == 0 {
			b.Fatalf("%d exchanges, %v", len(exs), err)
		}
	}
}

func BenchmarkReadKeepAllBodies(b *testing.B) {
	data := benchCapture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		exs, _, err := pcap.Read(bytes.NewReader(data), "bench.pcap", pcap.Options{KeepAllBodies: true})
		if err != nil || len(exs) == 0 {
			b.Fatalf("%d exchanges, %v", len(exs), err)
		}
	}
}

// BenchmarkStream discards exchanges as they come: the cost of reading
// without keeping the results.
func BenchmarkStream(b *testing.B) {
	data := benchCapture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_, err := pcap.Stream(bytes.NewReader(data), "bench.pcap", pcap.Options{}, func(*capture.Exchange) { n++ })
		if err != nil || n == 0 {
			b.Fatalf("%d exchanges, %v", n, err)
		}
	}
}
