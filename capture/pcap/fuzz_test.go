package pcap

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Fuzz targets of the TCP reassembly feed, the HTTP/1.1 stream parser and
// the ClientHello parser (FuzzRead in badinput_test.go covers the file
// formats). Run one: go test ./capture/pcap -run '^$' -fuzz '^FuzzReassembly$' -fuzztime 1m
// (scripts/fuzz.sh runs them all).

// The true conversation FuzzReassembly cuts into segments: three
// keep-alive exchanges, one with a form body and one with a chunked
// response.
var (
	truthReqs = []string{
		"GET /a?x=1 HTTP/1.1\r\nHost: t.test\r\n\r\n",
		"POST /token HTTP/1.1\r\nHost: t.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials",
		"GET /c HTTP/1.1\r\nHost: t.test\r\n\r\n",
	}
	truthResps = []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nfirst",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":\"b\r\n3\r\n\"}\n\r\n0\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nthird",
	}
	truthWant = []struct{ url, reqBody, respBody string }{
		{"http://t.test/a?x=1", "", "first"},
		{"http://t.test/token", "grant_type=client_credentials", "{\"a\":\"b\"}\n"},
		{"http://t.test/c", "", "third"},
	}
)

// FuzzReassembly cuts a known HTTP/1.1 conversation into TCP segments as
// the fuzzer says: any sizes, reordering, duplicates and overlapping
// retransmissions, losses (with or without acknowledgements that reveal
// them), and a FIN or RST at any point. Whatever the schedule, the reader
// must not panic and must never return wrong content as if it were
// complete: an exchange that carries no gap for a part must hold exactly
// the true request (and response) of one exchange, paired with each
// other; losses must show up as gaps or missing exchanges, never as
// silently altered or crossed bodies.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 200, 0, 0, 1, 200, 0, 0, 0, 200, 0, 0, 1, 200, 0, 0}, false)
	f.Add([]byte{0, 5, 0, 0, 0, 7, 0, 0, 10, 9, 0, 0, 12, 0, 0, 0, 1, 30, 0, 0, 9, 3, 4, 0, 1, 255, 0, 0}, true)
	f.Add([]byte{2, 1, 0, 0, 2, 1, 0, 0, 4, 3, 0, 0, 3, 1, 0, 0, 14, 0, 0, 0, 6, 20, 0, 0}, false)
	f.Fuzz(func(t *testing.T, schedule []byte, pcapng bool) {
		format := pcapgen.FormatPcap
		if pcapng {
			format = pcapgen.FormatPcapng
		}
		data := buildSchedule(t, format, schedule)
		exs, info, err := Read(bytes.NewReader(data), "fuzz.pcap", Options{MaxBody: 1 << 16})
		if err != nil {
			t.Fatalf("%v", err)
		}
		if len(exs) > len(truthReqs) {
			t.Fatalf("%d exchanges from a conversation of %d", len(exs), len(truthReqs))
		}
		used := map[int]bool{}
		for _, ex := range exs {
			checkExchange(t, ex)
			reqWhole := !ex.HasGap(capture.GapBytesMissing) && !ex.HasGap(capture.GapRequestBody)
			if !reqWhole {
				continue
			}
			k := -1
			for i, w := range truthWant {
				if ex.Request.URL.String() == w.url && string(ex.Request.Body) == w.reqBody {
					k = i
				}
			}
			if k < 0 {
				t.Fatalf("request without a gap but not one of the conversation: %s %q gaps %v\nwarnings %v",
					ex.Request.URL, ex.Request.Body, ex.Gaps, info.Warnings)
			}
			if used[k] {
				t.Fatalf("request %d returned twice", k)
			}
			used[k] = true
			if ex.Response == nil || ex.HasGap(capture.GapResponseBody) {
				continue
			}
			if string(ex.Response.Body) != truthWant[k].respBody {
				t.Fatalf("request %d (%s) paired with response body %q, want %q; gaps %v\nwarnings %v",
					k, ex.Request.URL, ex.Response.Body, truthWant[k].respBody, ex.Gaps, info.Warnings)
			}
		}
	})
}

