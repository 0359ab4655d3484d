package pcap

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Guarantees against damaged and hostile captures found by the hardening
// work (fuzzing, the hostile corpus of internal/hostile).

// TestSnapCutFirstRequestNeverMispairs: bytes cut by the snap length are
// missing bytes, also when they fall in the first message of a direction,
// before the connection's protocol is recognised. Here the first request
// of a keep-alive connection is recorded with 20 of its 25 payload bytes
// (tcpdump -s style; found by FuzzReassembly). The hole may hold whole
// requests, so no request after it can be paired with a response by
// order: the client's requests stop there with a warning, as after a gap
// in a head, and no response is ever given to the wrong request (no
// exchange without a gap carries another request's response).
func TestSnapCutFirstRequestNeverMispairs(t *testing.T) {
	// One step: the client sends the first 25 bytes in one segment whose
	// capture is cut to 86 bytes (66 of headers + 20 of payload); the rest
	// of the conversation follows intact.
	data := buildSchedule(t, pcapgen.FormatPcap, []byte{0x42, 24, 32, 0})
	exs, info, err := Read(bytes.NewReader(data), "snap.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if ex.Response == nil || ex.HasGap(capture.GapBytesMissing) || ex.HasGap(capture.GapResponseBody) {
			continue
		}
		for _, w := range truthWant {
			if ex.Request.URL.String() == w.url && string(ex.Response.Body) != w.respBody {
				t.Errorf("%s paired with response body %q (want %q), without a gap", w.url, ex.Response.Body, w.respBody)
			}
		}
	}
	if !hasWarning(info, "stopped parsing the client's requests: 5 bytes missing from the capture") {
		t.Errorf("no warning that the client's requests stopped")
	}
	if t.Failed() {
		t.Logf("exchanges:\n%s", summary(exs))
		t.Logf("warnings: %v", info.Warnings)
	}
}

// TestLostFirstSegmentNeverMispairs: the same guarantee for a segment the
// capture dropped (revealed by the server's acknowledgements before it
// answers): the first request is lost, the two pipelined after it are
// captured, and their answers come after both. The response to the lost
// request must not be given to the next one.
func TestLostFirstSegmentNeverMispairs(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	lost, r2, r3 := get("example.test", "/lost"), get("example.test", "/two"), get("example.test", "/three")
	b.write(c.seg(true, len(lost), r2+r3)) // the first segment is not captured
	c.advance(true, len(lost+r2+r3))
	c.ack(false)
	c.ack(false)
	c.ack(false)
	c.send(false, okText("answer to /lost"), 0)
	c.send(false, okText("answer to /two"), 0)
	c.send(false, okText("answer to /three"), 0)
	c.close()
	exs, info := b.read(Options{})
	for _, ex := range exs {
		if ex.Response != nil && string(ex.Response.Body) != "answer to "+ex.Request.URL.Path {
			t.Errorf("%s paired with %q", ex.Request.URL, ex.Response.Body)
		}
	}
	if !hasWarning(info, "stopped parsing the client's requests") {
		t.Errorf("warnings: %v", info.Warnings)
	}
}

// TestSnapCutFirstResponseRecordsGap: the server's first response is cut
// by the snap length while the connection's protocol is still being
// recognised (its packet was captured before the rest of the request).
// The responses after the hole are not paired with the requests: those
// record that no response could be read and that server bytes were lost.
func TestSnapCutFirstResponseRecordsGap(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	r1, r2 := get("example.test", "/one"), get("example.test", "/two")
	b.write(c.seg(true, 0, r1[:8])) // "GET /one": not yet a request line
	s1 := okText("answer to /one")
	s := c.seg(false, 0, s1)
	s.Snap = 14 + 20 + 32 + 10 // link + IP + TCP headers + "HTTP/1.1 2"
	b.write(s)
	c.advance(false, len(s1))
	b.write(c.seg(true, 8, r1[8:]+r2))
	c.advance(true, len(r1+r2))
	c.ack(false)
	c.send(false, okText("answer to /two"), 0)
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, `
GET http://example.test/one - [no-response] [bytes-missing]
GET http://example.test/two - [no-response] [bytes-missing]
`)
	if !hasWarning(info, "stopped parsing the server's responses") {
		t.Errorf("warnings: %v", info.Warnings)
	}
}

