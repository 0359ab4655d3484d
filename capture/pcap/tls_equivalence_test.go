package pcap_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
	"github.com/oauthlint/oauthlint/internal/tlsgen"
)

// The same traffic as a HAR and as a TLS capture with its key log must
// give the same exchanges and the same findings (HTTP/1.1 and HTTP/2, TLS
// 1.2 and 1.3, keys in a key log file or embedded in the pcapng).

func TestTLSEquivalence(t *testing.T) {
	gen := generatedExchanges(t)
	conf := conformanceExchanges(t)
	cases := []struct {
		name string
		src  []*capture.Exchange
		opts tlsgen.Options
	}{
		{"tls13-h2", gen, tlsgen.Options{Seed: 1, HTTP2: true}},
		{"tls13-aes256-h1", gen, tlsgen.Options{Seed: 2, Suite: 0x1302}},
		{"tls13-chacha20-h2-pcapng-embedded", gen, tlsgen.Options{Seed: 3, Suite: 0x1303, HTTP2: true, Format: pcapgen.FormatPcapng, EmbedKeys: true}},
		{"tls12-aes128gcm-h1", gen, tlsgen.Options{Seed: 4, Version: 0x0303}},
		{"tls12-chacha20-h2", gen, tlsgen.Options{Seed: 5, Version: 0x0303, Suite: 0xcca8, HTTP2: true}},
		{"tls12-cbc-sha256-etm-h1", gen, tlsgen.Options{Seed: 6, Version: 0x0303, Suite: 0xc027, ETM: true, Link: pcapgen.LinkSLL2}},
		{"tls12-cbc-sha-h2", gen, tlsgen.Options{Seed: 7, Version: 0x0303, Suite: 0xc013, HTTP2: true}},
		{"conformance-tls13-h2", conf, tlsgen.Options{Seed: 8, HTTP2: true}},
		{"conformance-tls12-h1", conf, tlsgen.Options{Seed: 9, Version: 0x0303, Suite: 0xc030}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.src == nil {
				t.Skip("no source traffic")
			}
			dir := t.TempDir()
			capPath, harPath := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "tls.har")
			var keys bytes.Buffer
			writeTLS(t, tc.src, tc.opts, capPath, harPath, &keys)
			kl := tlsdecrypt.NewKeyLog()
			if !tc.opts.EmbedKeys {
				if _, err := kl.ReadBytes(keys.Bytes(), "keys"); err != nil {
					t.Fatal(err)
				}
			}
			compareTLS(t, capPath, harPath, kl)
		})
	}
}

