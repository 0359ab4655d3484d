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

// capBuilder writes hand-crafted packet sequences into an in-memory
// capture, for tests that need exact control over segments.
type capBuilder struct {
	t   *testing.T
	buf bytes.Buffer
	pw  *pcapgen.PacketWriter
	ts  time.Time
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newCap(t *testing.T) *capBuilder {
	return newCapFormat(t, pcapgen.FormatPcap, pcapgen.LinkEthernet)
}

func newCapFormat(t *testing.T, f pcapgen.Format, link pcapgen.Link) *capBuilder {
	t.Helper()
	b := &capBuilder{t: t, ts: t0}
	pw, err := pcapgen.NewPacketWriter(&b.buf, f, link)
	if err != nil {
		t.Fatal(err)
	}
	b.pw = pw
	return b
}

// tick advances the capture clock by 100 µs and returns it.
func (b *capBuilder) tick() time.Time {
	b.ts = b.ts.Add(100 * time.Microsecond)
	return b.ts
}

func (b *capBuilder) write(s *pcapgen.Segment) {
	b.t.Helper()
	if s.TS.IsZero() {
		s.TS = b.tick()
	}
	if err := b.pw.WriteTCP(s); err != nil {
		b.t.Fatal(err)
	}
}

func (b *capBuilder) bytes() []byte {
	b.t.Helper()
	if err := b.pw.Flush(); err != nil {
		b.t.Fatal(err)
	}
	return b.buf.Bytes()
}

func (b *capBuilder) read(opts Options) ([]*capture.Exchange, *Info) {
	b.t.Helper()
	exs, info, err := Read(bytes.NewReader(b.bytes()), "test.pcap", opts)
	if err != nil {
		b.t.Fatal(err)
	}
	return exs, info
}

// tconn is one TCP conversation; it tracks both sequence numbers.
type tconn struct {
	b        *capBuilder
	cli, srv netip.AddrPort
	cseq     uint32 // next client sequence number
	sseq     uint32 // next server sequence number
	cisn     uint32
	sisn     uint32
}

func (b *capBuilder) conn(cli, srv string) *tconn {
	return &tconn{b: b, cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv), cseq: 1000, sseq: 5000, cisn: 999, sisn: 4999}
}

func (c *tconn) withISN(cli, srv uint32) *tconn {
	c.cisn, c.sisn, c.cseq, c.sseq = cli, srv, cli+1, srv+1
	return c
}

func (c *tconn) handshake() *tconn {
	c.b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cisn, Flags: pcapgen.SYN})
	c.b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sisn, Ack: c.cseq, Flags: pcapgen.SYN | pcapgen.ACK})
	c.b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.ACK})
	return c
}

// seg builds (without writing) a segment of one side at a relative offset
// from that side's current sequence number.
func (c *tconn) seg(fromClient bool, off int, data string) *pcapgen.Segment {
	if fromClient {
		return &pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq + uint32(off), Ack: c.sseq, Flags: pcapgen.ACK | pcapgen.PSH, Payload: []byte(data)}
	}
	return &pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq + uint32(off), Ack: c.cseq, Flags: pcapgen.ACK | pcapgen.PSH, Payload: []byte(data)}
}

// send writes data from one side in segments of at most mss bytes (0: one
// segment) and acknowledges it from the other side.
func (c *tconn) send(fromClient bool, data string, mss int) {
	if mss <= 0 {
		mss = len(data)
	}
	for off := 0; off < len(data); off += mss {
		end := min(off+mss, len(data))
		c.b.write(c.seg(fromClient, off, data[off:end]))
	}
	c.advance(fromClient, len(data))
	c.ack(!fromClient)
}

func (c *tconn) advance(fromClient bool, n int) {
	if fromClient {
		c.cseq += uint32(n)
	} else {
		c.sseq += uint32(n)
	}
}

// ack writes a bare ACK from one side acknowledging everything so far.
func (c *tconn) ack(fromClient bool) {
	if fromClient {
		c.b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.ACK})
	} else {
		c.b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq, Ack: c.cseq, Flags: pcapgen.ACK})
	}
}

func (c *tconn) fin(fromClient bool) {
	if fromClient {
		c.b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.FIN | pcapgen.ACK})
		c.cseq++
	} else {
		c.b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq, Ack: c.cseq, Flags: pcapgen.FIN | pcapgen.ACK})
		c.sseq++
	}
}

func (c *tconn) rst(fromClient bool) {
	if fromClient {
		c.b.write(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.RST | pcapgen.ACK})
	} else {
		c.b.write(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sseq, Ack: c.cseq, Flags: pcapgen.RST | pcapgen.ACK})
	}
}

// close does the usual FIN/FIN/ACK.
func (c *tconn) close() {
	c.fin(true)
	c.fin(false)
	c.ack(true)
}

// exchange sends a request and its response, each in one segment.
func (c *tconn) exchange(req, resp string) {
	c.send(true, req, 0)
	c.send(false, resp, 0)
}

func get(host, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n"
}

func okText(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// summary renders exchanges compactly for assertions:
// "GET http://h/p 200 body=… gaps=[…]".
func summary(exs []*capture.Exchange) string {
	var b strings.Builder
	for _, ex := range exs {
		b.WriteString(ex.Request.Method + " " + ex.Request.URL.String())
		if len(ex.Request.Body) > 0 {
			b.WriteString(" req=" + string(ex.Request.Body))
		}
		if ex.Response != nil {
			b.WriteString(" " + itoa(ex.Response.Status))
			if len(ex.Response.Body) > 0 {
				b.WriteString(" body=" + string(ex.Response.Body))
			}
		} else {
			b.WriteString(" -")
		}
		for _, g := range ex.Gaps {
			b.WriteString(" [" + string(g.Kind) + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func wantSummary(t *testing.T, exs []*capture.Exchange, want string) {
	t.Helper()
	got := summary(exs)
	want = strings.TrimLeft(want, "\n")
	if got != want {
		t.Errorf("exchanges:\n%s\nwant:\n%s", got, want)
	}
}

func hasWarning(info *Info, sub string) bool {
	for _, w := range info.Warnings {
		if strings.Contains(w.String(), sub) {
			return true
		}
	}
	return false
}
