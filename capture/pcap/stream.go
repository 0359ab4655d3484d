package pcap

import (
	"bytes"
	"fmt"
	"net"

	"github.com/oauthlint/oauthlint/capture"
)

// stream is the per-connection layer between TCP reassembly and the
// protocol parsers. It recognises the protocol from the first bytes (never
// from the port) and hands the byte streams to the matching handler:
//
//	TCP reassembly ─► stream ─┬─► httpConn (HTTP/1.x)
//	                          ├─► h2Conn   (HTTP/2 with prior knowledge)
//	                          ├─► tlsConn  (TLS) ─► inner stream ─┬─► httpConn
//	                          │     decrypted with the key log     └─► h2Conn (ALPN h2)
//	                          └─► (other protocols are skipped)
//
// Handlers implement connHandler; tlsConn decrypts each direction and
// feeds the plaintext to an inner stream, which recognises the protocol
// inside (or takes HTTP/2 from ALPN). After CONNECT or 101 Switching
// Protocols the stream starts recognising again on the tunnelled bytes.
type stream struct {
	r    *reader
	c    *tcpConn
	mode streamMode
	h    connHandler // the protocol handler once recognised
	det  [2][]byte   // bytes held while recognising
	// midstream marks directions whose first bytes are not the start of
	// the stream (the capture started after it).
	midstream [2]bool
	negative  [2]bool // the direction's bytes matched no protocol
	scanFrom  [2]int  // mid-stream search resumes at this line feed
	// lost counts the bytes of a direction whose start was captured that
	// went missing before the protocol was recognised (lostAt is the
	// packet after the first hole). The first message of the direction is
	// cut and how many messages the hole held is unknown, so nothing after
	// it is parsed: the handler, once there is one, gets the gap and stops
	// that direction as it would after a gap in a head. lostHeld: the
	// direction had already shown the start of a message.
	lost      [2]int
	lostAt    [2]pktRef
	lostHeld  [2]bool
	tunnelled bool
	// tunnelTo is the CONNECT authority when the stream is a tunnel.
	tunnelTo string
	// tls is the TLS connection whose plaintext this (inner) stream
	// carries; nil for cleartext.
	tls *tlsConn
	// hole is where each direction first lost bytes (holeBytes how many
	// in all): what the connection carried from there on may not have
	// been read, and is listed in Info.PartlyRead when it ends.
	hole      [2]pktRef
	holeBytes [2]int
}

type streamMode uint8

const (
	modeDetect streamMode = iota
	modeHTTP
	modeTLS
	modeH2
	modeOther
)

// maxDetect bounds the bytes held per direction while recognising.
const maxDetect = 64 << 10

func newStream(r *reader, c *tcpConn) *stream { return &stream{r: r, c: c} }

func (s *stream) data(dir int, b []byte, at pktRef) {
	switch s.mode {
	case modeDetect:
		s.detect(dir, b, at)
	case modeOther:
	default:
		s.h.data(dir, b, at)
	}
}

func (s *stream) gap(dir int, n int, at pktRef) {
	if s.holeBytes[dir] == 0 {
		s.hole[dir] = at
	}
	s.holeBytes[dir] += n
	switch s.mode {
	case modeDetect:
		if s.midstream[dir] || s.c.half[dir].midstream && !s.tunnelled {
			// The capture started inside this direction: its first bytes
			// begin anywhere anyway, so what follows the hole is searched
			// for a message start.
			s.det[dir] = nil
			s.midstream[dir] = true
			s.negative[dir] = false
			return
		}
		// The direction's start was captured and bytes of its first
		// message(s) are lost (a snap-length cut, a dropped segment). A
		// message start found after the hole could not be paired: the
		// hole may hold whole messages, whose answers would be given to
		// the wrong ones. The direction is not parsed any further.
		if s.lost[dir] == 0 {
			s.lostAt[dir] = at
			s.lostHeld[dir] = len(s.det[dir]) > 0
		}
		s.lost[dir] += n
		s.det[dir] = nil
		s.decideNegative(at)
	case modeOther:
	default:
		s.h.gap(dir, n, at)
	}
}

func (s *stream) end(dir int, why endReason, at pktRef) {
	if s.mode == modeDetect {
		s.negative[dir] = true
		s.decideNegative(at)
	}
	if s.h != nil && s.mode != modeOther {
		s.h.end(dir, why, at)
	}
}

func (s *stream) finish(why endReason, at pktRef) {
	if s.mode == modeDetect {
		s.mode = modeOther
		s.r.countProto(modeOther)
		s.warnLost()
	}
	var sni string
	if t, ok := s.h.(*tlsConn); ok {
		sni, _ = t.target()
	}
	if s.h != nil {
		s.h.finish(why, at)
	}
	s.h = nil
	s.det = [2][]byte{}
	s.reportHoles(sni)
}

