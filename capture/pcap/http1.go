package pcap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
)

// HTTP/1.x message parsing, one parser per direction, fed with the
// reassembled bytes as they come (any split point). It frames messages
// exactly as RFC 9112 §6 says, keeps the head as captured (header order,
// case, duplicates) and the body up to a cap, and stops for good at the
// first byte it cannot frame: bytes after a framing error or a gap are
// never parsed as HTTP.

const (
	// maxHeadBytes caps a message head; a longer one is not HTTP (or is
	// hostile) and stops the direction.
	maxHeadBytes = 256 << 10
	// maxLineBytes caps a chunk-size or trailer line.
	maxLineBytes = 16 << 10
	// maxStartLine caps a request or status line (long URLs included).
	maxStartLine = 64 << 10
	// maxSyncScan is how far a direction that starts mid-message is
	// searched for the start of the next message.
	maxSyncScan = 4 << 20
)

type pstate uint8

const (
	psIdle      pstate = iota // between messages
	psSync                    // mid-stream start: looking for a message start
	psHead                    // inside a head
	psBody                    // length-framed body
	psChunkSize               // chunk-size line
	psChunkData               // chunk data
	psChunkEnd                // the CRLF after chunk data
	psTrailer                 // trailer section
	psClose                   // body delimited by the connection close
	psPaused                  // waiting for the answer to CONNECT/Upgrade
	psDead                    // stopped: nothing more is parsed
	psTunnel                  // the connection switched protocols
)

// message is one parsed request or response.
type message struct {
	resp    bool
	head    string // the whole head as captured; header strings share it
	method  string
	target  string
	proto   string
	status  int
	reason  string
	headers capture.Headers

	body      []byte
	wire      int64 // body bytes received (after de-chunking, before decoding)
	length    int64 // Content-Length, -1 when not length-framed
	chunked   bool
	keep      bool   // body bytes are stored
	keepMax   int64  // cap on stored (still encoded) body bytes
	truncated bool   // stored body hit keepMax
	dropped   string // why the body was not stored
	dropOver  bool   // drop (rather than truncate) when keepMax is exceeded

	first, last pktRef
	// lo and hi are the lowest and highest frames of the packets that
	// carried the message's bytes (or ended it). With reordering they
	// differ from first (where the first byte came from) and last (where
	// the message was completed): a later part of the message may have
	// been captured in an earlier packet.
	lo, hi pktRef
	order  int64 // parse order over the whole capture (tie-break)

	lostBytes  int64  // bytes of this message lost in gaps
	incomplete string // why the message ends early, "" when complete

	expectContinue bool
	earlyFinal     bool // a final response arrived before any body byte
	connect        bool
	upgrade        bool
	noBody         bool // response to HEAD, 1xx/204/304
}

// saw extends m's frame range with the packet at (and, for bytes
// decrypted from a record spanning packets, the packet where the record
// began).
func (m *message) saw(at pktRef) {
	m.lo, m.hi = spanFrames(m.lo, m.hi, at)
}

// spanFrames extends the frame range lo-hi with at.begin() and at.
// Frame 0 (no packet) is ignored.
func spanFrames(lo, hi, at pktRef) (pktRef, pktRef) {
	for _, p := range [2]pktRef{at.begin(), {frame: at.frame, ts: at.ts}} {
		if p.frame <= 0 {
			continue
		}
		if lo.frame <= 0 || p.frame < lo.frame {
			lo = p
		}
		if hi.frame <= 0 || p.frame > hi.frame {
			hi = p
		}
	}
	return lo, hi
}

// msgSink receives what a parser finds; httpConn implements it.
type msgSink interface {
	// headDone is called when a head is parsed. For a response it pairs
	// the message with its request and sets m.noBody/m.connect.
	headDone(p *msgParser, m *message)
	// msgDone is called when a message is complete or ends early.
	msgDone(p *msgParser, m *message)
	// failed is called once when the parser stops on bytes it cannot
	// parse.
	failed(p *msgParser, why string, at pktRef)
	// tunnel receives the bytes after a protocol switch (CONNECT, 101).
	tunnel(p *msgParser, b []byte, at pktRef)
}

