package pcapgen

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Header is one header line.
type Header struct{ Name, Value string }

// Exchange is one HTTP/1.1 request and its response as the generator puts
// them on the wire. Framing headers (Content-Encoding, Content-Length,
// Transfer-Encoding) are added from the fields below.
type Exchange struct {
	Method, Target string
	ReqHeaders     []Header
	ReqBody        []byte // as the application sees it (decoded)
	ReqCoding      string // content coding applied on the wire
	ReqChunked     bool
	ExpectContinue bool // send the head, wait for 100 Continue, then the body

	Status      int
	Reason      string
	RespHeaders []Header
	RespBody    []byte
	RespCoding  string
	RespChunked bool
	// RespUntilClose sends the response without length: the server closes
	// the connection after it.
	RespUntilClose bool
	NoResponse     bool // the server never answers
	Comment        string

	// BodyKey, when set, identifies RespBody for the encoding cache
	// (bodies reused from a pool are compressed once).
	BodyKey string

	// Filled while writing.
	Start      time.Time // timestamp of the packet with the first request byte
	StartFrame int64
	End        time.Time // timestamp of the last response packet
	Client     netip.AddrPort
	Server     netip.AddrPort
	reqWire    []byte // request headers as sent
	wireReqHdr []Header
	wireRspHdr []Header
}

// WireRequestHeaders are the request headers as sent (with framing).
func (e *Exchange) WireRequestHeaders() []Header { return e.wireReqHdr }

// WireResponseHeaders are the response headers as sent (with framing).
func (e *Exchange) WireResponseHeaders() []Header { return e.wireRspHdr }

// Conn is one TCP connection.
type Conn struct {
	Client, Server netip.AddrPort
	// MSS is the largest segment payload (1448 on Ethernet with
	// timestamps, 65483 on loopback).
	MSS int
	// RTT is the round-trip time the timing model uses.
	RTT time.Duration
	// Close: "fin" (default), "rst" (client resets), "none" (left open).
	Close string
	// NoSYN starts the connection mid-stream (no handshake written).
	NoSYN bool

	cseq, sseq   uint32
	opened       bool
	serverClosed bool // the server sent its FIN (response until close)
	freeAt       time.Time
	segs         []*Segment
	marks        map[*Segment]*Exchange
}

// Impair are the network impairments applied to data segments.
type Impair struct {
	Reorder    float64 // probability of swapping a segment with the next
	Retransmit float64 // probability of retransmitting a segment a little later
	Loss       float64 // probability the capture misses a segment (gaps)
}

// batch is a set of connections whose packets overlap in time; batches
// follow each other, so a capture of any size is written with the memory
// of one batch.
type batch struct {
	g     *Generator
	conns []*Conn
	exs   []*Exchange
	udp   []udpPkt
	start time.Time
	end   time.Time
}

type udpPkt struct {
	ts       time.Time
	src, dst netip.AddrPort
	payload  []byte
}

func (b *batch) advance(t time.Time) {
	if t.After(b.end) {
		b.end = t
	}
}

// open writes the handshake if the connection is new; it returns when the
// connection can carry data.
func (b *batch) open(c *Conn, at time.Time) time.Time {
	if c.opened {
		if c.freeAt.After(at) {
			return c.freeAt
		}
		return at
	}
	c.opened = true
	if c.MSS == 0 {
		c.MSS = 1448
	}
	if c.RTT == 0 {
		c.RTT = time.Millisecond
	}
	c.marks = map[*Segment]*Exchange{}
	r := b.g.rng
	c.cseq, c.sseq = r.Uint32(), r.Uint32()
	b.conns = append(b.conns, c)
	if c.NoSYN {
		c.freeAt = at
		return at
	}
	t := at
	c.add(&Segment{TS: t, Src: c.Client, Dst: c.Server, Seq: c.cseq, Flags: SYN})
	c.cseq++
	t = t.Add(c.RTT / 2)
	c.add(&Segment{TS: t, Src: c.Server, Dst: c.Client, Seq: c.sseq, Ack: c.cseq, Flags: SYN | ACK})
	c.sseq++
	t = t.Add(c.RTT / 2)
	c.add(&Segment{TS: t, Src: c.Client, Dst: c.Server, Seq: c.cseq, Ack: c.sseq, Flags: ACK})
	t = t.Add(20 * time.Microsecond)
	c.freeAt = t
	return t
}

func (c *Conn) add(s *Segment) { c.segs = append(c.segs, s) }

// send puts data from one side on the wire in MSS-sized segments with
// ACKs from the other side; it returns the time after the last segment
// and the first segment.
func (c *Conn) send(fromClient bool, data []byte, t time.Time, step time.Duration) (time.Time, *Segment) {
	src, dst := c.Client, c.Server
	seq, ack := &c.cseq, &c.sseq
	if !fromClient {
		src, dst = c.Server, c.Client
		seq, ack = &c.sseq, &c.cseq
	}
	var first *Segment
	n := 0
	for len(data) > 0 {
		k := min(len(data), c.MSS)
		s := &Segment{TS: t, Src: src, Dst: dst, Seq: *seq, Ack: *ack, Flags: ACK, Payload: data[:k]}
		if k == len(data) {
			s.Flags |= PSH
		}
		c.add(s)
		if first == nil {
			first = s
		}
		*seq += uint32(k)
		data = data[k:]
		t = t.Add(step)
		n++
		if n%2 == 0 || len(data) == 0 {
			// Delayed ACK: every second segment and after the last.
			c.add(&Segment{TS: t, Src: dst, Dst: src, Seq: *ack, Ack: *seq, Flags: ACK})
			t = t.Add(step / 2)
		}
	}
	return t, first
}

