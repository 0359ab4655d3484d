package pcap

import (
	"fmt"
	"strings"
)

// httpConn pairs the requests and responses of one HTTP/1.x connection.
// HTTP/1.1 answers requests in order (RFC 9112 §9.3.2), so pipelined
// requests are paired first-in first-out; interim 1xx responses are
// skipped. It implements connHandler so that a TLS layer can later sit
// between the TCP reassembly and it, feeding it decrypted bytes.
type httpConn struct {
	s      *stream
	client int // endpoint index of the client
	req    msgParser
	resp   msgParser
	// open holds the exchanges not yet emitted, in request order;
	// pending those whose response has not started.
	open    []*exch
	pending []*exch
	cur     *exch // the exchange whose response is being parsed

	reqStopped   string // why the request direction stopped
	respStopped  string // why the response direction stopped
	respLost     bool   // the response direction stopped on missing bytes
	orphans      int    // responses that could not be paired
	switchedFrom string // the CONNECT authority of a tunnel
	orphanAt     pktRef
	// early counts the skipped responses that came before their request
	// in the capture: each answers one of the next requests parsed,
	// which get no response instead of the one after it.
	early int
}

// exch is a request with its response as they are parsed.
type exch struct {
	req, resp         *message
	reqDone, respDone bool
	noResp            string // why there is no (complete) response
	noRespLost        bool   // … because server bytes were lost
}

func newHTTPConn(s *stream, client int, midstream [2]bool) *httpConn {
	h := &httpConn{s: s, client: client}
	h.req = msgParser{resp: false, sink: h, r: s.r}
	h.resp = msgParser{resp: true, sink: h, r: s.r}
	if midstream[client] {
		h.req.st = psSync
	}
	if midstream[1-client] {
		h.resp.st = psSync
	}
	return h
}

func (h *httpConn) parser(dir int) *msgParser {
	if dir == h.client {
		return &h.req
	}
	return &h.resp
}

func (h *httpConn) data(dir int, b []byte, at pktRef) { h.parser(dir).feed(b, at) }

func (h *httpConn) gap(dir int, n int, at pktRef) {
	p := h.parser(dir)
	if p.resp && p.st != psBody && p.st != psClose && p.st != psSync {
		h.respLost = true
	}
	p.gap(n, at)
}

func (h *httpConn) end(dir int, why endReason, at pktRef) {
	p := h.parser(dir)
	p.end(why, at)
	if p.resp {
		// No response can follow.
		h.noMoreResponses(fmt.Sprintf("the connection was %s before the response", why), false)
	}
}

func (h *httpConn) finish(why endReason, at pktRef) {
	h.req.end(why, at)
	h.resp.end(why, at)
	reason := fmt.Sprintf("the connection was %s before the response", why)
	if why == endEOF {
		reason = "the capture ended before the response"
	}
	h.noMoreResponses(reason, false)
	h.flush()
	if h.orphans > 0 {
		h.s.r.warn(h.orphanAt.frame, h.s.c.connString(), fmt.Sprintf("%d response(s) without a captured request were skipped (the capture started mid-connection, lost request bytes, or caught the response before its request)", h.orphans))
	}
}

// noMoreResponses gives every exchange still waiting for a response its
// reason.
func (h *httpConn) noMoreResponses(why string, lost bool) {
	for _, e := range h.open {
		if e.resp == nil && e.noResp == "" {
			e.noResp = why
			e.noRespLost = lost
		}
	}
	h.pending = nil
	h.flush()
}