// nopHandler consumes a connection's bytes and does nothing.
type nopHandler struct{}

func (nopHandler) data(int, []byte, pktRef)   {}
func (nopHandler) gap(int, int, pktRef)       {}
func (nopHandler) end(int, endReason, pktRef) {}
func (nopHandler) finish(endReason, pktRef)   {}

// TestOpenConnectionsCapped: memory grows with the connections open at
// one time, and their number is capped (DefaultMaxOpenConnections, 65536).
// A capture of 300 000 connections that each send a SYN and the start of
// a request head and never close (a SYN flood, a port scan with payload,
// or a crafted file), all within the 30-minute idle timeout, keeps at
// most 65536 of them: each new one past the cap finishes the least
// recently active early and forgets it (no tombstone), so the table holds
// no more than the cap.
func TestOpenConnectionsCapped(t *testing.T) {
	const n = 300000
	const want = 65536
	tab := newTCPTable(func(*tcpConn) connHandler { return nopHandler{} })
	dst := netip.MustParseAddrPort("10.0.0.2:80")
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var seg segment
	for i := 0; i < n; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(1 + i>>16), byte(i >> 8), byte(i)}), uint16(40000+i%20000))
		at := pktRef{frame: int64(2*i + 1), ts: start.Add(time.Duration(i) * time.Millisecond)}
		seg = segment{src: src, dst: dst, seq: 999, syn: true}
		tab.packet(&seg, at)
		at.frame++
		seg = segment{src: src, dst: dst, seq: 1000, ackFlag: true, payload: []byte("POST /token HTTP/1.1\r\nHost: as.test\r\n")}
		tab.packet(&seg, at)
	}
	if got := tab.openConns(); got > want {
		t.Errorf("%d connections held open at once after %d were opened in %v of capture time; want at most %d (a cap, with the oldest finished early)",
			got, n, time.Duration(n)*time.Millisecond, want)
	}
	if got := len(tab.conns); got > want {
		t.Errorf("%d connections (open and finished) in the table, want at most %d", got, want)
	}
	if tab.active.n != tab.openConns() || tab.stats.evicted != n-want {
		t.Errorf("active list %d, open %d, evicted %d (want %d)", tab.active.n, tab.openConns(), tab.stats.evicted, n-want)
	}
}

// TestFinishedConnectionsCapped: finished connections are remembered for
// a while (tombstones, to recognise late retransmissions), but no more of
// them than the open-connection cap, however fast they come.
func TestFinishedConnectionsCapped(t *testing.T) {
	tab := newTCPTable(func(*tcpConn) connHandler { return nopHandler{} })
	tab.maxOpen = 100
	dst := netip.MustParseAddrPort("10.0.0.2:80")
	at := pktRef{ts: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	for i := 0; i < 1000; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
		for _, seg := range []segment{
			{src: src, dst: dst, seq: 999, syn: true},
			{src: src, dst: dst, seq: 1000, ackFlag: true, payload: []byte("GET / HTTP/1.1\r\n\r\n")},
			{src: src, dst: dst, seq: 1018, rst: true},
		} {
			at.frame++
			tab.packet(&seg, at)
		}
	}
	if len(tab.conns) > 100 || tab.tombs.n != len(tab.conns) || tab.openConns() != 0 {
		t.Errorf("%d connections in the table (%d tombstones, %d open), want at most 100 tombstones", len(tab.conns), tab.tombs.n, tab.openConns())
	}
	if tab.stats.evicted != 0 {
		t.Errorf("%d evicted, want 0 (finished connections are not open)", tab.stats.evicted)
	}
}