// reportHoles lists a connection that lost bytes in Info.PartlyRead:
// from the first hole to its end, its traffic may not have been read
// (after a hole a direction's messages cannot be framed; a request lost
// whole leaves no exchange behind).
func (s *stream) reportHoles(sni string) {
	d := -1
	for i := range s.holeBytes {
		if s.holeBytes[i] > 0 && (d < 0 || s.hole[i].frame < s.hole[d].frame) {
			d = i
		}
	}
	if d < 0 || len(s.r.info.PartlyRead) >= maxUndecrypted {
		return
	}
	cl := s.c.client
	if cl < 0 {
		cl = 0
	}
	host := sni
	if host == "" && s.tunnelTo != "" {
		host, _, _ = net.SplitHostPort(s.tunnelTo)
	}
	last := s.c.last()
	who := "client"
	if d != cl {
		who = "server"
	}
	cls, svs := s.c.ep[cl].String(), s.c.ep[1-cl].String()
	s.r.info.PartlyRead = append(s.r.info.PartlyRead, capture.Undecrypted{Start: s.hole[d].ts, End: last.ts, Client: cls, Server: svs,
		ServerName: printableHost(host), Kind: string(capture.GapBytesMissing),
		Reason: fmt.Sprintf("%d bytes sent by the %s (%s) are missing from the capture from frame %d on; what the connection carried after them was not read", s.holeBytes[d], who, s.c.ep[d], s.hole[d].frame),
		Ref:    capture.Ref{File: s.r.name, Entry: -1, Frames: []int64{s.hole[d].frame, last.frame}, Conn: cls + " -> " + svs}})
}

// verdict is what the first bytes of one direction look like.
type verdict uint8

const (
	vMore verdict = iota
	vNone
	vHTTPRequest
	vHTTPResponse
	vTLSClient
	vTLSServer
	vTLSRecord // TLS record seen mid-stream
	vH2Preface
)

func (s *stream) detect(dir int, b []byte, at pktRef) {
	if s.c.half[dir].midstream && !s.tunnelled {
		s.midstream[dir] = true
	}
	if s.lost[dir] > 0 || s.negative[dir] && !s.midstream[dir] {
		// This direction did not start with a protocol we read, or its
		// first message was cut by missing bytes.
		return
	}
	buf := b
	from := 0
	if len(s.det[dir]) > 0 {
		from = len(s.det[dir])
		s.det[dir] = append(s.det[dir], b...)
		buf = s.det[dir]
	}
	var v verdict
	switch {
	case len(buf) > maxDetect:
		v = vNone
	case from >= 64 && bytes.IndexByte(b, '\n') < 0:
		// Nothing new to decide on (the prefix was checked, no new line):
		// this keeps recognition linear when bytes trickle in.
		v = vMore
	default:
		v = classify(buf, s.midstream[dir], s.scanFrom[dir])
		if s.midstream[dir] {
			// Lines before the last line feed were searched already.
			if i := bytes.LastIndexByte(buf, '\n'); i > 0 {
				s.scanFrom[dir] = i
			}
		}
	}
	switch v {
	case vMore:
		if len(s.det[dir]) == 0 {
			s.det[dir] = append(make([]byte, 0, len(b)*2), b...)
		}
		return
	case vNone:
		s.negative[dir] = true
		s.det[dir] = nil
		s.decideNegative(at)
		return
	}
	client := dir
	switch v {
	case vHTTPResponse, vTLSServer:
		client = 1 - dir
	case vTLSRecord:
		// Records seen mid-stream do not say who is the client: trust the
		// handshake if seen, else take the higher (ephemeral) port.
		switch {
		case s.c.client >= 0:
			client = s.c.client
		case s.c.ep[0].Port() > s.c.ep[1].Port():
			client = 0
		default:
			client = 1
		}
	}
	s.c.client = client
	if s.det[dir] == nil {
		// Keep this call's bytes: they are replayed to the handler below.
		s.det[dir] = b
	}
	switch v {
	case vHTTPRequest, vHTTPResponse:
		s.mode = modeHTTP
		s.h = newHTTPConn(s, client, s.midstream)
	case vTLSClient, vTLSServer, vTLSRecord:
		s.mode = modeTLS
		s.h = newTLSConn(s, client, v == vTLSRecord)
	case vH2Preface:
		s.mode = modeH2
		s.h = newH2Conn(s, client)
	}
	s.r.countProto(s.mode)
	if s.mode == modeOther {
		s.det = [2][]byte{}
		return
	}
	// Replay what was held: the client's bytes first so that requests are
	// known before their responses. A direction whose first message was
	// cut gets its gap first: the handler stops it.
	held := s.det
	s.det = [2][]byte{}
	for _, d := range []int{client, 1 - client} {
		if s.lost[d] > 0 {
			s.h.gap(d, s.lost[d], s.lostAt[d])
		}
	}
	for _, d := range []int{client, 1 - client} {
		if len(held[d]) > 0 {
			s.h.data(d, held[d], at)
		}
	}
}

