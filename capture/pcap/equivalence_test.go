package pcap_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

// The same traffic written as a HAR and as a capture must give the same
// exchanges and the same findings: the pcap reader is judged against the
// HAR reader, end to end through input.Read, analyze and the rule engine.

func TestEquivalenceGenerated(t *testing.T) {
	cases := []struct {
		name string
		opts pcapgen.Options
	}{
		{"pcap-ethernet-impaired", pcapgen.Options{Seed: 1, Size: 3 << 20, OAuthShare: 0.7, Impair: pcapgen.Impair{Reorder: 0.03, Retransmit: 0.03}}},
		{"pcapng-ipv6", pcapgen.Options{Seed: 2, Size: 2 << 20, OAuthShare: 0.6, Format: pcapgen.FormatPcapng, IPv6: true, Impair: pcapgen.Impair{Reorder: 0.01}}},
		{"pcap-nano-sll2", pcapgen.Options{Seed: 3, Size: 2 << 20, OAuthShare: 0.6, Format: pcapgen.FormatPcapNano, Link: pcapgen.LinkSLL2, Impair: pcapgen.Impair{Retransmit: 0.05}}},
		{"pcap-vlan", pcapgen.Options{Seed: 4, Size: 1 << 20, OAuthShare: 0.8, Link: pcapgen.LinkVLAN}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			capPath := filepath.Join(dir, "traffic.pcap")
			harPath := filepath.Join(dir, "traffic.har")
			writeGenerated(t, capPath, harPath, tc.opts)
			compareFiles(t, capPath, harPath, 1)
		})
	}
}

