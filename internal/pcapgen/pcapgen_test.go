package pcapgen

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64, f Format) ([]byte, []byte, *Stats) {
		var cap, har bytes.Buffer
		st, err := Generate(&cap, Options{Seed: seed, Size: 1 << 20, Format: f, HAR: &har, IPv6: true,
			Impair: Impair{Reorder: 0.02, Retransmit: 0.02}})
		if err != nil {
			t.Fatal(err)
		}
		return cap.Bytes(), har.Bytes(), st
	}
	for _, f := range []Format{FormatPcap, FormatPcapNano, FormatPcapng} {
		a, ah, st := gen(3, f)
		b, bh, _ := gen(3, f)
		if !bytes.Equal(a, b) || !bytes.Equal(ah, bh) {
			t.Errorf("%s: the same seed gave different files", f)
		}
		c, _, _ := gen(4, f)
		if bytes.Equal(a, c) {
			t.Errorf("%s: different seeds gave the same file", f)
		}
		if st.Bytes != int64(len(a)) || st.Bytes < 1<<20 || st.Exchanges == 0 || st.Packets == 0 {
			t.Errorf("%s: stats %+v for %d bytes", f, st, len(a))
		}
		var doc struct {
			Log struct {
				Entries []json.RawMessage `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(ah, &doc); err != nil || len(doc.Log.Entries) != st.Exchanges {
			t.Errorf("%s: HAR has %d entries for %d exchanges (%v)", f, len(doc.Log.Entries), st.Exchanges, err)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := Generate(&bytes.Buffer{}, Options{Format: "erf"}); err == nil {
		t.Error("an unknown format was accepted")
	}
}