// buildSchedule interprets schedule as 4-byte steps [op, a, b, c]:
// op&1 picks the direction (0 client, 1 server); op>>1&7 the action:
// 0-3 send the next a%64+1 bytes, 4 retransmit b%64+1 bytes from a bytes
// back, 5 lose the next a%64+1 bytes (they may be sent later), 6 send
// the oldest lost range, 7 acknowledge everything sent so far plus c
// (revealing losses). op&0x10 sets FIN on the segment, op&0x20 RST, op&0x40
// cuts the packet with a snap length of b. The server never sends more
// than the responses to the requests the client has sent or lost: a
// server cannot answer what it was not asked. Whatever is left is sent
// in order at the end, then both sides close.
func buildSchedule(t *testing.T, format pcapgen.Format, schedule []byte) []byte {
	b := newCapFormat(t, format, pcapgen.LinkEthernet)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").withISN(0xfffffe00, 7).handshake()
	streams := [2]string{strings.Join(truthReqs, ""), strings.Join(truthResps, "")}
	var cursor [2]int
	var lost [2][][2]int
	allowed := func(dir int) int {
		if dir == 0 {
			return len(streams[0])
		}
		// The server may answer request i once it is whole at the server.
		n, end := 0, 0
		for i, r := range truthReqs {
			end += len(r)
			if cursor[0] >= end {
				n += len(truthResps[i])
			}
		}
		return n
	}
	send := func(dir, from, n int, flags uint8, snap int) {
		if n <= 0 || from < 0 || from >= len(streams[dir]) {
			return
		}
		n = min(n, len(streams[dir])-from)
		s := c.seg(dir == 0, from, streams[dir][from:from+n])
		// Each side acknowledges what the other has sent (or lost) so
		// far, as a real stack would: the reader may use it as evidence.
		if dir == 0 {
			s.Ack = c.sseq + uint32(cursor[1])
		} else {
			s.Ack = c.cseq + uint32(cursor[0])
		}
		s.Flags |= flags
		s.Snap = snap
		b.write(s)
	}
	for i := 0; i+3 < len(schedule) && i < 4*256; i += 4 {
		op, a, bb, cc := schedule[i], int(schedule[i+1]), int(schedule[i+2]), int(schedule[i+3])
		dir := int(op & 1)
		var flags uint8
		if op&0x10 != 0 {
			flags |= pcapgen.FIN
		}
		if op&0x20 != 0 {
			flags |= pcapgen.RST
		}
		snap := 0
		if op&0x40 != 0 {
			snap = 54 + bb // Ethernet+IP+TCP headers, then some payload
		}
		limit := allowed(dir)
		switch op >> 1 & 7 {
		case 0, 1, 2, 3:
			n := min(a%64+1, limit-cursor[dir])
			send(dir, cursor[dir], n, flags, snap)
			cursor[dir] += max(n, 0)
		case 4:
			send(dir, cursor[dir]-a, min(bb%64+1, a), flags, snap)
		case 5:
			n := min(a%64+1, limit-cursor[dir])
			if n > 0 {
				lost[dir] = append(lost[dir], [2]int{cursor[dir], n})
				cursor[dir] += n
			}
		case 6:
			if len(lost[dir]) > 0 {
				r := lost[dir][0]
				lost[dir] = lost[dir][1:]
				send(dir, r[0], r[1], flags, snap)
			}
		case 7:
			// dir acknowledges the other direction.
			other := 1 - dir
			ackOff := min(cursor[other]+cc%8, len(streams[other]))
			if dir == 0 {
				b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq + uint32(cursor[0]), Ack: c.sseq + uint32(ackOff), Flags: pcapgen.ACK | flags})
			} else {
				b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq + uint32(cursor[1]), Ack: c.cseq + uint32(ackOff), Flags: pcapgen.ACK | flags})
			}
		}
	}
	// The rest, in order, then FIN from both sides.
	for dir := 0; dir < 2; dir++ {
		send(dir, cursor[dir], allowed(dir)-cursor[dir], 0, 0)
		cursor[dir] = max(cursor[dir], allowed(dir))
	}
	c.advance(true, cursor[0])
	c.advance(false, cursor[1])
	c.close()
	return b.bytes()
}