// TestEquivalenceConformanceHAR replays a real capture (the MCP SDK's
// example client against the conformance suite, see
// shared/captures/README.md) onto the wire.
func TestEquivalenceConformanceHAR(t *testing.T) {
	src := conformanceHAR(t)
	exs, _, err := har.ReadFile(src, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	capPath := filepath.Join(dir, "conformance.pcapng")
	harPath := filepath.Join(dir, "conformance.har")
	replay(t, exs, capPath, harPath)
	n := compareFiles(t, capPath, harPath, 10)
	if n != len(exs) {
		t.Errorf("replayed %d exchanges, compared %d", len(exs), n)
	}
}

func conformanceHAR(t *testing.T) string {
	for _, p := range []string{"../../../shared/captures/conformance-auth.sdk-example.har", "/work/shared/captures/conformance-auth.sdk-example.har"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("shared/captures/conformance-auth.sdk-example.har not found")
	return ""
}

func writeGenerated(t *testing.T, capPath, harPath string, opts pcapgen.Options) {
	t.Helper()
	cf, err := os.Create(capPath)
	if err != nil {
		t.Fatal(err)
	}
	hf, err := os.Create(harPath)
	if err != nil {
		t.Fatal(err)
	}
	opts.HAR = hf
	if _, err := pcapgen.Generate(cf, opts); err != nil {
		t.Fatal(err)
	}
	cf.Close()
	hf.Close()
}

// replay writes captured exchanges onto the wire, one connection per
// client address as in the original capture.
func replay(t *testing.T, exs []*capture.Exchange, capPath, harPath string) {
	t.Helper()
	g := pcapgen.New(7)
	cf, _ := os.Create(capPath)
	defer cf.Close()
	pw, err := pcapgen.NewPacketWriter(cf, pcapgen.FormatPcapng, pcapgen.LinkNull)
	if err != nil {
		t.Fatal(err)
	}
	hf, _ := os.Create(harPath)
	defer hf.Close()
	hw := pcapgen.NewHARWriter(hf)
	conns := map[string]*pcapgen.Conn{}
	at := exs[0].Start
	b := g.Batch(at)
	for _, ex := range exs {
		key := ex.ClientAddr
		c := conns[key]
		if c == nil {
			srv := "127.0.0.1:" + ex.Request.URL.Port()
			c = &pcapgen.Conn{Client: mustAddrPort(t, ex.ClientAddr), Server: mustAddrPort(t, srv), MSS: 65483, RTT: 50 * time.Microsecond}
			conns[key] = c
		}
		e := &pcapgen.Exchange{Method: ex.Request.Method, Target: ex.Request.URL.RequestURI(), ReqBody: ex.Request.Body}
		if e.Method == "CONNECT" {
			e.Target = ex.Request.URL.Host
		}
		for _, h := range ex.Request.Headers {
			if !isFraming(h.Name) {
				e.ReqHeaders = append(e.ReqHeaders, pcapgen.Header{Name: h.Name, Value: h.Value})
			}
		}
		if ex.Response == nil {
			e.NoResponse = true
		} else {
			e.Status, e.Reason, e.RespBody = ex.Response.Status, ex.Response.StatusText, ex.Response.Body
			for _, h := range ex.Response.Headers {
				if strings.EqualFold(h.Name, "Transfer-Encoding") {
					e.RespChunked = true
					continue
				}
				if !isFraming(h.Name) {
					e.RespHeaders = append(e.RespHeaders, pcapgen.Header{Name: h.Name, Value: h.Value})
				}
			}
		}
		at = b.Do(c, e, maxTime(at, ex.Start))
	}
	out, err := b.Write(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := hw.Write(out); err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
}

func isFraming(name string) bool {
	switch strings.ToLower(name) {
	case "content-length", "transfer-encoding", "content-encoding":
		return true
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// compareFiles reads both files through input.Read (as the CLI does) and
// compares exchanges and findings; it returns the number of exchanges.
func compareFiles(t *testing.T, capPath, harPath string, minFlows int) int {
	t.Helper()
	// Exchange lists with every body kept: bodies must be identical.
	pexs, pinfo, err := pcap.ReadFile(capPath, pcap.Options{KeepAllBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	hexs, _, err := input.Read(harPath, input.Options{MaxBody: pcap.DefaultMaxBody})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range pinfo.Warnings {
		if !strings.Contains(w.Msg, "encrypted connection") && !strings.Contains(w.Msg, "TLS connection(s) were not decrypted") {
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if len(pexs) != len(hexs) {
		t.Fatalf("pcap gave %d exchanges, HAR %d", len(pexs), len(hexs))
	}
	for i := range pexs {
		if d := diffExchange(pexs[i], hexs[i]); d != "" {
			t.Fatalf("exchange %d (%s): %s", i, hexs[i], d)
		}
	}
	// Findings through the CLI's reading path: default body policy, the
	// bodies the analysis will not read dropped as they are read, the
	// headers of non-OAuth traffic released before the rules run.
	cexs, _, err := input.Read(capPath, input.Options{MaxBody: pcap.DefaultMaxBody, Slim: analyze.DropUnreadBodies})
	if err != nil {
		t.Fatal(err)
	}
	pf, pflows := findingsSlim(t, cexs, nil, true)
	hf, hflows := findings(t, hexs)
	if pflows != hflows || pflows < minFlows {
		t.Errorf("flows: pcap %d, HAR %d (want at least %d)", pflows, hflows, minFlows)
	}
	if pf != hf {
		t.Errorf("findings differ:\npcap:\n%s\nHAR:\n%s", pf, hf)
	}
	if strings.Count(pf, "\n") == 0 {
		t.Errorf("no findings at all: the traffic should show violations")
	}
	return len(pexs)
}

func findings(t *testing.T, exs []*capture.Exchange) (string, int) {
	t.Helper()
	return findingsWith(t, exs, nil)
}

// findingsWith is findings with the connections the reader could not
// read (input.Info.Undecrypted, PartlyRead), as the CLI passes them.
func findingsWith(t *testing.T, exs []*capture.Exchange, und []capture.Undecrypted) (string, int) {
	t.Helper()
	return findingsSlim(t, exs, und, false)
}

// findingsSlim is findingsWith, with Result.ReleaseUnread before the rules
// run when release is true (as the CLI does).
func findingsSlim(t *testing.T, exs []*capture.Exchange, und []capture.Undecrypted, release bool) (string, int) {
	t.Helper()
	rs, err := builtin.Rules()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rules.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto", Undecrypted: und})
	if release {
		res.ReleaseUnread()
	}
	var b strings.Builder
	for _, f := range eng.Run(res, rules.RunOptions{}) {
		fmt.Fprintf(&b, "%s %s %s exchange=%d flow=%s\n", f.Rule, f.Outcome, f.Severity, f.Anchor, f.Flow)
	}
	return b.String(), len(res.Flows)
}

func diffExchange(p, h *capture.Exchange) string {
	switch {
	case p.Request.Method != h.Request.Method:
		return fmt.Sprintf("method %q vs %q", p.Request.Method, h.Request.Method)
	case p.Request.URL.String() != h.Request.URL.String():
		return fmt.Sprintf("URL %q vs %q", p.Request.URL, h.Request.URL)
	case !p.Start.Equal(h.Start):
		return fmt.Sprintf("start %s vs %s", p.Start, h.Start)
	case !sameHeaders(p.Request.Headers, h.Request.Headers):
		return fmt.Sprintf("request headers\n%v\nvs\n%v", p.Request.Headers, h.Request.Headers)
	case !bytes.Equal(p.Request.Body, h.Request.Body):
		return fmt.Sprintf("request body %q vs %q", clipB(p.Request.Body), clipB(h.Request.Body))
	case (p.Response == nil) != (h.Response == nil):
		return fmt.Sprintf("response present: pcap %v, HAR %v (gaps %v)", p.Response != nil, h.Response != nil, p.Gaps)
	}
	if p.Response == nil {
		return ""
	}
	switch {
	case p.Response.Status != h.Response.Status:
		return fmt.Sprintf("status %d vs %d", p.Response.Status, h.Response.Status)
	case !sameHeaders(p.Response.Headers, h.Response.Headers):
		return fmt.Sprintf("response headers\n%v\nvs\n%v", p.Response.Headers, h.Response.Headers)
	case !bytes.Equal(p.Response.Body, h.Response.Body):
		return fmt.Sprintf("response body (%d bytes) %q vs (%d bytes) %q; gaps %v", len(p.Response.Body), clipB(p.Response.Body), len(h.Response.Body), clipB(h.Response.Body), p.Gaps)
	case len(p.Gaps) != 0:
		return fmt.Sprintf("pcap exchange has gaps %v", p.Gaps)
	}
	return ""
}

func sameHeaders(a, b capture.Headers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func clipB(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestLossyCaptureNeverInventsTraffic drops segments from the capture (as
// a busy tcpdump does): whatever the reader returns must be traffic that
// was sent, and every exchange that differs from what was sent must say
// what is missing.
func TestLossyCaptureNeverInventsTraffic(t *testing.T) {
	dir := t.TempDir()
	capPath := filepath.Join(dir, "lossy.pcap")
	harPath := filepath.Join(dir, "lossy.har")
	writeGenerated(t, capPath, harPath, pcapgen.Options{Seed: 21, Size: 3 << 20, OAuthShare: 0.5,
		Impair: pcapgen.Impair{Loss: 0.01, Reorder: 0.01, Retransmit: 0.01}})
	pexs, info, err := pcap.ReadFile(capPath, pcap.Options{KeepAllBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	hexs, _, err := input.Read(harPath, input.Options{MaxBody: pcap.DefaultMaxBody})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string][]*capture.Exchange{}
	for _, h := range hexs {
		k := h.Request.Method + " " + h.Request.URL.String()
		sent[k] = append(sent[k], h)
	}
	if info.Gaps == 0 {
		t.Fatal("no gaps: the loss impairment did not apply")
	}
	complete := 0
	for _, p := range pexs {
		k := p.Request.Method + " " + p.Request.URL.String()
		cands := sent[k]
		if len(cands) == 0 {
			t.Fatalf("invented request %s (gaps %v)", k, p.Gaps)
		}
		same := false
		for _, h := range cands {
			if diffExchange(p, h) == "" {
				same = true
				break
			}
		}
		if same {
			complete++
			continue
		}
		if len(p.Gaps) == 0 {
			t.Errorf("%s differs from what was sent but records no gap", k)
		}
	}
	if complete < len(hexs)/2 {
		t.Errorf("only %d of %d exchanges intact at 1%% loss", complete, len(hexs))
	}
}