// Do performs one exchange on c, not before at; it returns the time the
// exchange ended.
func (b *batch) Do(c *Conn, e *Exchange, at time.Time) time.Time {
	t := b.open(c, at)
	return b.doAt(c, []*Exchange{e}, t)
}

// Pipeline sends all requests back to back, then the responses in order.
func (b *batch) Pipeline(c *Conn, es []*Exchange, at time.Time) time.Time {
	t := b.open(c, at)
	return b.doAt(c, es, t)
}

func (b *batch) doAt(c *Conn, es []*Exchange, t time.Time) time.Time {
	g := b.g
	step := 12 * time.Microsecond
	var resps [][]byte
	for _, e := range es {
		e.Client, e.Server = c.Client, c.Server
		head, body := g.encodeRequest(e)
		var first *Segment
		if e.ExpectContinue && len(body) > 0 {
			t, first = c.send(true, head, t, step)
			t = t.Add(c.RTT)
			t, _ = c.send(false, []byte("HTTP/1.1 100 Continue\r\n\r\n"), t, step)
			t = t.Add(c.RTT / 2)
			t, _ = c.send(true, body, t, step)
		} else {
			t, first = c.send(true, append(head, body...), t, step)
		}
		c.marks[first] = e
		b.exs = append(b.exs, e)
		resps = append(resps, g.encodeResponse(e))
	}
	think := time.Duration(200+g.rng.IntN(5000)) * time.Microsecond
	t = t.Add(c.RTT/2 + think)
	for i, e := range es {
		if e.NoResponse {
			e.End = t
			continue
		}
		t, _ = c.send(false, resps[i], t, step)
		e.End = t
		t = t.Add(50 * time.Microsecond)
		if e.RespUntilClose && !c.serverClosed {
			// The body ends with the server's FIN.
			c.add(&Segment{TS: t, Src: c.Server, Dst: c.Client, Seq: c.sseq, Ack: c.cseq, Flags: FIN | ACK})
			c.sseq++
			c.serverClosed = true
			t = t.Add(c.RTT / 2)
		}
	}
	c.freeAt = t
	b.advance(t)
	return t
}

// closeAll ends every connection of the batch.
func (b *batch) closeAll() {
	for _, c := range b.conns {
		t := c.freeAt.Add(time.Duration(1+b.g.rng.IntN(50)) * time.Millisecond)
		switch c.Close {
		case "none":
		case "rst":
			c.add(&Segment{TS: t, Src: c.Client, Dst: c.Server, Seq: c.cseq, Ack: c.sseq, Flags: RST | ACK})
		default:
			c.add(&Segment{TS: t, Src: c.Client, Dst: c.Server, Seq: c.cseq, Ack: c.sseq, Flags: FIN | ACK})
			c.cseq++
			t = t.Add(c.RTT / 2)
			if c.serverClosed {
				c.add(&Segment{TS: t, Src: c.Server, Dst: c.Client, Seq: c.sseq, Ack: c.cseq, Flags: ACK})
				b.advance(t)
				continue
			}
			c.add(&Segment{TS: t, Src: c.Server, Dst: c.Client, Seq: c.sseq, Ack: c.cseq, Flags: FIN | ACK})
			c.sseq++
			t = t.Add(c.RTT / 2)
			c.add(&Segment{TS: t, Src: c.Client, Dst: c.Server, Seq: c.cseq, Ack: c.sseq, Flags: ACK})
		}
		b.advance(t)
	}
}