// TestEvictedConnectionRecordsGap: when a new connection would exceed
// Options.MaxOpenConnections, the least recently active connection (not
// the oldest one) is finished early: its exchanges under way are emitted
// with a gap saying why, its later packets are read as a connection
// captured mid-stream (here its late response, which no request
// follows, is skipped), and one warning counts the evictions.
func TestEvictedConnectionRecordsGap(t *testing.T) {
	b := newCap(t)
	a := b.conn("10.0.0.1:40001", "10.0.0.2:80").handshake()
	a.send(true, get("example.test", "/a1"), 0)
	v := b.conn("10.0.0.1:40002", "10.0.0.2:80").handshake()
	v.send(true, get("example.test", "/victim"), 0)
	a.send(false, okText("a1"), 0) // a is now the more recently active
	c := b.conn("10.0.0.1:40003", "10.0.0.2:80").handshake()
	c.exchange(get("example.test", "/c"), okText("c"))
	c.close()
	v.send(false, okText("late answer"), 0)
	a.exchange(get("example.test", "/a2"), okText("a2"))
	a.close()
	exs, info := b.read(Options{MaxOpenConnections: 2})
	wantSummary(t, exs, `
GET http://example.test/a1 200 body=a1
GET http://example.test/victim - [no-response]
GET http://example.test/c 200 body=c
GET http://example.test/a2 200 body=a2
`)
	if len(exs) == 4 {
		if d := exs[1].Gaps[0].Detail; !strings.Contains(d, "finished early (too many connections open)") {
			t.Errorf("gap detail %q does not say why", d)
		}
		if f := exs[1].Ref.Frames; len(f) != 2 || f[1] < f[0] {
			t.Errorf("frames %v", f)
		}
	}
	if info.EvictedConnections != 1 || !hasWarning(info, "1 connection(s) were finished early") {
		t.Errorf("evicted %d, warnings %v", info.EvictedConnections, info.Warnings)
	}
	if !hasWarning(info, "without a captured request") {
		t.Errorf("the late answer was not skipped: %v", info.Warnings)
	}
}

// TestIdleConnectionEndsAtItsLastPacket: a connection finished early
// (idle for 30 minutes of capture time, or evicted by the cap) ends where
// its own packets end: its exchanges keep frames in order and a duration
// that does not run to the packet that happened to trigger the sweep.
func TestIdleConnectionEndsAtItsLastPacket(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/idle"), 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close", 0)
	o := b.conn("10.0.0.1:50001", "10.0.0.2:80").handshake()
	b.ts = b.ts.Add(31 * time.Minute)
	for i := 0; i < sweepEvery; i++ {
		o.ack(false) // enough packets for a sweep
	}
	exs, _ := b.read(Options{})
	if len(exs) != 1 {
		t.Fatalf("exchanges:\n%s", summary(exs))
	}
	ex := exs[0]
	if f := ex.Ref.Frames; len(f) != 2 || f[0] != 4 || f[1] != 7 || ex.Duration > time.Second {
		t.Errorf("frames %v, duration %v; want [4 7] (the connection's own packets)", f, ex.Duration)
	}
	if !strings.Contains(ex.Gaps[0].Detail, "idle") {
		t.Errorf("gaps %v", ex.Gaps)
	}
}

// TestEvictedConnectionFlushesBody: a connection finished early by the
// cap is flushed like one the capture ends: the body under way is kept
// as far as it came, with a gap saying why the rest is missing.
func TestEvictedConnectionFlushesBody(t *testing.T) {
	b := newCap(t)
	v := b.conn("10.0.0.1:40001", "10.0.0.2:80").handshake()
	v.send(true, get("example.test", "/victim"), 0)
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n"
	v.send(false, head+strings.Repeat("x", 1200), 0)
	c := b.conn("10.0.0.1:40002", "10.0.0.2:80").handshake()
	c.exchange(get("example.test", "/c"), okText("c"))
	c.close()
	exs, info := b.read(Options{MaxOpenConnections: 1})
	wantSummary(t, exs, `
GET http://example.test/victim 200 body=`+strings.Repeat("x", 1200)+` [response-body]
GET http://example.test/c 200 body=c
`)
	if len(exs) > 0 && len(exs[0].Gaps) > 0 {
		if d, want := exs[0].Gaps[0].Detail, "response incomplete: connection finished early (too many connections open) after 1200 of 5000 body bytes"; d != want {
			t.Errorf("gap %q, want %q", d, want)
		}
	}
	if info.EvictedConnections != 1 {
		t.Errorf("evicted %d", info.EvictedConnections)
	}
}