type msgParser struct {
	resp   bool
	st     pstate
	sink   msgSink
	r      *reader
	buf    []byte // carry-over of a head or line split across packets
	scan   int    // head: where to resume looking for its end in buf
	m      *message
	remain int64 // bytes left in a length-framed body or a chunk
	synced int64 // bytes scanned in psSync
	lineOK bool  // the current head's start line was checked
	why    string
}

func (p *msgParser) stop(why string, at pktRef) {
	if p.st == psDead {
		return
	}
	m := p.m
	p.st = psDead
	p.buf = nil
	p.why = why
	p.m = nil
	if m != nil && !p.inHead(m) {
		if m.incomplete == "" {
			m.incomplete = why
		}
		m.last = at
		m.saw(at)
		p.sink.msgDone(p, m)
	}
	p.sink.failed(p, why, at)
}

// inHead reports whether m's head is still being read (m not announced).
func (p *msgParser) inHead(m *message) bool {
	return m.headers == nil && m.status == 0 && m.method == ""
}

// feed parses b, which follows the bytes fed before.
func (p *msgParser) feed(b []byte, at pktRef) {
	if p.m != nil && len(b) > 0 {
		// The bytes continue the current message (the packet carried at
		// least its next byte); a message that starts in b is marked
		// when it is created.
		p.m.saw(at)
	}
	for len(b) > 0 {
		switch p.st {
		case psDead:
			return
		case psTunnel:
			p.sink.tunnel(p, b, at)
			return
		case psPaused:
			if len(p.buf)+len(b) > maxHeadBytes {
				p.stop("too many bytes sent before the answer to CONNECT/Upgrade", at)
				return
			}
			p.buf = append(p.buf, b...)
			return
		case psSync:
			i := p.findStart(b)
			if i < 0 {
				p.synced += int64(len(b))
				if p.synced > maxSyncScan {
					p.stop("no HTTP message start found in the first bytes of a connection captured mid-stream", at)
				}
				return
			}
			b = b[i:]
			p.st = psIdle
		case psIdle:
			// Stray CRLFs between messages are allowed (RFC 9112 §2.2).
			i := 0
			for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
				i++
			}
			b = b[i:]
			if len(b) == 0 {
				return
			}
			p.m = &message{resp: p.resp, first: at.begin(), length: -1, order: p.r.nextOrder()}
			p.m.saw(at)
			p.st = psHead
			p.buf = p.buf[:0]
			p.scan = 0
		case psHead:
			n, ok := p.readHead(b, at)
			b = b[n:]
			if !ok {
				return
			}
		case psBody:
			m := p.m
			if m.expectContinue && m.earlyFinal && m.wire == 0 && looksLikeRequestStart(b) {
				// The server answered before the body and the client sent
				// the next request instead of the body (RFC 9110 §10.1.1).
				m.incomplete = "the client did not send the body after the server's final response to Expect: 100-continue"
				p.done(at)
				continue
			}
			n := int64(len(b))
			if n > p.remain {
				n = p.remain
			}
			p.body(b[:n])
			b = b[n:]
			p.remain -= n
			if p.remain == 0 {
				p.done(at)
			}
		case psChunkSize:
			line, n, ok := p.line(b, at)
			b = b[n:]
			if !ok {
				return
			}
			size, err := parseChunkSize(line)
			p.buf = p.buf[:0]
			if err != nil {
				p.stop(fmt.Sprintf("bad chunk size line %q: %v", clip(line, 40), err), at)
				return
			}
			if size == 0 {
				p.st = psTrailer
			} else {
				p.remain = size
				p.st = psChunkData
			}
		case psChunkData:
			n := int64(len(b))
			if n > p.remain {
				n = p.remain
			}
			p.body(b[:n])
			b = b[n:]
			p.remain -= n
			if p.remain == 0 {
				p.st = psChunkEnd
				p.remain = 2
			}
		case psChunkEnd:
			// Expect CRLF (a bare LF is tolerated).
			c := b[0]
			switch {
			case p.remain == 2 && c == '\r':
				p.remain = 1
				b = b[1:]
			case c == '\n':
				b = b[1:]
				p.st = psChunkSize
			default:
				p.stop(fmt.Sprintf("chunk data not followed by CRLF (found %q)", clip(b, 8)), at)
				return
			}
		case psTrailer:
			line, n, ok := p.line(b, at)
			b = b[n:]
			if !ok {
				return
			}
			empty := len(line) == 0
			p.buf = p.buf[:0]
			if empty {
				p.done(at)
			}
		case psClose:
			p.body(b)
			return
		}
	}
}