// impair reorders, duplicates and drops data segments of one connection.
func (b *batch) impair(c *Conn, im Impair) {
	if im == (Impair{}) {
		return
	}
	r := b.g.rng
	segs := c.segs
	for i := 0; i+1 < len(segs); i++ {
		s, n := segs[i], segs[i+1]
		if len(s.Payload) == 0 || len(n.Payload) == 0 || s.Src != n.Src {
			continue
		}
		if r.Float64() < im.Reorder {
			// Swap the two segments but keep the timestamps in order.
			s.TS, n.TS = n.TS, s.TS
			segs[i], segs[i+1] = n, s
			i++
		}
	}
	var out []*Segment
	for i, s := range segs {
		if len(s.Payload) > 0 && s.Flags&SYN == 0 && im.Loss > 0 && r.Float64() < im.Loss {
			delete(c.marks, s)
			continue
		}
		out = append(out, s)
		if len(s.Payload) > 0 && im.Retransmit > 0 && r.Float64() < im.Retransmit {
			// A spurious retransmission a few packets later.
			k := min(i+1+r.IntN(3), len(segs)-1)
			d := *s
			d.TS = segs[k].TS.Add(time.Microsecond)
			out = append(out, &d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS.Before(out[j].TS) })
	c.segs = out
}

// flush writes the batch's packets in time order.
func (b *batch) flush(pw *PacketWriter) error {
	b.closeAll()
	type item struct {
		s    *Segment
		conn *Conn
		udp  *udpPkt
	}
	var all []item
	for _, c := range b.conns {
		b.impair(c, b.g.Impair)
		for _, s := range c.segs {
			all = append(all, item{s: s, conn: c})
		}
	}
	for i := range b.udp {
		all = append(all, item{udp: &b.udp[i]})
	}
	ts := func(it item) time.Time {
		if it.udp != nil {
			return it.udp.ts
		}
		return it.s.TS
	}
	sort.SliceStable(all, func(i, j int) bool { return ts(all[i]).Before(ts(all[j])) })
	res := pw.Resolution()
	for _, it := range all {
		if it.udp != nil {
			if err := pw.WriteUDP(it.udp.ts.Truncate(res), it.udp.src, it.udp.dst, it.udp.payload); err != nil {
				return err
			}
			continue
		}
		s := it.s
		s.TS = s.TS.Truncate(res)
		if err := pw.WriteTCP(s); err != nil {
			return err
		}
		if e := it.conn.marks[s]; e != nil && e.StartFrame == 0 {
			e.Start, e.StartFrame = s.TS, pw.Frames
		}
	}
	sort.SliceStable(b.exs, func(i, j int) bool {
		a, c := b.exs[i], b.exs[j]
		if !a.Start.Equal(c.Start) {
			return a.Start.Before(c.Start)
		}
		return a.StartFrame < c.StartFrame
	})
	return nil
}

func (g *Generator) encodeRequest(e *Exchange) (head, body []byte) {
	hdr := append([]Header(nil), e.ReqHeaders...)
	wire := e.ReqBody
	if e.ReqCoding != "" && len(e.ReqBody) > 0 {
		wire = g.encode(e.ReqCoding, "", e.ReqBody)
		hdr = append(hdr, Header{"Content-Encoding", e.ReqCoding})
	}
	if e.ReqChunked {
		hdr = append(hdr, Header{"Transfer-Encoding", "chunked"})
		wire = g.chunk(wire)
	} else if len(e.ReqBody) > 0 || e.Method == "POST" || e.Method == "PUT" || e.Method == "PATCH" {
		hdr = append(hdr, Header{"Content-Length", strconv.Itoa(len(wire))})
	}
	if e.ExpectContinue {
		hdr = append(hdr, Header{"Expect", "100-continue"})
	}
	e.wireReqHdr = hdr
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", e.Method, e.Target)
	for _, h := range hdr {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	e.reqWire = b.Bytes()
	return b.Bytes(), wire
}

func (g *Generator) encodeResponse(e *Exchange) []byte {
	hdr := append([]Header(nil), e.RespHeaders...)
	wire := e.RespBody
	noBody := e.Method == "HEAD" || e.Status == 204 || e.Status == 304 || e.Status < 200
	if e.RespCoding != "" && len(e.RespBody) > 0 {
		wire = g.encode(e.RespCoding, e.BodyKey, e.RespBody)
		hdr = append(hdr, Header{"Content-Encoding", e.RespCoding})
	}
	switch {
	case e.RespUntilClose:
		hdr = append(hdr, Header{"Connection", "close"})
	case e.RespChunked && !noBody:
		hdr = append(hdr, Header{"Transfer-Encoding", "chunked"})
		wire = g.chunk(wire)
	case e.Status != 204 && e.Status != 304 && e.Status >= 200:
		hdr = append(hdr, Header{"Content-Length", strconv.Itoa(len(wire))})
	}
	e.wireRspHdr = hdr
	var b bytes.Buffer
	b.Grow(256 + len(wire))
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", e.Status, e.Reason)
	for _, h := range hdr {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	if !noBody {
		b.Write(wire)
	}
	return b.Bytes()
}

// chunk splits a body into chunks of varying size.
func (g *Generator) chunk(body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/1000 + 32)
	for len(body) > 0 {
		n := min(len(body), 1+g.rng.IntN(16<<10))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// encode applies a content coding, cached for pooled bodies.
func (g *Generator) encode(coding, key string, body []byte) []byte {
	if key != "" {
		if b, ok := g.cache[coding+"\x00"+key]; ok {
			return b
		}
	}
	var buf bytes.Buffer
	switch coding {
	case "gzip":
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		w.Write(body)
		w.Close()
	case "deflate":
		w, _ := zlib.NewWriterLevel(&buf, flate.BestSpeed)
		w.Write(body)
		w.Close()
	case "br":
		w := brotli.NewWriterLevel(&buf, 1)
		w.Write(body)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		w.Write(body)
		w.Close()
	default:
		panic("pcapgen: unknown coding " + coding)
	}
	out := buf.Bytes()
	if key != "" {
		g.cache[coding+"\x00"+key] = out
	}
	return out
}
