package pcap

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

func TestSimpleExchangeRefAndTiming(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake() // frames 1-3
	c.send(true, get("example.test", "/a?b=c"), 0)           // 4 (+ ack 5)
	c.send(false, okText("hello"), 0)                        // 6 (+ ack 7)
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/a?b=c 200 body=hello\n")
	ex := exs[0]
	if got := ex.Ref.Frames; len(got) != 2 || got[0] != 4 || got[1] != 6 {
		t.Errorf("frames = %v, want [4 6]", got)
	}
	if ex.Ref.Conn != "10.0.0.1:50000 -> 10.0.0.2:80" || ex.Ref.Entry != -1 || ex.Ref.File != "test.pcap" {
		t.Errorf("ref = %+v", ex.Ref)
	}
	if ex.ClientAddr != "10.0.0.1:50000" || ex.ServerAddr != "10.0.0.2:80" {
		t.Errorf("addrs = %s %s", ex.ClientAddr, ex.ServerAddr)
	}
	if want := t0.Add(400 * 1000); !ex.Start.Equal(want) {
		t.Errorf("start = %s, want %s", ex.Start, want)
	}
	if ex.Duration != 200*1000 {
		t.Errorf("duration = %s, want 200µs", ex.Duration)
	}
	if ex.Request.Proto != "HTTP/1.1" || ex.Response.Proto != "HTTP/1.1" || ex.Response.StatusText != "OK" {
		t.Errorf("protos %q %q %q", ex.Request.Proto, ex.Response.Proto, ex.Response.StatusText)
	}
	if ex.Ref.String() != "test.pcap frames 4-6 (10.0.0.1:50000 -> 10.0.0.2:80)" {
		t.Errorf("ref string %q", ex.Ref.String())
	}
	if info.Packets != 10 || info.Connections != 1 || info.HTTPConnections != 1 || info.Requests != 1 {
		t.Errorf("info = %+v", info)
	}
}

func TestOutOfOrderSegments(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	req := "POST /token HTTP/1.1\r\nHost: as.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\ngrant_type=code&x=1y"
	// Three segments arriving 3, 1, 2.
	b.write(c.seg(true, 60, req[60:]))
	b.write(c.seg(true, 0, req[:30]))
	b.write(c.seg(true, 30, req[30:60]))
	c.advance(true, len(req))
	c.ack(false)
	resp := okText("ok")
	b.write(c.seg(false, 10, resp[10:]))
	b.write(c.seg(false, 0, resp[:10]))
	c.advance(false, len(resp))
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, "POST http://as.test/token req=grant_type=code&x=1y 200 body=ok\n")
	if info.OutOfOrder != 2 {
		t.Errorf("out-of-order = %d, want 2", info.OutOfOrder)
	}
	// Frames 4-6 carry the request (its first byte in frame 5, its end in
	// frame 4), 8-9 the response (completed by frame 8, which came before
	// its first byte in frame 9): the exchange spans 4-9, and starts at
	// its earliest packet.
	if got := exs[0].Ref.Frames; len(got) != 2 || got[0] != 4 || got[1] != 9 {
		t.Errorf("frames = %v, want [4 9] (lowest to highest packet of the exchange)", got)
	}
	if want := t0.Add(400 * time.Microsecond); !exs[0].Start.Equal(want) || exs[0].Duration != 500*time.Microsecond {
		t.Errorf("start %s duration %s, want %s (frame 4) and 500µs (to frame 9)", exs[0].Start, exs[0].Duration, want)
	}
}

// TestReorderedFrameRange: when a later part of a message was captured
// in an earlier packet than its first byte, the exchange's frames still
// run from the lowest to the highest packet that carried its bytes
// (FuzzReassembly found Ref frames 5-4: the request began in frame 5
// and was completed by frame 4, a segment cut by the snap length).
func TestReorderedFrameRange(t *testing.T) {
	req := get("example.test", "/reorder")
	for _, tc := range []struct {
		name  string
		order []int // which third of the request each packet carries
		want  [2]int64
	}{
		{"end first", []int{2, 0, 1}, [2]int64{4, 8}},
		{"middle first", []int{1, 0, 2}, [2]int64{4, 8}},
		{"start last", []int{1, 2, 0}, [2]int64{4, 8}},
		{"in order", []int{0, 1, 2}, [2]int64{4, 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newCap(t)
			c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake() // 1-3
			third := len(req) / 3
			cut := []int{0, third, 2 * third, len(req)}
			for _, k := range tc.order { // 4-6
				b.write(c.seg(true, cut[k], req[cut[k]:cut[k+1]]))
			}
			c.advance(true, len(req))
			c.ack(false)                     // 7
			c.send(false, okText("fine"), 0) // 8 (+ ack 9)
			c.close()
			exs, _ := b.read(Options{})
			wantSummary(t, exs, "GET http://example.test/reorder 200 body=fine\n")
			if len(exs) != 1 {
				return
			}
			if got := exs[0].Ref.Frames; len(got) != 2 || got[0] != tc.want[0] || got[1] != tc.want[1] {
				t.Errorf("frames %v, want %v", got, tc.want)
			}
			if want := t0.Add(400 * time.Microsecond); !exs[0].Start.Equal(want) || exs[0].Duration != 400*time.Microsecond {
				t.Errorf("start %s duration %s, want %s and 400µs", exs[0].Start, exs[0].Duration, want)
			}
		})
	}
}