// findStart returns the offset of the first message start in b (at 0 or
// right after a line feed), or -1.
func (p *msgParser) findStart(b []byte) int {
	for i := 0; i < len(b); {
		if p.resp {
			if looksLikeStatusLine(b[i:]) {
				return i
			}
		} else if looksLikeRequestLine(b[i:]) {
			return i
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// readHead consumes head bytes; ok when the head is complete and parsed.
func (p *msgParser) readHead(b []byte, at pktRef) (n int, ok bool) {
	var head []byte
	if len(p.buf) == 0 {
		end := headEnd(b, 0)
		if end < 0 {
			p.lineOK = false
			if !p.plausibleStart(b, 0) {
				p.stop(fmt.Sprintf("not an HTTP/1.x %s: starts with %q", p.kind(), clip(b, 24)), at)
				return len(b), false
			}
			if len(b) > maxHeadBytes {
				p.stop(fmt.Sprintf("%s head longer than %d bytes", p.kind(), maxHeadBytes), at)
				return len(b), false
			}
			p.buf = append(p.buf, b...)
			p.scan = len(b)
			return len(b), false
		}
		head, n = b[:end], end
	} else {
		old := len(p.buf)
		take := len(b)
		if old+take > maxHeadBytes+4 {
			take = maxHeadBytes + 4 - old
		}
		p.buf = append(p.buf, b[:take]...)
		from := p.scan - 3
		if from < 0 {
			from = 0
		}
		end := headEnd(p.buf, from)
		if end < 0 {
			if !p.plausibleStart(p.buf, old) {
				p.stop(fmt.Sprintf("not an HTTP/1.x %s: starts with %q", p.kind(), clip(p.buf, 24)), at)
				return len(b), false
			}
			if len(p.buf) > maxHeadBytes {
				p.stop(fmt.Sprintf("%s head longer than %d bytes", p.kind(), maxHeadBytes), at)
				return len(b), false
			}
			p.scan = len(p.buf)
			return len(b), false
		}
		head, n = p.buf[:end], end-old
	}
	m := p.m
	if err := parseHead(m, head); err != nil {
		p.m = nil
		p.stop(err.Error(), at)
		return n, false
	}
	p.buf = p.buf[:0]
	m.last = at
	m.saw(at)
	p.sink.headDone(p, m)
	if p.st == psDead {
		return n, false
	}
	p.frame(m, at)
	return n, true
}

func (p *msgParser) kind() string {
	if p.resp {
		return "response"
	}
	return "request"
}

// plausibleStart checks an incomplete head early so that a non-HTTP
// stream is rejected before maxHeadBytes are buffered. b is the head so
// far, of which b[from:] is new: the work is proportional to the new
// bytes, so a head trickling in byte by byte costs linear time.
func (p *msgParser) plausibleStart(b []byte, from int) bool {
	if p.lineOK {
		return true
	}
	if i := bytes.IndexByte(b[from:], '\n'); i >= 0 {
		line := b[:from+i+1]
		if p.resp {
			p.lineOK = looksLikeStatusLine(line)
		} else {
			p.lineOK = looksLikeRequestLine(line)
		}
		return p.lineOK
	}
	if len(b) > maxStartLine {
		return false
	}
	if from >= 64 {
		return true // the prefix was checked when it arrived
	}
	prefix := b[:min(len(b), 64)]
	if p.resp {
		return couldBeStatusLine(prefix)
	}
	return couldBeRequestLine(prefix)
}

// frame decides how the body of m is delimited (RFC 9112 §6.3).
func (p *msgParser) frame(m *message, at pktRef) {
	te := m.headers.Values("Transfer-Encoding")
	if m.resp {
		switch {
		case m.noBody:
			p.done(at)
			return
		case m.connect:
			// CONNECT 2xx: the connection is a tunnel from here on.
			p.done(at)
			return
		}
	}
	if len(te) > 0 {
		codings := strings.Split(strings.Join(te, ","), ",")
		last := strings.ToLower(strings.TrimSpace(codings[len(codings)-1]))
		if last == "chunked" {
			m.chunked = true
			p.startBody(m, -1)
			p.st = psChunkSize
			return
		}
		if !m.resp {
			p.stop(fmt.Sprintf("request Transfer-Encoding %q does not end in chunked: its length cannot be determined (RFC 9112 §6.3)", strings.Join(te, ", ")), at)
			return
		}
		p.startBody(m, -1)
		p.st = psClose
		return
	}
	if cls := m.headers.Values("Content-Length"); len(cls) > 0 {
		n, err := parseContentLength(cls)
		if err != nil {
			p.stop(fmt.Sprintf("%s: %v", p.kind(), err), at)
			return
		}
		m.length = n
		if n == 0 {
			p.done(at)
			return
		}
		p.startBody(m, n)
		p.remain = n
		p.st = psBody
		return
	}
	if !m.resp {
		p.done(at)
		return
	}
	// A response without a length runs to the connection close.
	p.startBody(m, -1)
	p.st = psClose
}

func (p *msgParser) startBody(m *message, length int64) {
	p.r.bodyPolicy(m, length)
	if m.keep && length > 0 {
		n := length
		if n > m.keepMax {
			n = m.keepMax
		}
		if n > 1<<20 {
			n = 1 << 20 // grow beyond 1 MB only as bytes arrive
		}
		m.body = make([]byte, 0, n)
	}
}

// body stores (or counts) body bytes.
func (p *msgParser) body(b []byte) {
	m := p.m
	m.wire += int64(len(b))
	if !m.keep || len(b) == 0 {
		return
	}
	room := m.keepMax - int64(len(m.body))
	if int64(len(b)) > room {
		if m.dropOver {
			m.keep = false
			m.body = nil
			m.dropped = p.r.dropReason(m, "larger than the size kept for this media type")
			return
		}
		b = b[:room]
		m.truncated = true
	}
	m.body = append(m.body, b...)
}

// done completes the current message.
func (p *msgParser) done(at pktRef) {
	m := p.m
	p.m = nil
	if p.st != psDead {
		p.st = psIdle
	}
	m.last = at
	m.saw(at)
	p.sink.msgDone(p, m)
}

// gap: n bytes are missing from this direction at the current position.
func (p *msgParser) gap(n int, at pktRef) {
	m := p.m
	switch p.st {
	case psBody:
		if int64(n) <= p.remain {
			// Length framing still tells where the message ends: skip the
			// missing bytes inside the body and go on.
			m.lostBytes += int64(n)
			m.wire += int64(n)
			p.remain -= int64(n)
			// The stored prefix stays; bytes after the hole are not stored
			// (they would not be contiguous with it).
			m.keep = false
			if p.remain == 0 {
				p.done(at)
			}
			return
		}
		m.lostBytes += p.remain
		m.wire += p.remain
		m.incomplete = fmt.Sprintf("%d bytes were not captured (the rest of the body and what followed it)", n)
		p.stop(fmt.Sprintf("%d bytes missing from the capture", n), at)
	case psClose:
		m.lostBytes += int64(n)
		m.wire += int64(n)
		m.keep = false
	case psSync:
		// Still looking for a message start: nothing to lose.
	case psDead, psTunnel:
	default:
		if m != nil && !p.inHead(m) {
			m.lostBytes += int64(n)
			m.incomplete = fmt.Sprintf("%d bytes were not captured", n)
		}
		p.stop(fmt.Sprintf("%d bytes missing from the capture", n), at)
	}
}

// end: the direction ended (FIN, RST, end of capture).
func (p *msgParser) end(why endReason, at pktRef) {
	m := p.m
	switch p.st {
	case psClose:
		// Only a FIN says the body is whole; after a reset or the end of
		// the capture it may have gone on.
		if why != endFIN {
			m.incomplete = fmt.Sprintf("the body runs to the connection close, and the connection was %s after %d bytes", why, m.wire)
		}
		p.done(at)
	case psHead:
		if len(p.buf) > 0 || m != nil {
			p.m = nil
			p.st = psDead
			p.why = fmt.Sprintf("%s head cut short (connection %s)", p.kind(), why)
			p.sink.failed(p, p.why, at)
		}
	case psBody, psChunkSize, psChunkData, psChunkEnd, psTrailer:
		if m.length >= 0 {
			m.incomplete = fmt.Sprintf("connection %s after %d of %d body bytes", why, m.wire, m.length)
		} else {
			m.incomplete = fmt.Sprintf("connection %s after %d body bytes, before the last chunk", why, m.wire)
		}
		p.st = psDead
		p.done(at)
	}
	if p.st != psDead && p.st != psTunnel {
		p.st = psDead
	}
}

// pause holds the direction after a CONNECT or Upgrade request until the
// answer says whether HTTP continues.
func (p *msgParser) pause() {
	if p.st == psIdle {
		p.st = psPaused
		p.buf = p.buf[:0]
	}
}

// resume continues HTTP parsing with the bytes held while paused.
func (p *msgParser) resume(at pktRef) {
	if p.st != psPaused {
		return
	}
	held := p.buf
	p.buf = nil
	p.st = psIdle
	p.feed(held, at)
}

// switchProtocols ends HTTP parsing and returns the bytes held.
func (p *msgParser) switchProtocols() []byte {
	held := p.buf
	p.buf = nil
	p.st = psTunnel
	return held
}

// line returns one complete line (without CRLF), buffering partial lines.
func (p *msgParser) line(b []byte, at pktRef) (line []byte, n int, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(p.buf)+len(b) > maxLineBytes {
			p.stop(fmt.Sprintf("chunk or trailer line longer than %d bytes", maxLineBytes), at)
			return nil, len(b), false
		}
		p.buf = append(p.buf, b...)
		return nil, len(b), false
	}
	if len(p.buf) > 0 {
		p.buf = append(p.buf, b[:i]...)
		line = p.buf
	} else {
		line = b[:i]
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, i + 1, true
}

// headEnd returns the index just past the empty line that ends a head, or
// -1. Lines end in CRLF; a bare LF is tolerated (RFC 9112 §2.2).
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
		i++
	}
	return -1
}

// parseHead fills m from a complete head (start line, header lines, empty
// line).
func parseHead(m *message, raw []byte) error {
	s := string(raw)
	m.head = s
	nl := strings.IndexByte(s, '\n')
	start := strings.TrimSuffix(s[:nl], "\r")
	rest := s[nl+1:]
	if m.resp {
		if err := parseStatusLine(m, start); err != nil {
			return err
		}
	} else if err := parseRequestLine(m, start); err != nil {
		return err
	}
	m.headers = make(capture.Headers, 0, strings.Count(rest, "\n"))
	for rest != "" {
		var line string
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			line, rest = rest, ""
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 §5.2): continuation of the previous value.
			if n := len(m.headers); n > 0 {
				m.headers[n-1].Value = strings.TrimSpace(m.headers[n-1].Value + " " + strings.TrimSpace(line))
			}
			continue
		}
		c := strings.IndexByte(line, ':')
		if c <= 0 {
			// Not a header line; real servers ignore such lines too.
			continue
		}
		name := strings.TrimRight(line[:c], " \t")
		if !isToken(name) {
			continue
		}
		m.headers = append(m.headers, capture.Header{Name: name, Value: strings.Trim(line[c+1:], " \t")})
	}
	return nil
}