// decideNegative gives up on a connection whose bytes match no protocol
// oauthlint reads: once the client's bytes (or both directions) failed.
func (s *stream) decideNegative(at pktRef) {
	if s.mode != modeDetect {
		return
	}
	cl := s.c.client
	out0, out1 := s.negative[0] || s.lost[0] > 0, s.negative[1] || s.lost[1] > 0
	if (out0 && out1) || (cl >= 0 && s.negative[cl] && !s.midstream[cl]) {
		s.mode = modeOther
		s.det = [2][]byte{}
		s.r.countProto(modeOther)
		s.warnLost()
	}
}

// warnLost says, for a connection given up before its protocol was
// recognised, that a direction which had begun a message lost bytes
// (otherwise the loss of what may have been HTTP would go unmentioned).
func (s *stream) warnLost() {
	for d := range s.lost {
		if s.lost[d] > 0 && s.lostHeld[d] {
			s.r.warn(s.lostAt[d].frame, s.c.connString(), fmt.Sprintf("%d bytes sent by %s are missing from the capture inside its first message; the connection could not be read", s.lost[d], s.c.ep[d]))
			return
		}
	}
}

// switched is called by httpConn after CONNECT 2xx or 101 Switching
// Protocols; held are the client bytes received after the request.
func (s *stream) switched(to, authority string, client int, held []byte, at pktRef) {
	s.h = nil
	switch to {
	case "tunnel":
		// Recognise the tunnelled protocol (TLS, or plain HTTP through the
		// proxy) as if the connection started here.
		s.mode = modeDetect
		s.tunnelled = true
		s.tunnelTo = authority
		s.midstream = [2]bool{}
		s.negative = [2]bool{}
		s.lost, s.lostAt, s.lostHeld = [2]int{}, [2]pktRef{}, [2]bool{}
		if len(held) > 0 {
			s.detect(client, held, at)
		}
	case "h2c":
		s.mode = modeOther
		s.r.warn(at.frame, s.c.connString(), "the connection upgraded to HTTP/2 (h2c), which is not parsed yet; the requests after the upgrade are missing")
	default:
		s.mode = modeOther
	}
}

// afterSwitch receives the bytes that followed the switching response in
// the same packet.
func (s *stream) afterSwitch(dir int, b []byte, at pktRef) {
	if len(b) > 0 {
		s.data(dir, b, at)
	}
}

// classify looks at the first bytes of a direction.
func classify(b []byte, midstream bool, from int) verdict {
	if len(b) == 0 {
		return vMore
	}
	if b[0] == 0x16 {
		// TLS handshake record: 16 03 0x LL LL, then the handshake type.
		if len(b) < 6 {
			if len(b) >= 2 && b[1] != 3 {
				return classifyText(b, midstream, from)
			}
			return vMore
		}
		if b[1] == 3 && b[2] <= 4 {
			switch b[5] {
			case 1:
				return vTLSClient
			case 2:
				return vTLSServer
			}
			if midstream {
				return vTLSRecord
			}
		}
	}
	if midstream && len(b) >= 5 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 3 && b[2] <= 4 {
		if n := int(b[3])<<8 | int(b[4]); n > 0 && n <= 1<<14+2048 {
			return vTLSRecord
		}
	}
	return classifyText(b, midstream, from)
}

var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

func classifyText(b []byte, midstream bool, from int) verdict {
	if len(b) < len(h2Preface) && bytes.HasPrefix(h2Preface, b) {
		return vMore
	}
	if bytes.HasPrefix(b, h2Preface) {
		return vH2Preface
	}
	if !midstream && from == 0 && looksLikeH2Settings(b) {
		// An HTTP/2 server may send its SETTINGS before the client's
		// preface is captured: hold them until the client says.
		return vMore
	}
	if from == 0 {
		if looksLikeStatusLine(b) {
			return vHTTPResponse
		}
		if looksLikeRequestLine(b) {
			return vHTTPRequest
		}
		if bytes.IndexByte(b, '\n') < 0 {
			// The first line is not complete: wait while it can still be
			// a start line.
			prefix := b[:min(len(b), 64)]
			if couldBeStatusLine(prefix) || couldBeRequestLine(prefix) {
				return vMore
			}
			if !midstream {
				return vNone
			}
		}
	}
	if !midstream {
		return vNone
	}
	// Mid-stream: a message may start after any line feed.
	for i := from + bytes.IndexByte(b[from:], '\n'); i >= from && i+1 < len(b); {
		rest := b[i+1:]
		if looksLikeStatusLine(rest) {
			return vHTTPResponse
		}
		if looksLikeRequestLine(rest) {
			return vHTTPRequest
		}
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return vMore
}

// looksLikeH2Settings reports whether b starts with an HTTP/2 SETTINGS
// frame (RFC 9113 §6.5): type 4 on stream 0, a length that is a multiple
// of 6.
func looksLikeH2Settings(b []byte) bool {
	if len(b) < 9 || b[3] != 4 || b[4]&^1 != 0 || b[5]|b[6]|b[7]|b[8] != 0 {
		return false
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	return n%6 == 0 && n <= 6*64
}
