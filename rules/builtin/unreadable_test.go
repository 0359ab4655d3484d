package builtin

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
	"github.com/oauthlint/oauthlint/internal/tlsgen"
	"github.com/oauthlint/oauthlint/rules"
)

// Traffic the capture saw but could not read (a TLS connection without
// keys, a connection that lost bytes) may hold messages of a flow: a rule
// must not conclude from their absence. These tests take real captures
// (generated TLS traffic written to pcap), take something away the way
// captures lose it — a dropped frame, a missing key — and check that no
// rule fails that passes on the complete traffic, while the same traffic
// judged without knowing about the unreadable part shows the false
// finding the mechanism prevents.

var testEngine *rules.Engine

func engine(t testing.TB) *rules.Engine {
	t.Helper()
	if testEngine == nil {
		rs, err := Rules()
		if err != nil {
			t.Fatal(err)
		}
		if testEngine, err = rules.Compile(rs); err != nil {
			t.Fatal(err)
		}
	}
	return testEngine
}

// judge analyzes exchanges as the CLI does and returns the findings.
func judge(t testing.TB, exs []*capture.Exchange, und []capture.Undecrypted) []rules.Finding {
	t.Helper()
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto", Undecrypted: und})
	return engine(t).Run(res, rules.RunOptions{})
}

func outcomes(fs []rules.Finding, rule string) (fail, na int) {
	for _, f := range fs {
		if f.Rule != rule {
			continue
		}
		switch f.Outcome {
		case rules.Fail:
			fail++
		case rules.NotAvailable:
			na++
		}
	}
	return fail, na
}

func failing(fs []rules.Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		if f.Outcome == rules.Fail {
			out[f.Rule] = true
		}
	}
	return out
}

// writeTLS sends exchanges through generated TLS connections into a pcap
// and returns its path, the key log and the exchanges as written.
func writeTLS(t *testing.T, src []*capture.Exchange, opts tlsgen.Options) (string, []byte, []*capture.Exchange) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tls.pcap")
	var keys bytes.Buffer
	out, err := tlsgen.WriteFile(path, &keys, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return path, keys.Bytes(), out
}

// frame is one packet of a capture, as far as these tests need it.
type frame struct {
	n          int
	ts         time.Time
	conn       string // "a:p -> b:q" in the direction of the packet
	fromClient bool
	payload    int
}

// frames lists the TCP packets of a capture; the client of a connection
// is the sender of its first packet.
func frames(t *testing.T, path string) []frame {
	t.Helper()
	link, pkts := packets(t, path)
	clients := map[string]string{}
	var out []frame
	for i, pk := range pkts {
		p := gopacket.NewPacket(pk.data, link, gopacket.Default)
		ipl, tcpl := p.NetworkLayer(), p.Layer(layers.LayerTypeTCP)
		if ipl == nil || tcpl == nil {
			continue
		}
		tcp := tcpl.(*layers.TCP)
		src := fmt.Sprintf("%s:%d", ipl.NetworkFlow().Src(), tcp.SrcPort)
		dst := fmt.Sprintf("%s:%d", ipl.NetworkFlow().Dst(), tcp.DstPort)
		key := src + "|" + dst
		if src > dst {
			key = dst + "|" + src
		}
		if _, ok := clients[key]; !ok {
			clients[key] = src
		}
		cl := clients[key] == src
		conn := src + " -> " + dst
		if !cl {
			conn = dst + " -> " + src
		}
		out = append(out, frame{n: i + 1, ts: pk.ci.Timestamp, conn: conn, fromClient: cl, payload: len(tcp.Payload)})
	}
	return out
}

type packet struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// packets reads every packet of a pcap file.
func packets(t *testing.T, path string) (layers.LinkType, []packet) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return r.LinkType(), out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{data, ci})
	}
}