func parseRequestLine(m *message, line string) error {
	sp1 := strings.IndexByte(line, ' ')
	sp2 := strings.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return fmt.Errorf("not an HTTP/1.x request line: %q", clip([]byte(line), 60))
	}
	m.method, m.target, m.proto = line[:sp1], strings.TrimSpace(line[sp1+1:sp2]), line[sp2+1:]
	if !isToken(m.method) || m.target == "" || !strings.HasPrefix(m.proto, "HTTP/1.") && m.proto != "HTTP/1" {
		return fmt.Errorf("not an HTTP/1.x request line: %q", clip([]byte(line), 60))
	}
	m.connect = m.method == "CONNECT"
	return nil
}

func parseStatusLine(m *message, line string) error {
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") || line[8] != ' ' {
		return fmt.Errorf("not an HTTP/1.x status line: %q", clip([]byte(line), 60))
	}
	code, err := strconv.Atoi(line[9:12])
	if err != nil || code < 100 || code > 999 || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("bad status code in %q", clip([]byte(line), 60))
	}
	m.proto = line[:8]
	m.status = code
	if len(line) > 13 {
		m.reason = line[13:]
	}
	return nil
}

func parseContentLength(vals []string) (int64, error) {
	n := int64(-1)
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			x, err := strconv.ParseInt(part, 10, 64)
			if err != nil || x < 0 || part[0] == '+' {
				return 0, fmt.Errorf("invalid Content-Length %q", clip([]byte(v), 30))
			}
			if n >= 0 && x != n {
				return 0, fmt.Errorf("conflicting Content-Length values %q", strings.Join(vals, ", "))
			}
			n = x
		}
	}
	return n, nil
}