// headDone implements msgSink.
func (h *httpConn) headDone(p *msgParser, m *message) {
	if !p.resp {
		e := &exch{req: m}
		h.open = append(h.open, e)
		switch {
		case h.respStopped != "":
			// The server's bytes are no longer parsed: no answer can be
			// paired with this request.
			e.noResp = "the server's bytes could not be parsed from here on: " + h.respStopped
			e.noRespLost = h.respLost
		case h.early > 0:
			// HTTP/1.1 answers in order: the response skipped because it
			// came before any request was this one's.
			h.early--
			e.noResp = "the response was captured before the request (reordered or retransmitted packets) and could not be paired"
		default:
			h.pending = append(h.pending, e)
		}
		m.expectContinue = strings.EqualFold(m.headers.Get("Expect"), "100-continue")
		m.upgrade = !m.connect && m.headers.Has("Upgrade") && headerHasToken(m.headers.Values("Connection"), "upgrade")
		return
	}
	if m.status < 200 && m.status != 101 {
		m.noBody = true // interim response (RFC 9110 §15.2)
		return
	}
	// A response that began before the oldest waiting request was
	// captured does not answer it, unless that request's packet was
	// captured late (the server had acknowledged it already).
	if len(h.pending) == 0 || h.pending[0].req.first.frame > m.first.frame && !h.pending[0].req.first.late {
		// No request to answer: it was sent before the capture started or
		// lost, or it comes later in the capture (the response's packet
		// acknowledged client bytes not seen yet). The response is framed
		// (to find the next one) and dropped.
		h.cur = nil
		if h.orphans == 0 {
			h.orphanAt = m.first
		}
		h.orphans++
		if len(h.pending) == 0 && m.first.ahead {
			h.early++
		}
		return
	}
	e := h.pending[0]
	h.pending = h.pending[1:]
	e.resp = m
	h.cur = e
	switch {
	case e.req.method == "HEAD", m.status == 204, m.status == 304, m.status == 101:
		m.noBody = true
	case e.req.connect && m.status >= 200 && m.status < 300:
		m.connect = true
	}
	if !e.reqDone && e.req.wire == 0 {
		e.req.earlyFinal = true
	}
}

// msgDone implements msgSink.
func (h *httpConn) msgDone(p *msgParser, m *message) {
	if !p.resp {
		for _, e := range h.open {
			if e.req == m {
				e.reqDone = true
				break
			}
		}
		if m.incomplete == "" && (m.connect || m.upgrade) {
			// Wait for the answer before parsing more client bytes: after
			// a successful CONNECT or 101 they are not HTTP/1.x any more.
			p.pause()
		}
		h.flush()
		return
	}
	if m.status < 200 && m.status != 101 {
		return
	}
	e := h.cur
	if e == nil || e.resp != m {
		return // an orphan response
	}
	h.cur = nil
	e.respDone = true
	switchTo := ""
	switch {
	case m.connect && m.incomplete == "":
		switchTo = "tunnel"
		h.switchedFrom = e.req.target
	case m.status == 101 && m.incomplete == "":
		switchTo = strings.ToLower(strings.TrimSpace(m.headers.Get("Upgrade")))
		if switchTo == "" {
			switchTo = "unknown"
		}
	}
	h.flush()
	if switchTo != "" {
		h.switchProtocols(switchTo, m.last)
		return
	}
	if h.req.st == psPaused {
		h.req.resume(m.last)
	}
}

// failed implements msgSink.
func (h *httpConn) failed(p *msgParser, why string, at pktRef) {
	conn := h.s.c.connString()
	if !p.resp {
		h.reqStopped = why
		h.s.r.warn(at.frame, conn, "stopped parsing the client's requests: "+why)
		h.flush()
		return
	}
	h.respStopped = why
	h.respLost = h.respLost || strings.Contains(why, "missing from the capture")
	h.s.r.warn(at.frame, conn, "stopped parsing the server's responses: "+why)
	h.noMoreResponses("the server's bytes could not be parsed from here on: "+why, h.respLost)
}

// tunnel implements msgSink: bytes that follow a protocol switch.
func (h *httpConn) tunnel(p *msgParser, b []byte, at pktRef) {
	dir := 1 - h.client
	if !p.resp {
		dir = h.client
	}
	h.s.afterSwitch(dir, b, at)
}

func (h *httpConn) switchProtocols(to string, at pktRef) {
	held := h.req.switchProtocols()
	h.resp.switchProtocols()
	h.noMoreResponses("the connection switched to "+to, false)
	h.s.switched(to, h.switchedFrom, h.client, held, at)
}

// flush emits the exchanges at the head of the queue that are complete.
func (h *httpConn) flush() {
	for len(h.open) > 0 {
		e := h.open[0]
		if !e.reqDone && h.req.st != psDead && h.req.st != psTunnel {
			return
		}
		if !e.respDone && e.noResp == "" {
			return
		}
		h.open[0] = nil
		h.open = h.open[1:]
		h.s.r.exchange(h.s, h.client, e)
	}
	h.open = nil
}

func headerHasToken(vals []string, token string) bool {
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