// dropFrames rewrites a capture without the given frames.
func dropFrames(t *testing.T, path string, drop ...int) string {
	t.Helper()
	link, pkts := packets(t, path)
	outPath := strings.TrimSuffix(path, ".pcap") + fmt.Sprintf("-without-%v.pcap", drop)
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriterNanos(out)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, pk := range pkts {
		if !slices.Contains(drop, i+1) {
			if err := w.WritePacket(pk.ci, pk.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	return outPath
}

func readCapture(t *testing.T, path string, keys []byte, label string) ([]*capture.Exchange, input.Info) {
	t.Helper()
	kl := tlsdecrypt.NewKeyLog()
	if _, err := kl.ReadBytes(keys, label); err != nil {
		t.Fatal(err)
	}
	exs, info, err := input.Read(path, input.Options{MaxBody: pcap.DefaultMaxBody, Keys: kl})
	if err != nil {
		t.Fatal(err)
	}
	return exs, info
}

// TestDroppedFrameDiscoveryNotAvailable: the client probes the RFC 8414
// location (404) and then, correctly, the OpenID configuration; the
// capture loses a frame of the connection that carried the second
// request, so it is not in the exchanges. Without knowing about the
// damaged connection the analysis concludes that the client gave up
// after the 404 (SEQ-ASM-ORDER, high) or that no metadata answered
// (ASM-PROVIDED); with it, those rules are not-available.
func TestDroppedFrameDiscoveryNotAvailable(t *testing.T) {
	src, _, err := har.ReadFile("testdata/SEQ-ASM-ORDER/silent-remembered-location.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The last entry re-reads the metadata 20 minutes later; the TLS
	// writer keeps exchanges close together, so leave it out.
	src = src[:len(src)-1]
	path, keys, sent := writeTLS(t, src, tlsgen.Options{Seed: 41, PerConn: 1})
	complete, info := readCapture(t, path, keys, "keys")
	if len(complete) != len(sent) || len(info.Undecrypted) > 0 {
		t.Fatalf("complete capture: %d of %d exchanges, undecrypted %v", len(complete), len(sent), info.Undecrypted)
	}
	if fs := judge(t, complete, nil); len(failing(fs)) > 0 {
		t.Fatalf("the complete traffic should pass every rule: %v", failing(fs))
	}
	var discovery *capture.Exchange
	for _, ex := range sent {
		if ex.Request.URL.Path == "/.well-known/openid-configuration" {
			discovery = ex
		}
	}
	fr := frames(t, path)
	var conn string
	for _, f := range fr {
		if f.fromClient && f.payload > 0 && f.ts.Truncate(time.Microsecond).Equal(discovery.Start) {
			conn = f.conn
		}
	}
	if conn == "" {
		t.Fatal("no frame carries the discovery request")
	}
	// The first frame with payload in each direction: the ClientHello,
	// and the server's handshake flight.
	first := func(fromClient bool) int {
		for _, f := range fr {
			if f.conn == conn && f.fromClient == fromClient && f.payload > 0 {
				return f.n
			}
		}
		t.Fatalf("no %v frame on %s", fromClient, conn)
		return 0
	}
	requestFrame := 0
	for _, f := range fr {
		if f.conn == conn && f.fromClient && f.payload > 0 && f.ts.Truncate(time.Microsecond).Equal(discovery.Start) {
			requestFrame = f.n
		}
	}
	// The server's records after the handshake: the response.
	lastServer := 0
	for _, f := range fr {
		if f.conn == conn && !f.fromClient && f.payload > 0 {
			lastServer = f.n
		}
	}
	for _, tc := range []struct {
		name string
		drop int
		// rule is the rule the damaged capture makes fail without the
		// mechanism.
		rule string
		kind string // the reader's kind for the connection ("" = none listed)
	}{
		{"server-handshake-lost", first(false), "SEQ-ASM-ORDER", "bytes-missing"},
		{"client-hello-lost", first(true), "SEQ-ASM-ORDER", "no-handshake"},
		// The frame with the request itself: the connection was
		// decrypted up to there (the reader lists it as partly read).
		{"request-lost", requestFrame, "SEQ-ASM-ORDER", ""},
		// The request is read, its response is not (the exchange says
		// so with an undecrypted gap): "no metadata answered" is not
		// established.
		{"response-lost", lastServer, "ASM-PROVIDED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, info := readCapture(t, dropFrames(t, path, tc.drop), keys, "keys")
			if tc.kind != "" && (len(info.Undecrypted) != 1 || info.Undecrypted[0].Kind != tc.kind) {
				t.Fatalf("undecrypted %+v, want one %s connection", info.Undecrypted, tc.kind)
			}
			// What the analysis concluded before it knew about unreadable
			// traffic: the rule fails. (Exchange gaps are always read, so
			// the response-lost case is judged with the gap removed.)
			blind := exs
			if tc.kind == "" {
				blind = withoutLossGaps(exs)
			}
			if fail, _ := outcomes(judge(t, blind, nil), tc.rule); fail == 0 {
				t.Fatalf("%s does not fail on the damaged capture judged blind: the test no longer reproduces the defect", tc.rule)
			}
			fs := judge(t, exs, append(info.Undecrypted, info.PartlyRead...))
			for _, f := range fs {
				if f.Outcome == rules.Fail {
					t.Errorf("%s fails: %s", f.Rule, f.Message)
				}
			}
			fail, na := outcomes(fs, tc.rule)
			if fail != 0 || na == 0 {
				t.Fatalf("%s: %d fail, %d not-available; want not-available", tc.rule, fail, na)
			}
			for _, f := range fs {
				if f.Rule == tc.rule && f.Outcome == rules.NotAvailable {
					if !strings.Contains(f.Message, "may be in the") || !strings.Contains(f.Message, ":443") {
						t.Errorf("message does not say where: %s", f.Message)
					}
					if len(f.Evidence) != 1 || len(f.Evidence[0].Ref.Frames) == 0 {
						t.Errorf("evidence does not point at the frames: %+v", f.Evidence)
					}
				}
			}
		})
	}
}

// withoutLossGaps copies exchanges without their bytes-missing and
// undecrypted gaps (as the analysis saw them before it used them).
func withoutLossGaps(exs []*capture.Exchange) []*capture.Exchange {
	out := make([]*capture.Exchange, len(exs))
	for i, ex := range exs {
		c := *ex
		c.Gaps = nil
		for _, g := range ex.Gaps {
			if g.Kind != capture.GapBytesMissing && g.Kind != capture.GapUndecrypted {
				c.Gaps = append(c.Gaps, g)
			}
		}
		out[i] = &c
	}
	return out
}

// TestTLSWithoutSomeKeysNoNewFailures: the real MCP conformance capture
// sent through TLS, with the keys of one connection left out of the key
// log. Whichever connection it is, no rule may fail that passes on the
// complete traffic: what was not decrypted is missing, not absent. The
// connections that carried an authorization request are always tried
// (without the mechanism DCRQ-SCOPE fails on one: the flow then has a
// registration without scope and no authorization request to compare it
// with), and every tenth other one; OAUTHLINT_TLS_EXHAUSTIVE=1 tries
// them all (as capture/pcap's TestTLSEquivalenceWithoutSomeKeys).
func TestTLSWithoutSomeKeysNoNewFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the conformance capture once per connection")
	}
	var src []*capture.Exchange
	for _, p := range []string{"../../../shared/captures/conformance-auth.sdk-example.har", "/work/shared/captures/conformance-auth.sdk-example.har"} {
		if _, err := os.Stat(p); err == nil {
			if src, _, err = har.ReadFile(p, har.Options{}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if src == nil {
		t.Skip("shared/captures/conformance-auth.sdk-example.har not found")
	}
	path, keys, sent := writeTLS(t, src, tlsgen.Options{Seed: 11, HTTP2: true, PerConn: 3})
	lines := strings.Split(strings.TrimSpace(string(keys)), "\n")
	// Connections in the order of the key log (4 lines per TLS 1.3
	// connection), each with the exchanges it carried.
	var conns [][]*capture.Exchange
	for i, ex := range sent {
		if i == 0 || ex.ClientAddr != sent[i-1].ClientAddr {
			conns = append(conns, nil)
		}
		conns[len(conns)-1] = append(conns[len(conns)-1], ex)
	}
	if len(conns)*4 != len(lines) {
		t.Fatalf("%d connections, %d key log lines", len(conns), len(lines))
	}
	base := failing(judge(t, sent, nil))
	exhaustive := os.Getenv("OAUTHLINT_TLS_EXHAUSTIVE") == "1"
	tried, blindFalse := 0, 0
	for c := range conns {
		authz := false
		for _, ex := range conns[c] {
			authz = authz || ex.Request.URL.Query().Get("response_type") != ""
		}
		if !exhaustive && !authz && c%10 != 0 {
			continue
		}
		tried++
		kept := append(append([]string{}, lines[:c*4]...), lines[c*4+4:]...)
		exs, info := readCapture(t, path, []byte(strings.Join(kept, "\n")), "partial")
		if len(info.Undecrypted) != 1 {
			t.Fatalf("connection %d without keys: undecrypted %+v", c+1, info.Undecrypted)
		}
		for _, f := range judge(t, exs, info.Undecrypted) {
			if f.Outcome == rules.Fail && !base[f.Rule] {
				t.Errorf("connection %d without keys: %s fails, but not on the complete traffic: %s", c+1, f.Rule, f.Message)
			}
		}
		if authz {
			for r := range failing(judge(t, exs, nil)) {
				if !base[r] {
					blindFalse++
					t.Logf("connection %d without keys: %s would fail without knowing about the undecrypted connection", c+1, r)
				}
			}
		}
	}
	t.Logf("%d of %d connections tried", tried, len(conns))
	if blindFalse == 0 {
		t.Errorf("no connection without keys misleads the analysis that ignores undecrypted connections: the test no longer exercises the mechanism")
	}
}

// TestUnreadableOnlyWithholdsFailures runs every fixture twice: as it is,
// and as if each of its hosts also had an undecrypted connection spanning
// the whole capture. Knowing about unreadable traffic never adds a
// failure, and adds no not-available finding except in place of a
// failure (a rule that passes on what was read stays silent); a
// violation inside a captured message that does not depend on what the
// unreadable traffic may hold is still reported.
func TestUnreadableOnlyWithholdsFailures(t *testing.T) {
	files, err := rules.FixtureFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ rule, flow string }
	kept, withheld := map[string]bool{}, 0
	// One finding per defect: a rule superseded by a more specific one is
	// dropped where that one fails. When the specific one is withheld,
	// the general one is reported in its place.
	supersededBy := map[string][]string{}
	for _, r := range engine(t).Rules() {
		for _, id := range r.Supersedes {
			supersededBy[id] = append(supersededBy[id], r.ID)
		}
	}
	for _, file := range files {
		fx := loadFixture(t, file)
		exs, info, opts := fx.exs, fx.info, fx.opts
		first, last := span(exs)
		hosts := map[string]bool{}
		for _, ex := range exs {
			hosts[ex.Request.URL.Hostname()] = true
		}
		var und []capture.Undecrypted
		for h := range hosts {
			und = append(und, capture.Undecrypted{Start: first.Add(-time.Second), End: last.Add(time.Second), Client: "10.0.0.5:50000",
				Server: "10.9.9.9:443", ServerName: h, Kind: "no-keys", Reason: "no keys",
				Ref: capture.Ref{File: "x.pcap", Entry: -1, Frames: []int64{1, 2}, Conn: "10.0.0.5:50000 -> 10.9.9.9:443 " + h}})
		}
		run := func(und []capture.Undecrypted) []rules.Finding {
			res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: opts.MCPRevision, ClientRun: info.ClientRun, Undecrypted: und})
			return engine(t).Run(res, rules.RunOptions{Packs: opts.Packs})
		}
		base, got := run(nil), run(und)
		count := func(fs []rules.Finding) (fail, na map[key]bool) {
			fail, na = map[key]bool{}, map[key]bool{}
			for _, f := range fs {
				for _, fl := range append([]string{f.Flow}, f.Flows...) {
					switch f.Outcome {
					case rules.Fail:
						fail[key{f.Rule, fl}] = true
					case rules.NotAvailable:
						na[key{f.Rule, fl}] = true
					}
				}
			}
			return fail, na
		}
		baseFail, baseNA := count(base)
		gotFail, gotNA := count(got)
		// A superseded rule may surface where its superseding rule was
		// withheld.
		surfaced := func(k key) bool {
			for _, by := range supersededBy[k.rule] {
				if baseFail[key{by, k.flow}] && !gotFail[key{by, k.flow}] {
					return true
				}
			}
			return false
		}
		for k := range gotFail {
			if !baseFail[k] && !surfaced(k) {
				t.Errorf("%s: %s fails in flow %s only next to unreadable traffic", file, k.rule, k.flow)
			}
			kept[k.rule] = true
		}
		for k := range gotNA {
			if baseNA[k] {
				continue
			}
			if !baseFail[k] && !surfaced(k) {
				t.Errorf("%s: %s not-available in flow %s without failing on the traffic read", file, k.rule, k.flow)
			}
			withheld++
		}
	}
	t.Logf("%d failures withheld; %d rules still fail inside captured messages", withheld, len(kept))
	for _, r := range []string{"ASM-200-JSON", "AZ-PKCE-S256", "TR-NO-STORE"} {
		if !kept[r] {
			t.Errorf("%s no longer fails on any fixture next to unreadable traffic: violations in captured messages must stand", r)
		}
	}
	if withheld == 0 {
		t.Error("no failure was withheld: the mechanism did not apply")
	}
}

// TestMonotoneRulesStandNextToUnreadableTraffic: a code redeemed twice, a
// rotated refresh token used again, are violations on the wire that no
// unread message can take back; next to a connection without keys they
// still fail, while a rule that concludes from a flow's whole list of
// messages (the same rule without monotone) is withheld.
func TestMonotoneRulesStandNextToUnreadableTraffic(t *testing.T) {
	for _, c := range []struct{ rule, fixture string }{
		{"TQ-CODE-SINGLE-USE", "fire-retried-code.har"},
		{"RT-USE-LATEST", "fire-rotated-token-reused.har"},
		{"RT-REPLAY-DETECT", "fire-old-token-accepted.har"},
	} {
		t.Run(c.rule, func(t *testing.T) {
			fx := loadFixture(t, filepath.Join("testdata", c.rule, c.fixture))
			exs, opts := fx.exs, fx.opts
			first, last := span(exs)
			host := exs[len(exs)-1].Request.URL.Hostname()
			und := []capture.Undecrypted{{Start: first.Add(-time.Second), End: last.Add(time.Second), Client: "10.0.0.5:50000",
				Server: "10.9.9.9:443", ServerName: host, Kind: "no-keys", Reason: "no keys",
				Ref: capture.Ref{File: "x.pcap", Entry: -1, Frames: []int64{1, 2}, Conn: "10.0.0.5:50000 -> 10.9.9.9:443 " + host}}}
			var rule *rules.Rule
			for _, r := range engine(t).Rules() {
				if r.ID == c.rule {
					rule = r
				}
			}
			if rule == nil || !rule.Monotone {
				t.Fatalf("%s is not a monotone built-in rule", c.rule)
			}
			judgeWith := func(r rules.Rule) (fail, na int) {
				e, err := rules.Compile([]*rules.Rule{&r})
				if err != nil {
					t.Fatal(err)
				}
				res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: opts.MCPRevision, Undecrypted: und})
				return outcomes(e.Run(res, rules.RunOptions{Packs: opts.Packs}), c.rule)
			}
			if fail, na := judgeWith(*rule); fail == 0 || na != 0 {
				t.Errorf("monotone: %d fail, %d not-available next to unreadable traffic; want the failure to stand", fail, na)
			}
			plain := *rule
			plain.Monotone = false
			if fail, na := judgeWith(plain); fail != 0 || na == 0 {
				t.Errorf("control without monotone: %d fail, %d not-available; want it withheld (else this test proves nothing)", fail, na)
			}
		})
	}
}

// fixture is a rule fixture as the tests judge it.
type fixture struct {
	exs  []*capture.Exchange
	opts rules.FixtureOptions
	info input.Info
}

func loadFixture(t *testing.T, file string) fixture {
	t.Helper()
	exs, info, err := input.Read(file, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := rules.ParseFixtureOptions(info.Comment)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{exs: exs, opts: opts, info: info}
}

// span is the time from the first exchange's start to the last one's end.
func span(exs []*capture.Exchange) (first, last time.Time) {
	for _, ex := range exs {
		if first.IsZero() || ex.Start.Before(first) {
			first = ex.Start
		}
		if e := ex.Start.Add(ex.Duration); e.After(last) {
			last = e
		}
	}
	return first, last
}

// findingLines renders findings with everything a reader sees, for
// comparing two runs.
func findingLines(fs []rules.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s %s #%d %s | %s | %v", f.Rule, f.Outcome, f.Severity, f.Flow, f.Anchor, f.Message, f.Fix, f.Evidence))
	}
	return out
}