// generatedExchanges is the plain HTTP traffic of the pcap generator
// (OAuth/MCP flows and noise), read back from its HAR.
func generatedExchanges(t *testing.T) []*capture.Exchange {
	t.Helper()
	dir := t.TempDir()
	capPath, harPath := filepath.Join(dir, "plain.pcap"), filepath.Join(dir, "plain.har")
	writeGenerated(t, capPath, harPath, pcapgen.Options{Seed: 31, Size: 2 << 20, OAuthShare: 0.7})
	exs, _, err := har.ReadFile(harPath, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

func conformanceExchanges(t *testing.T) []*capture.Exchange {
	for _, p := range []string{"../../../shared/captures/conformance-auth.sdk-example.har", "/work/shared/captures/conformance-auth.sdk-example.har"} {
		if _, err := os.Stat(p); err == nil {
			exs, _, err := har.ReadFile(p, har.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return exs
		}
	}
	return nil
}

func writeTLS(t *testing.T, src []*capture.Exchange, opts tlsgen.Options, capPath, harPath string, keys *bytes.Buffer) []*capture.Exchange {
	t.Helper()
	out, err := tlsgen.WriteFile(capPath, keys, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	hw, err := har.Create(harPath, har.WriterOptions{Creator: "tlsgen"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range out {
		if err := hw.Add(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if len(out) < len(src)/2 {
		t.Fatalf("only %d of %d exchanges could be sent", len(out), len(src))
	}
	return out
}

// compareTLS reads the capture with its keys and the HAR through
// input.Read (as the CLI does) and compares exchanges and findings.
func compareTLS(t *testing.T, capPath, harPath string, kl *tlsdecrypt.KeyLog) {
	t.Helper()
	pexs, info, err := pcap.ReadFile(capPath, pcap.Options{KeepAllBodies: true, Keys: kl})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Warnings) > 0 || info.UndecryptedConnections > 0 {
		t.Fatalf("undecrypted %d, warnings %v", info.UndecryptedConnections, info.Warnings)
	}
	hexs, _, err := input.Read(harPath, input.Options{MaxBody: pcap.DefaultMaxBody})
	if err != nil {
		t.Fatal(err)
	}
	if len(pexs) != len(hexs) {
		t.Fatalf("pcap gave %d exchanges, HAR %d", len(pexs), len(hexs))
	}
	for i := range pexs {
		if d := diffExchange(pexs[i], hexs[i]); d != "" {
			t.Fatalf("exchange %d (%s): %s", i, hexs[i], d)
		}
		if pexs[i].TLS == nil || pexs[i].TLS.CipherSuite == "" {
			t.Fatalf("exchange %d has no TLS information", i)
		}
	}
	cexs, cinfo, err := input.Read(capPath, input.Options{MaxBody: pcap.DefaultMaxBody, Keys: kl})
	if err != nil {
		t.Fatal(err)
	}
	if cinfo.Decrypted == 0 || len(cinfo.Undecrypted) > 0 {
		t.Fatalf("input.Info: %d decrypted, %d undecrypted", cinfo.Decrypted, len(cinfo.Undecrypted))
	}
	pf, pflows := findings(t, cexs)
	hf, hflows := findings(t, hexs)
	if pflows != hflows || pflows == 0 {
		t.Errorf("flows: pcap %d, HAR %d", pflows, hflows)
	}
	if pf != hf {
		t.Errorf("findings differ:\npcap:\n%s\nHAR:\n%s", pf, hf)
	}
	if strings.Count(pf, "\n") == 0 {
		t.Errorf("no findings at all: the traffic should show violations")
	}
}

// TestTLSEquivalenceWithoutSomeKeys: a key log that lacks some
// connections gives exactly the other connections' exchanges, lists the
// missing ones with the summary line, and does not make rules fail that
// pass on the complete traffic.
func TestTLSEquivalenceWithoutSomeKeys(t *testing.T) {
	src := conformanceExchanges(t)
	if src == nil {
		t.Skip("shared/captures/conformance-auth.sdk-example.har not found")
	}
	dir := t.TempDir()
	capPath, harPath := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "tls.har")
	var keys bytes.Buffer
	out := writeTLS(t, src, tlsgen.Options{Seed: 11, HTTP2: true, PerConn: 3}, capPath, harPath, &keys)
	lines := strings.Split(strings.TrimSpace(keys.String()), "\n")
	// Drop the secrets of the second connection (4 lines per TLS 1.3
	// connection).
	kept := append(append([]string{}, lines[:4]...), lines[8:]...)
	kl := tlsdecrypt.NewKeyLog()
	kl.ReadBytes([]byte(strings.Join(kept, "\n")), "partial")
	exs, info, err := input.Read(capPath, input.Options{MaxBody: pcap.DefaultMaxBody, Keys: kl})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Undecrypted) != 1 || info.Undecrypted[0].Kind != "no-keys" || len(exs) != len(out)-3 {
		t.Fatalf("%d exchanges of %d, undecrypted %+v", len(exs), len(out), info.Undecrypted)
	}
	var hint bool
	for _, w := range info.Warnings {
		hint = hint || (strings.Contains(w, ": 1 of ") && strings.Contains(w, "TLS connections were not decrypted for lack of keys") && strings.Contains(w, "--keylog"))
	}
	if !hint {
		t.Errorf("no summary line: %v", info.Warnings)
	}
	// Whichever connection lacks keys, no rule should fail that does not
	// fail on the complete traffic: what was not decrypted is missing,
	// not absent (the analysis is told about the undecrypted connection,
	// as the CLI does). Every tenth connection is tried (the whole set
	// with OAUTHLINT_TLS_EXHAUSTIVE=1, which takes a minute or two).
	if testing.Short() {
		return
	}
	step := 10
	if os.Getenv("OAUTHLINT_TLS_EXHAUSTIVE") == "1" {
		step = 1
	}
	full, _, err := input.Read(harPath, input.Options{MaxBody: pcap.DefaultMaxBody})
	if err != nil {
		t.Fatal(err)
	}
	hf, _ := findings(t, full)
	failing := map[string]bool{}
	for _, l := range strings.Split(hf, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "fail" {
			failing[f[0]] = true
		}
	}
	for skip := 0; skip*4 < len(lines); skip += step {
		kept := append(append([]string{}, lines[:skip*4]...), lines[skip*4+4:]...)
		kl := tlsdecrypt.NewKeyLog()
		kl.ReadBytes([]byte(strings.Join(kept, "\n")), "partial")
		exs, info, err := input.Read(capPath, input.Options{MaxBody: pcap.DefaultMaxBody, Keys: kl})
		if err != nil {
			t.Fatal(err)
		}
		pf, _ := findingsWith(t, exs, append(info.Undecrypted, info.PartlyRead...))
		for _, l := range strings.Split(pf, "\n") {
			if f := strings.Fields(l); len(f) > 2 && f[1] == "fail" && !failing[f[0]] {
				t.Errorf("connection %d without keys: %s fails, but not on the complete traffic", skip+1, f[0])
			}
		}
	}
}

// TestTLSImpairedNetwork: TLS records cut across segments that arrive
// reordered and retransmitted decrypt to the same requests and bodies;
// with segments lost, nothing is invented and every exchange that
// differs from what was sent says what is missing.
func TestTLSImpairedNetwork(t *testing.T) {
	src := generatedExchanges(t)
	for _, tc := range []struct {
		name  string
		opts  tlsgen.Options
		lossy bool
	}{
		{"tls13-h2-reorder-retransmit", tlsgen.Options{Seed: 21, HTTP2: true, Impair: pcapgen.Impair{Reorder: 0.05, Retransmit: 0.05}}, false},
		{"tls12-h1-reorder-retransmit", tlsgen.Options{Seed: 22, Version: 0x0303, Suite: 0xc02f, Impair: pcapgen.Impair{Reorder: 0.05, Retransmit: 0.05}}, false},
		{"tls13-h1-loss", tlsgen.Options{Seed: 23, Impair: pcapgen.Impair{Loss: 0.01}}, true},
		{"tls12-h2-loss", tlsgen.Options{Seed: 24, Version: 0x0303, HTTP2: true, Impair: pcapgen.Impair{Loss: 0.01}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			capPath, harPath := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "tls.har")
			var keys bytes.Buffer
			sent := writeTLS(t, src, tc.opts, capPath, harPath, &keys)
			kl := tlsdecrypt.NewKeyLog()
			kl.ReadBytes(keys.Bytes(), "keys")
			got, info, err := pcap.ReadFile(capPath, pcap.Options{KeepAllBodies: true, Keys: kl})
			if err != nil {
				t.Fatal(err)
			}
			byKey := map[string][]*capture.Exchange{}
			for _, ex := range sent {
				k := ex.Request.Method + " " + ex.Request.URL.String()
				byKey[k] = append(byKey[k], ex)
			}
			intact := 0
			for _, p := range got {
				k := p.Request.Method + " " + p.Request.URL.String()
				// Reordered packets: the frames still run from the lowest
				// to the highest packet of the exchange.
				if f := p.Ref.Frames; len(f) != 2 || f[0] < 1 || f[1] < f[0] {
					t.Errorf("%s: frames %v", k, f)
				}
				cands := byKey[k]
				if len(cands) == 0 {
					t.Fatalf("invented request %s (gaps %v)", k, p.Gaps)
				}
				same := false
				for _, h := range cands {
					if p.Response != nil && h.Response != nil && bytes.Equal(p.Request.Body, h.Request.Body) &&
						bytes.Equal(p.Response.Body, h.Response.Body) && p.Response.Status == h.Response.Status && len(p.Gaps) == 0 {
						same = true
						break
					}
				}
				if same {
					intact++
					continue
				}
				if len(p.Gaps) == 0 {
					t.Errorf("%s differs from what was sent but records no gap", k)
				}
			}
			if !tc.lossy {
				if len(got) != len(sent) || intact != len(sent) || len(info.Warnings) > 0 {
					t.Fatalf("%d of %d exchanges, %d intact; warnings %v", len(got), len(sent), intact, info.Warnings)
				}
				return
			}
			if info.Gaps == 0 {
				t.Fatal("no gaps: the loss impairment did not apply")
			}
			t.Logf("%d of %d exchanges read, %d intact; %d TCP gaps", len(got), len(sent), intact, info.Gaps)
			if intact < len(sent)/3 {
				t.Errorf("only %d of %d exchanges intact at 1%% loss", intact, len(sent))
			}
		})
	}
}
