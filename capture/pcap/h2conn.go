package pcap

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/h2"
)

// h2Conn reads an HTTP/2 connection (decrypted TLS with ALPN h2, or
// cleartext with prior knowledge) with capture/h2 and turns each stream
// into an exchange. Bodies follow the same policy and decoding as
// HTTP/1.x (bodyPolicy, finalBody).
type h2Conn struct {
	s      *stream
	client int
	c      *h2.Conn
}

func newH2Conn(s *stream, client int) *h2Conn {
	h := &h2Conn{s: s, client: client}
	h.c = h2.NewConn(h.emit, h2.Options{MaxBody: s.r.opts.MaxBody, Policy: h.policy, Warn: h.warn})
	return h
}

func toPos(p pktRef) h2.Pos { return h2.Pos{Frame: p.frame, Time: p.ts} }

func (h *h2Conn) data(dir int, b []byte, at pktRef) {
	h.c.Data(dir == h.client, b, toPos(at.begin()), toPos(at))
}

func (h *h2Conn) gap(dir int, n int, at pktRef) { h.c.Gap(dir == h.client, n, toPos(at)) }

func (h *h2Conn) end(dir int, why endReason, at pktRef) {
	if why == endUndecryptable && h.s.tls != nil {
		h.c.Stop(dir == h.client, toPos(at), h.s.tls.failReason(dir), false)
		return
	}
	h.c.End(dir == h.client, toPos(at))
}

func (h *h2Conn) finish(why endReason, at pktRef) {
	reason := fmt.Sprintf("the connection was %s", why)
	if why == endEOF {
		reason = "the capture ended"
	}
	h.c.Finish(reason)
}

func (h *h2Conn) warn(at h2.Pos, msg string) {
	h.s.r.warn(at.Frame, h.s.c.connString(), msg)
}

// policy decides, once a header block is read, whether its body is kept.
func (h *h2Conn) policy(_ *h2.Stream, m *h2.Message, resp bool) {
	pm := &message{resp: resp, headers: headersOf(m.Fields, resp), length: -1, first: pktRef{frame: m.First.Frame, ts: m.First.Time}}
	length := int64(-1)
	if v := pm.headers.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
			length = n
		}
	}
	h.s.r.bodyPolicy(pm, length)
	m.Keep, m.Max, m.Tag = pm.keep, pm.keepMax, pm
}

// headersOf converts a header block. Request pseudo-header fields stay,
// as browsers show them (":authority", ":method", ":path", ":scheme");
// a response's ":status" is the exchange's status.
func headersOf(fs []hpack.HeaderField, resp bool) capture.Headers {
	out := make(capture.Headers, 0, len(fs))
	for _, f := range fs {
		if resp && f.Name == ":status" || f.Name == "" {
			continue // an empty name is malformed (RFC 9113 §8.2.1)
		}
		out = append(out, capture.Header{Name: f.Name, Value: f.Value})
	}
	return out
}

