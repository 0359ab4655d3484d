package pcap_test

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
	"github.com/oauthlint/oauthlint/internal/tlsgen"
)

// Throughput of the reader on TLS captures with their key log (file
// bytes per second, decrypting and reading HTTP to exchanges; no
// analysis). bench/tls.sh gives the end-to-end figure beside tshark.
//
//	go test ./capture/pcap -run '^$' -bench ReadTLS -benchmem
//	PCAP_BENCH_MB=256 go test ./capture/pcap -run '^$' -bench ReadTLS

type tlsBench struct {
	once sync.Once
	data []byte
	keys *tlsdecrypt.KeyLog
}

var tlsBenches = map[string]*tlsBench{"TLS13-h2": {}, "TLS12-h1": {}, "TLS12-CBC-h1": {}}

func tlsBenchCapture(b *testing.B, name string, opts tlsgen.Options) ([]byte, *tlsdecrypt.KeyLog) {
	tb := tlsBenches[name]
	tb.once.Do(func() {
		mb := 32
		if s := os.Getenv("PCAP_BENCH_MB"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				mb = v
			}
		}
		var buf, keys bytes.Buffer
		if _, err := tlsgen.Generate(&buf, &keys, opts, int64(mb)<<20, 0.25, nil); err != nil {
			b.Fatal(err)
		}
		tb.data = buf.Bytes()
		tb.keys = tlsdecrypt.NewKeyLog()
		tb.keys.ReadBytes(keys.Bytes(), "bench")
	})
	return tb.data, tb.keys
}

func benchReadTLS(b *testing.B, name string, opts tlsgen.Options) {
	data, keys := tlsBenchCapture(b, name, opts)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		info, err := pcap.Stream(bytes.NewReader(data), "bench.pcap", pcap.Options{Keys: keys}, func(*capture.Exchange) { n++ })
		if err != nil || n == 0 || info.UndecryptedConnections > 0 {
			b.Fatalf("%d exchanges, %d undecrypted, %v", n, info.UndecryptedConnections, err)
		}
	}
}

func BenchmarkReadTLS13HTTP2(b *testing.B) {
	benchReadTLS(b, "TLS13-h2", tlsgen.Options{Seed: 1, HTTP2: true})
}

func BenchmarkReadTLS12HTTP1(b *testing.B) {
	benchReadTLS(b, "TLS12-h1", tlsgen.Options{Seed: 2, Version: 0x0303})
}

func BenchmarkReadTLS12CBCHTTP1(b *testing.B) {
	benchReadTLS(b, "TLS12-CBC-h1", tlsgen.Options{Seed: 3, Version: 0x0303, Suite: 0xc027})
}
