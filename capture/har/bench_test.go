package har

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkRead reads a 2000-entry HAR made of the mitmproxy fixture's
// entries (about 8 MB): go test ./capture/har -bench Read -benchmem
func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("testdata/mitmproxy-11.har")
	if err != nil {
		b.Fatal(err)
	}
	exs, _, err := Read(bytes.NewReader(data), "m.har", Options{})
	if err != nil {
		b.Fatal(err)
	}
	var doc bytes.Buffer
	doc.Write(data[:exs[0].Ref.Offset])
	for i := 0; i < 2000; i++ {
		if i > 0 {
			doc.WriteString(",\n")
		}
		r := exs[i%len(exs)].Ref
		doc.Write(data[r.Offset : r.Offset+r.Length])
	}
	doc.WriteString("]}}")
	big := doc.Bytes()
	b.SetBytes(int64(len(big)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exs, info, err := Read(bytes.NewReader(big), "big.har", Options{})
		if err != nil || len(exs) != 2000 || info.Truncated {
			b.Fatalf("%d exchanges, %v", len(exs), err)
		}
	}
}