// TestReorderedFrameRangeFuzzInput replays the schedule FuzzReassembly
// found (testdata/fuzz/FuzzReassembly/reorder-frames-backwards): the
// client's first 25 bytes are lost, the next 49 are sent cut by the snap
// length, then the lost bytes are retransmitted. Every exchange's frames
// must be in order and cover the packets of its request.
func TestReorderedFrameRangeFuzzInput(t *testing.T) {
	data := buildSchedule(t, pcapgen.FormatPcap, []byte("ZX00B000\x8c0000000"))
	exs, info, err := Read(bytes.NewReader(data), "fuzz.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) == 0 {
		t.Fatalf("no exchanges; warnings %v", info.Warnings)
	}
	for _, ex := range exs {
		checkExchange(t, ex)
	}
	// Frame 4 carries bytes 25-73 of the client's stream (the end of the
	// first request), frame 5 its first 25 bytes: the first exchange
	// starts at frame 4.
	if f := exs[0].Ref.Frames; f[0] != 4 || f[1] < 5 {
		t.Errorf("first exchange frames %v, want 4-(5 or later)", f)
	}
}

func TestRetransmissionsAndOverlaps(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	req := get("example.test", "/retrans")
	b.write(c.seg(true, 0, req[:20]))
	b.write(c.seg(true, 0, req[:20]))    // exact retransmission
	b.write(c.seg(true, 10, req[10:40])) // overlaps 10 delivered bytes
	b.write(c.seg(true, 40, req[40:]))
	b.write(c.seg(true, 5, req[5:])) // everything again
	c.advance(true, len(req))
	c.ack(false)
	c.send(false, okText("fine"), 0)
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/retrans 200 body=fine\n")
	if info.Retransmissions < 2 {
		t.Errorf("retransmissions = %d, want >= 2", info.Retransmissions)
	}
}

func TestSequenceWraparound(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").withISN(0xffffff00, 0xfffffff0).handshake()
	body := strings.Repeat("x", 600)
	c.send(true, get("example.test", "/wrap"), 100)
	c.send(false, okText(body), 97)
	c.close()
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/wrap 200 body="+body+"\n")
}

func TestMidStreamStart(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:8000")
	// The capture starts inside a response body, then a full exchange.
	b.write(c.seg(false, 0, "tail of a body from before the capture\r\n"))
	c.advance(false, 40)
	c.exchange(get("example.test", "/after"), okText("second"))
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/after 200 body=second\n")
	if info.HTTPConnections != 1 {
		t.Errorf("connection not recognised as HTTP: %+v", info)
	}
}

func TestMidStreamStartInsideRequest(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80")
	// The client direction starts in the middle of a request body; the
	// answer to that request must not be paired with the next request.
	b.write(c.seg(true, 0, "=1&y=2"))
	c.advance(true, 6)
	c.send(false, okText("orphan"), 0)
	c.exchange(get("example.test", "/next"), okText("paired"))
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/next 200 body=paired\n")
	if !hasWarning(info, "without a captured request") {
		t.Errorf("no orphan warning: %v", info.Warnings)
	}
}

func TestGapInLengthFramedBodyKeepsParsing(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/big"), 0)
	resp := okText(strings.Repeat("a", 300))
	b.write(c.seg(false, 0, resp[:100]))
	// resp[100:200] is never captured; the client acknowledges it.
	b.write(c.seg(false, 200, resp[200:]))
	c.advance(false, len(resp))
	c.ack(true)
	c.ack(true)
	c.ack(true)
	c.exchange(get("example.test", "/next"), okText("still parsed"))
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, `
GET http://example.test/big 200 body=`+strings.Repeat("a", 100-len(okText(strings.Repeat("a", 300)))+300)+` [bytes-missing] [response-body]
GET http://example.test/next 200 body=still parsed
`)
	if info.Gaps != 1 || info.GapBytes != 100 {
		t.Errorf("gaps = %d (%d bytes), want 1 (100)", info.Gaps, info.GapBytes)
	}
}