// checkExchange asserts what every exchange must satisfy, whatever the
// input: an absolute http URL, a token method, bodies within the cap, a
// status in range, frames in capture order.
func checkExchange(t *testing.T, ex *capture.Exchange) {
	t.Helper()
	if ex.Request == nil || ex.Request.URL == nil || !ex.Request.URL.IsAbs() || ex.Request.URL.Host == "" {
		t.Fatalf("exchange without an absolute URL: %+v", ex.Request)
	}
	if s := ex.Request.URL.Scheme; s != "http" && s != "https" {
		t.Fatalf("URL scheme %q", s)
	}
	if !isToken(ex.Request.Method) {
		t.Fatalf("method %q is not a token", ex.Request.Method)
	}
	if len(ex.Request.Body) > 1<<16 || (ex.Response != nil && len(ex.Response.Body) > 1<<16) {
		t.Fatal("body over MaxBody")
	}
	if ex.Response != nil && (ex.Response.Status < 100 || ex.Response.Status > 999) {
		t.Fatalf("status %d", ex.Response.Status)
	}
	if len(ex.Ref.Frames) == 0 || ex.Ref.Frames[0] < 1 {
		t.Fatalf("ref without frames: %+v", ex.Ref)
	}
	for i := 1; i < len(ex.Ref.Frames); i++ {
		if ex.Ref.Frames[i] < ex.Ref.Frames[i-1] {
			t.Fatalf("frames out of order: %v", ex.Ref.Frames)
		}
	}
	for _, h := range append(append(capture.Headers{}, ex.Request.Headers...), responseHeaders(ex)...) {
		if h.Name == "" {
			t.Fatalf("header name %q", h.Name)
		}
	}
}

func responseHeaders(ex *capture.Exchange) capture.Headers {
	if ex.Response == nil {
		return nil
	}
	return ex.Response.Headers
}

// FuzzHTTP1Stream feeds arbitrary bytes as the client and the server
// stream of one well-formed TCP connection, cut into segments of
// fuzzer-chosen sizes: the HTTP/1.x parser (framing, chunked bodies,
// content codings, upgrades, CONNECT, pipelining, resynchronisation)
// must not panic and every exchange it returns must be well-formed.
func FuzzHTTP1Stream(f *testing.F) {
	f.Add([]byte(keepAliveRequests), []byte(keepAliveResponses), uint8(7), uint8(13))
	f.Add([]byte(strings.Join(truthReqs, "")), []byte(strings.Join(truthResps, "")), uint8(0), uint8(1))
	f.Add([]byte("CONNECT as.test:443 HTTP/1.1\r\nHost: as.test:443\r\n\r\n\x16\x03\x01\x00\x05hello"), []byte("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"), uint8(3), uint8(3))
	f.Add([]byte("GET /ws HTTP/1.1\r\nHost: w\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"), []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"), uint8(0), uint8(0))
	f.Add([]byte("POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\nabc"), []byte("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), uint8(1), uint8(2))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"), uint8(5), uint8(5))
	f.Fuzz(func(t *testing.T, cli, srv []byte, cmss, smss uint8) {
		b := newCap(t)
		c := b.conn("10.0.0.1:50000", "10.0.0.2:8080").handshake()
		c.send(true, string(cli), int(cmss))
		c.send(false, string(srv), int(smss))
		c.close()
		exs, info, err := Read(bytes.NewReader(b.bytes()), "fuzz.pcap", Options{MaxBody: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		if info.Requests < len(exs) {
			t.Fatalf("%d exchanges but %d requests counted", len(exs), info.Requests)
		}
		for _, ex := range exs {
			checkExchange(t, ex)
		}
		for _, w := range info.Warnings {
			if w.Msg == "" {
				t.Fatal("empty warning")
			}
		}
	})
}

// FuzzClientHello: the SNI/ALPN parser never panics, returns errNeedMore
// only for input that more bytes could complete, and whatever host name it
// returns is safe to print once printableHost has cleaned it.
func FuzzClientHello(f *testing.F) {
	f.Add(clientHello("as.example.com"))
	f.Add(clientHelloNoSNI())
	f.Add(pcapgen.ClientHello(strings.Repeat("a", 300), "h2", rand.New(rand.NewPCG(3, 4))))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sni, alpn, err := parseClientHello(b)
		if err == errNeedMore {
			// More bytes could complete it, so the prefix must be a
			// prefix of handshake records.
			if len(b) > 0 && b[0] != 0x16 {
				t.Fatalf("need more for a non-handshake record %x", b[:1])
			}
			return
		}
		if err != nil {
			return
		}
		if len(b) < 5 || b[0] != 0x16 {
			t.Fatalf("a ClientHello (%q, %q) from a stream that does not start with a handshake record", sni, alpn)
		}
		p := printableHost(sni)
		if !utf8.ValidString(p) || len(p) > 253 || strings.ContainsAny(p, " \r\n\x00") {
			t.Fatalf("printableHost(%q) = %q", sni, p)
		}
	})
}