func field(fs []hpack.HeaderField, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// pcapMessage fills the reader's message for an HTTP/2 message so that
// finalBody can decode and cap it like an HTTP/1.x body.
func (h *h2Conn) pcapMessage(m *h2.Message, resp bool) *message {
	pm, _ := m.Tag.(*message)
	if pm == nil {
		pm = &message{resp: resp, headers: headersOf(m.Fields, resp), length: -1, keep: true, keepMax: h.s.r.opts.MaxBody}
	}
	pm.wire = m.Wire
	pm.body = m.Body
	pm.truncated = m.Truncated
	if pm.dropOver && m.Truncated {
		pm.body, pm.truncated = nil, false
		pm.dropped = h.s.r.dropReason(pm, "larger than the size kept for this media type")
	}
	if !m.Ended {
		pm.incomplete = m.Incomplete
		if pm.incomplete == "" {
			pm.incomplete = "the stream did not end"
		}
	}
	pm.first = pktRef{frame: m.First.Frame, ts: m.First.Time}
	pm.last = pktRef{frame: m.Last.Frame, ts: m.Last.Time}
	pm.lo, pm.hi = spanFrames(pktRef{}, pktRef{}, pm.first)
	pm.lo, pm.hi = spanFrames(pm.lo, pm.hi, pm.last)
	return pm
}

// emit turns a finished stream into an exchange.
func (h *h2Conn) emit(st *h2.Stream) {
	r := h.s.r
	c := h.s.c
	req := st.Request
	cl, sv := c.ep[h.client], c.ep[1-h.client]
	conn := cl.String() + " -> " + sv.String()
	method := field(req.Fields, ":method")
	if method == "" {
		r.warn(req.First.Frame, conn, fmt.Sprintf("HTTP/2 stream %d has no :method; skipped", st.ID))
		return
	}
	if !isToken(method) {
		r.warn(req.First.Frame, conn, fmt.Sprintf("HTTP/2 stream %d: :method %q is not a token; skipped", st.ID, clip([]byte(method), 40)))
		return
	}
	r.info.Requests++
	// The frame range runs from the lowest to the highest packet known to
	// carry the stream's messages: with reordering, the packet that
	// completed a message can come before the one where it began.
	var lo, hi pktRef
	for _, m := range []*h2.Message{req, st.Response} {
		if m == nil {
			continue
		}
		for _, p := range []h2.Pos{m.First, m.Last} {
			lo, hi = spanFrames(lo, hi, pktRef{frame: p.Frame, ts: p.Time})
		}
	}
	ex := &capture.Exchange{Start: lo.ts, ClientAddr: cl.String(), ServerAddr: sv.String()}
	ex.Ref = capture.Ref{File: r.name, Entry: -1, Conn: conn}
	if h.s.tls != nil {
		ex.TLS = h.s.tls.tlsInfo()
	}
	u, err := h.requestURL(req.Fields, method, sv.String())
	if err != nil {
		r.warn(req.First.Frame, conn, fmt.Sprintf("HTTP/2 stream %d skipped: %v", st.ID, err))
		return
	}
	rm := h.pcapMessage(req, false)
	ex.Request = &capture.Request{Method: method, URL: u, Proto: "HTTP/2.0", Headers: rm.headers, BodySize: req.Wire}
	ex.Request.Body = r.finalBody(ex, rm, capture.GapRequestBody)
	resp := st.Response
	status, statusOK := 0, false
	if resp != nil && resp.Fields != nil {
		status, statusOK = h2Status(field(resp.Fields, ":status"))
	}
	if statusOK {
		pm := h.pcapMessage(resp, true)
		ex.Response = &capture.Response{Status: status, Proto: "HTTP/2.0", Headers: pm.headers, BodySize: resp.Wire}
		ex.Response.Body = r.finalBody(ex, pm, capture.GapResponseBody)
		if resp.Lost {
			ex.AddGap(capture.GapBytesMissing, "bytes of the response were lost by the capture")
		}
	} else {
		why := st.Reset
		if why == "" {
			why = st.NoResponse
		}
		if why == "" && resp != nil && resp.Fields != nil {
			// RFC 9113 §8.3.2: a response without a valid :status is
			// malformed; it is not returned with a made-up status.
			why = fmt.Sprintf("the response's :status %q is not a three-digit status code", clip([]byte(field(resp.Fields, ":status")), 20))
		}
		if why == "" {
			why = "no response was captured"
		}
		ex.AddGap(capture.GapNoResponse, why)
		if st.NoResponseLost {
			ex.AddGap(capture.GapBytesMissing, "server bytes were lost by the capture before the response")
		}
	}
	if req.Lost {
		ex.AddGap(capture.GapBytesMissing, "bytes of the request were lost by the capture")
	}
	if h.s.tls != nil {
		h.s.tls.undecryptedGaps(ex, h.client, !req.Ended, ex.Response == nil || (resp != nil && !resp.Ended))
	}
	if hi.ts.After(ex.Start) {
		ex.Duration = hi.ts.Sub(ex.Start)
	}
	ex.Ref.Frames = []int64{lo.frame, hi.frame}
	r.info.Exchanges++
	r.emit(ex)
}

// h2Status parses a :status value: exactly three digits, 100 to 999, as
// an HTTP/1.x status line holds.
func h2Status(v string) (int, bool) {
	if len(v) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < 3; i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, n >= 100
}

// requestURL builds the absolute URL from the pseudo-header fields
// (RFC 9113 §8.3.1): :scheme://:authority:path, with the Host field or
// the server's address when :authority is absent.
func (h *h2Conn) requestURL(fs []hpack.HeaderField, method, server string) (*url.URL, error) {
	scheme := strings.ToLower(field(fs, ":scheme"))
	if scheme != "http" && scheme != "https" {
		// Absent, or a scheme that is not HTTP's: the connection says.
		scheme = "http"
		if h.s.tls != nil {
			scheme = "https"
		}
	}
	authority := field(fs, ":authority")
	if authority == "" {
		authority = field(fs, "host")
	}
	if authority == "" || strings.ContainsAny(authority, " /\\?#@") {
		authority = server
	}
	if method == "CONNECT" {
		return &url.URL{Scheme: "https", Host: authority}, nil
	}
	path := field(fs, ":path")
	if path == "" {
		path = "/"
	}
	if path == "*" {
		return &url.URL{Scheme: scheme, Host: authority, Path: "*"}, nil
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(scheme + "://" + authority + path)
	if err != nil {
		u, err = url.Parse(scheme + "://" + authority + escapeTarget(path))
		if err != nil {
			return nil, fmt.Errorf(":path %q cannot be parsed as a URL", clip([]byte(path), 200))
		}
	}
	return u, nil
}