func TestGapInChunkedBodyStopsDirection(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/chunked"), 0)
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
	b.write(c.seg(false, 0, resp[:60]))
	b.write(c.seg(false, 80, resp[80:])) // 20 bytes lost
	c.advance(false, len(resp))
	c.ack(true)
	c.ack(true)
	c.ack(true)
	// The next request is still parsed; its response cannot be.
	c.exchange(get("example.test", "/next"), okText("unparsed"))
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, `
GET http://example.test/chunked 200 body=012345678 [bytes-missing] [response-body]
GET http://example.test/next - [no-response] [bytes-missing]
`)
	if !hasWarning(info, "stopped parsing the server's responses") {
		t.Errorf("warnings: %v", info.Warnings)
	}
}

func TestGapInRequestHeadStopsRequests(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("example.test", "/first"), okText("1"))
	req := get("example.test", "/lost-head")
	b.write(c.seg(true, 0, req[:10]))
	b.write(c.seg(true, 20, req[20:]))
	c.advance(true, len(req))
	c.ack(false)
	c.ack(false)
	c.ack(false)
	c.send(false, okText("2"), 0)
	c.exchange(get("example.test", "/third"), okText("3"))
	c.close()
	exs, info := b.read(Options{})
	// Nothing after the gap is parsed as a request, and the responses that
	// follow cannot be paired.
	wantSummary(t, exs, "GET http://example.test/first 200 body=1\n")
	if !hasWarning(info, "stopped parsing the client's requests") {
		t.Errorf("warnings: %v", info.Warnings)
	}
}

func TestLostTailAtEndOfCapture(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/tail"), 0)
	resp := okText("0123456789")
	b.write(c.seg(false, 0, resp[:len(resp)-4]))
	c.advance(false, len(resp))
	c.ack(true) // acknowledges bytes never captured
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/tail 200 body=012345 [bytes-missing] [response-body]\n")
}

func TestRSTBeforeResponse(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/reset"), 0)
	c.rst(false)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/reset - [no-response]\n")
	if d := exs[0].Gaps[0].Detail; !strings.Contains(d, "reset") {
		t.Errorf("gap detail %q does not say reset", d)
	}
}

func TestRSTAfterResponse(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("example.test", "/x"), okText("done"))
	c.rst(true)
	// Packets after the reset (late retransmissions) are ignored.
	b.write(c.seg(false, -len(okText("done")), okText("done")))
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/x 200 body=done\n")
}

func TestHalfClose(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/half"), 0)
	c.fin(true) // the client is done sending, still reading
	c.ack(false)
	c.send(false, okText("after half close"), 0)
	c.fin(false)
	c.ack(true)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/half 200 body=after half close\n")
}

func TestPortReuse(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("example.test", "/one"), okText("1"))
	c.close()
	// Same 4-tuple, new connection after a clean close.
	c2 := b.conn("10.0.0.1:50000", "10.0.0.2:80").withISN(777777, 888888).handshake()
	c2.exchange(get("example.test", "/two"), okText("2"))
	// Same tuple again without any close of the previous connection.
	c3 := b.conn("10.0.0.1:50000", "10.0.0.2:80").withISN(3333333, 4444444).handshake()
	c3.exchange(get("example.test", "/three"), okText("3"))
	c3.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, `
GET http://example.test/one 200 body=1
GET http://example.test/two 200 body=2
GET http://example.test/three 200 body=3
`)
	if info.Connections != 3 {
		t.Errorf("connections = %d, want 3", info.Connections)
	}
}

func TestFINBeforeLastData(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/close")+"", 0)
	resp := "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close"
	// The FIN is captured before the last data segment.
	b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq + uint32(len(resp)), Ack: c.cseq, Flags: pcapgen.FIN | pcapgen.ACK})
	b.write(c.seg(false, 0, resp))
	c.advance(false, len(resp)+1)
	c.fin(true)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://example.test/close 200 body=body until close\n")
}

func TestSnaplenCutPacket(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("example.test", "/snap"), 0)
	resp := okText(strings.Repeat("z", 200))
	s := c.seg(false, 0, resp)
	s.Snap = 14 + 20 + 32 + 100 // link + IP + TCP headers + 100 payload bytes
	b.write(s)
	c.advance(false, len(resp))
	c.ack(true)
	c.exchange(get("example.test", "/after-snap"), okText("ok"))
	exs, info := b.read(Options{})
	wantSummary(t, exs, `
GET http://example.test/snap 200 body=`+strings.Repeat("z", 100-len(okText(strings.Repeat("z", 200)))+200)+` [bytes-missing] [response-body]
GET http://example.test/after-snap 200 body=ok
`)
	if info.GapBytes != int64(len(resp)-100) {
		t.Errorf("gap bytes = %d, want %d", info.GapBytes, len(resp)-100)
	}
}