func parseChunkSize(line []byte) (int64, error) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return 0, fmt.Errorf("empty")
	}
	if len(line) > 15 {
		return 0, fmt.Errorf("too large")
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("not hexadecimal")
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}

// looksLikeRequestLine reports whether b starts with a complete request
// line "METHOD SP target SP HTTP/1.x" (CR)LF.
func looksLikeRequestLine(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return false
	}
	line := bytes.TrimSuffix(b[:i], []byte{'\r'})
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp1 > 32 || sp2 <= sp1+1 {
		return false
	}
	if !isToken(string(line[:sp1])) {
		return false
	}
	proto := line[sp2+1:]
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(proto) != 8 {
		return false
	}
	for _, c := range line[sp1+1 : sp2] {
		if c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}

// looksLikeRequestStart is a cheaper test on a prefix: "METHOD SP" and a
// plausible target start.
func looksLikeRequestStart(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 32 || sp+1 >= len(b) {
		return false
	}
	if !isToken(string(b[:sp])) {
		return false
	}
	c := b[sp+1]
	return c == '/' || c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '['
}

// couldBeRequestLine reports whether b (no line feed yet) can still grow
// into a request line: a method token, then printable bytes.
func couldBeRequestLine(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return len(b) <= 32 && isTokenPrefix(b)
	}
	if sp == 0 || sp > 32 || !isToken(string(b[:sp])) {
		return false
	}
	for _, c := range b[sp+1:] {
		if c < 0x20 && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// couldBeStatusLine reports whether b (no line feed yet) can still grow
// into a status line "HTTP/1.x DDD".
func couldBeStatusLine(b []byte) bool {
	const proto = "HTTP/1."
	n := min(len(b), len(proto))
	if string(b[:n]) != proto[:n] {
		return false
	}
	if len(b) > 7 && (b[7] < '0' || b[7] > '9') {
		return false
	}
	if len(b) > 8 && b[8] != ' ' {
		return false
	}
	for i := 9; i < len(b) && i < 12; i++ {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

// looksLikeStatusLine reports whether b starts with "HTTP/1.x DDD".
func looksLikeStatusLine(b []byte) bool {
	if len(b) < 12 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' {
		return false
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) == 12 || b[12] == ' ' || b[12] == '\r' || b[12] == '\n'
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenPrefix(b []byte) bool {
	for _, c := range b {
		if c == ' ' {
			return true
		}
		if !isTchar(c) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// clip shortens b for messages.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(bytes.ToValidUTF8(b[:n], []byte("?"))) + "…"
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}
