package tlsgen

import (
	"bytes"
	"strings"
	"testing"
)

// TestDeterministic: the same seed and options give the same capture and
// key log; another seed gives another.
func TestDeterministic(t *testing.T) {
	gen := func(seed uint64, opts Options) (string, string, int) {
		var c, k bytes.Buffer
		opts.Seed = seed
		n, err := Generate(&c, &k, opts, 64<<10, 0.5, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.String(), k.String(), n
	}
	for _, opts := range []Options{{HTTP2: true}, {Version: 0x0303, Suite: 0xc027, ETM: true}} {
		c1, k1, n1 := gen(1, opts)
		c2, k2, n2 := gen(1, opts)
		c3, _, _ := gen(2, opts)
		if c1 != c2 || k1 != k2 || n1 != n2 || n1 == 0 {
			t.Fatalf("not deterministic: %d/%d exchanges", n1, n2)
		}
		if c1 == c3 {
			t.Fatal("seed ignored")
		}
		label := "CLIENT_TRAFFIC_SECRET_0 "
		if opts.Version == 0x0303 {
			label = "CLIENT_RANDOM "
		}
		if !strings.Contains(k1, label) {
			t.Fatalf("key log without %s: %.200s", label, k1)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, nil, Options{EmbedKeys: true}); err == nil {
		t.Fatal("embedded keys accepted for pcap")
	}
}