func TestManyConnectionsInterleaved(t *testing.T) {
	b := newCap(t)
	var cs []*tconn
	for i := 0; i < 20; i++ {
		c := b.conn("10.0.0.1:"+itoa(40000+i), "10.0.0.2:80").handshake()
		cs = append(cs, c)
	}
	for i, c := range cs {
		c.send(true, get("example.test", "/"+itoa(i)), 0)
	}
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].send(false, okText("r"+itoa(i)), 0)
	}
	exs, _ := b.read(Options{})
	if len(exs) != 20 {
		t.Fatalf("%d exchanges", len(exs))
	}
	for i, ex := range exs {
		// Request-start order, each answered by its own connection.
		if ex.Request.URL.Path != "/"+itoa(i) || string(ex.Response.Body) != "r"+itoa(i) {
			t.Errorf("exchange %d: %s %q", i, ex.Request.URL, ex.Response.Body)
		}
	}
}

func TestStreamEmitsAsCompleted(t *testing.T) {
	b := newCap(t)
	c1 := b.conn("10.0.0.1:40001", "10.0.0.2:80").handshake()
	c2 := b.conn("10.0.0.1:40002", "10.0.0.2:80").handshake()
	c1.send(true, get("a.test", "/slow"), 0)
	c2.exchange(get("b.test", "/fast"), okText("f"))
	c1.send(false, okText("s"), 0)
	var order []string
	_, err := Stream(strings.NewReader(string(b.bytes())), "s.pcap", Options{}, func(ex *capture.Exchange) {
		order = append(order, ex.Request.URL.Path)
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "/fast,/slow" {
		t.Errorf("stream order %v, want completion order /fast,/slow", order)
	}
	exs, _, _ := Read(strings.NewReader(string(b.bytes())), "s.pcap", Options{})
	if exs[0].Request.URL.Path != "/slow" {
		t.Errorf("Read must sort by request start: %s first", exs[0].Request.URL.Path)
	}
}

// TestResponseCapturedBeforeItsRequest: the capture missed the client's
// request and caught its retransmission only after the server's answer
// (which acknowledges it). The response must not be paired with the
// wrong request (FuzzReassembly found request 0 paired with response 1,
// without a gap).
func TestResponseCapturedBeforeItsRequest(t *testing.T) {
	reqs := []string{get("example.test", "/first"), get("example.test", "/second")}
	resps := []string{okText("first"), okText("second")}
	t.Run("head split", func(t *testing.T) {
		// The response's head completes after the request arrives: it
		// answers the request, whose packet came late.
		b := newCap(t)
		c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
		s := c.seg(false, 0, resps[0][:20]) // acknowledges the unseen request
		s.Ack = c.cseq + uint32(len(reqs[0]))
		b.write(s)
		b.write(c.seg(true, 0, reqs[0])) // the retransmitted request
		c.advance(true, len(reqs[0]))
		b.write(c.seg(false, 20, resps[0][20:]))
		c.advance(false, len(resps[0]))
		c.exchange(reqs[1], resps[1])
		c.close()
		exs, info := b.read(Options{})
		wantSummary(t, exs, `
GET http://example.test/first 200 body=first
GET http://example.test/second 200 body=second
`)
		if hasWarning(info, "without a captured request") {
			t.Errorf("warnings %v", info.Warnings)
		}
	})
	t.Run("whole response first", func(t *testing.T) {
		// The whole response comes before its request: it is skipped,
		// and the request gets no response rather than the next one.
		b := newCap(t)
		c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
		s := c.seg(false, 0, resps[0])
		s.Ack = c.cseq + uint32(len(reqs[0]))
		b.write(s)
		c.advance(false, len(resps[0]))
		b.write(c.seg(true, 0, reqs[0]))
		c.advance(true, len(reqs[0]))
		c.ack(false)
		c.exchange(reqs[1], resps[1])
		c.close()
		exs, info := b.read(Options{})
		wantSummary(t, exs, `
GET http://example.test/first - [no-response]
GET http://example.test/second 200 body=second
`)
		if len(exs) == 2 && (len(exs[0].Gaps) == 0 || !strings.Contains(exs[0].Gaps[0].Detail, "captured before the request")) {
			t.Errorf("gaps %v", exs[0].Gaps)
		}
		if !hasWarning(info, "caught the response before its request") {
			t.Errorf("warnings %v", info.Warnings)
		}
	})
}
