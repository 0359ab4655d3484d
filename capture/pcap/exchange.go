package pcap

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/decode"
)

// exchange turns a paired request/response into a capture.Exchange and
// emits it.
func (r *reader) exchange(s *stream, client int, e *exch) {
	r.info.Requests++
	req := e.req
	c := s.c
	cl, sv := c.ep[client], c.ep[1-client]
	// The exchange spans the packets that carried its bytes: with
	// reordering a later part of a message may come in an earlier frame
	// than its first byte, so the range is the lowest to the highest.
	lo, hi := req.lo, req.hi
	if resp := e.resp; resp != nil {
		lo, hi = spanFrames(lo, hi, resp.lo)
		lo, hi = spanFrames(lo, hi, resp.hi)
	}
	ex := &capture.Exchange{
		Start:      lo.ts,
		ClientAddr: cl.String(),
		ServerAddr: sv.String(),
	}
	ex.Ref = capture.Ref{File: r.name, Entry: -1, Conn: cl.String() + " -> " + sv.String()}
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
		ex.TLS = s.tls.tlsInfo()
	}
	u, err := requestURL(req, sv.String(), scheme)
	if err != nil {
		r.warn(req.first.frame, ex.Ref.Conn, fmt.Sprintf("request skipped: %v", err))
		return
	}
	ex.Request = &capture.Request{
		Method:   req.method,
		URL:      u,
		Proto:    req.proto,
		Headers:  req.headers,
		BodySize: req.wire,
	}
	ex.Request.Body = r.finalBody(ex, req, capture.GapRequestBody)
	if resp := e.resp; resp != nil {
		ex.Response = &capture.Response{
			Status:     resp.status,
			StatusText: resp.reason,
			Proto:      resp.proto,
			Headers:    resp.headers,
			BodySize:   resp.wire,
		}
		ex.Response.Body = r.finalBody(ex, resp, capture.GapResponseBody)
	} else {
		why := e.noResp
		if why == "" {
			why = "no response was captured"
		}
		ex.AddGap(capture.GapNoResponse, why)
		if e.noRespLost {
			ex.AddGap(capture.GapBytesMissing, "server bytes were lost by the capture before the response")
		}
	}
	if s.tls != nil {
		s.tls.undecryptedGaps(ex, client, req.incomplete != "", e.resp == nil || e.resp.incomplete != "")
	}
	if hi.ts.After(ex.Start) {
		ex.Duration = hi.ts.Sub(ex.Start)
	}
	ex.Ref.Frames = []int64{lo.frame, hi.frame}
	r.info.Exchanges++
	r.emit(ex)
}

// requestURL builds the absolute URL: the request target as sent when it
// is absolute (a request to a proxy), else scheme://Host + target, with
// the server's address when the request has no Host header.
func requestURL(m *message, server, scheme string) (*url.URL, error) {
	t := m.target
	if m.connect {
		// Authority form "host:port". The tunnel carries TLS in practice;
		// the HAR reader (after mitmproxy) writes it https://host:port.
		if u, err := url.Parse("https://" + t); err == nil && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.User == nil {
			return u, nil
		}
		// Not host:port (a bad port, a path, user info): there is no
		// absolute URL to give the exchange.
		return nil, fmt.Errorf("CONNECT target %q is not host:port", clip([]byte(t), 200))
	}
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
		u, err := url.Parse(t)
		if err == nil && u.Host != "" {
			return u, nil
		}
	}
	host := m.headers.Get("Host")
	if host == "" || strings.ContainsAny(host, " /\\?#@") {
		host = server
	}
	if t == "*" {
		return &url.URL{Scheme: scheme, Host: host, Path: "*"}, nil
	}
	if !strings.HasPrefix(t, "/") {
		t = "/" + t
	}
	u, err := url.Parse(scheme + "://" + host + t)
	if err != nil {
		// Some clients send bytes a URL may not hold (spaces, raw
		// non-ASCII, bad escapes); keep the request with those escaped.
		u, err = url.Parse(scheme + "://" + host + escapeTarget(t))
		if err != nil {
			return nil, fmt.Errorf("request target %q cannot be parsed as a URL", clip([]byte(m.target), 200))
		}
	}
	return u, nil
}

func escapeTarget(t string) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '%' && i+2 < len(t) && ishex(t[i+1]) && ishex(t[i+2]):
			b.WriteByte(c)
		case c <= 0x20 || c >= 0x7f || c == '%' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// finalBody decodes a stored body and records what is missing from it.
func (r *reader) finalBody(ex *capture.Exchange, m *message, kind capture.GapKind) []byte {
	what := "request"
	if m.resp {
		what = "response"
	}
	if m.lostBytes > 0 {
		ex.AddGap(capture.GapBytesMissing, fmt.Sprintf("%d bytes of the %s were not captured", m.lostBytes, what))
		if m.incomplete == "" && m.dropped == "" {
			ex.AddGap(kind, fmt.Sprintf("%s body incomplete: %d of its %d bytes were not captured (only the bytes before the first hole are kept)", what, m.lostBytes, m.wire))
		}
	}
	if m.incomplete != "" {
		ex.AddGap(kind, what+" incomplete: "+m.incomplete)
	}
	if m.dropped != "" {
		ex.AddGap(kind, m.dropped)
		return nil
	}
	body := m.body
	if m.truncated {
		ex.AddGap(kind, fmt.Sprintf("body truncated to %d of %d bytes (raise with --max-body)", len(body), m.wire))
	}
	if len(body) == 0 {
		return nil
	}
	if ce := m.headers.Get("Content-Encoding"); ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
		max := r.opts.MaxBody
		if m.dropOver && m.keepMax < max {
			max = m.keepMax // HTML: decode no further than what is kept
		}
		dec, err := decode.Body(ce, body, max)
		if cap(dec)-len(dec) > 4096 && cap(dec) > len(dec)+len(dec)/4 {
			// The decoder's buffer grew by doubling: keep only the bytes.
			dec = append([]byte(nil), dec...)
		}
		switch {
		case errors.Is(err, decode.ErrTooLarge) && m.dropOver:
			ex.AddGap(kind, r.dropReason(m, "larger than the size kept for this media type"))
			return nil
		case errors.Is(err, decode.ErrTooLarge):
			ex.AddGap(kind, fmt.Sprintf("decoded body truncated to %d bytes (raise with --max-body)", r.opts.MaxBody))
			body = dec
		case err != nil && (m.truncated || m.incomplete != "" || m.lostBytes > 0):
			// A cut-off compressed body decodes up to the cut.
			body = dec
			ex.AddGap(capture.GapDecode, fmt.Sprintf("Content-Encoding %s: only the first %d bytes were decoded: %v", ce, len(dec), err))
		case err != nil:
			ex.AddGap(capture.GapDecode, fmt.Sprintf("Content-Encoding %s: %v", ce, err))
		default:
			body = dec
		}
	}
	return body
}

// htmlKeep is the largest HTML body kept by default: callback, error and
// form_post pages are small; big pages are application UI no rule reads.
const htmlKeep = 32 << 10

// bodyPolicy decides whether and how much of m's body is stored.
func (r *reader) bodyPolicy(m *message, length int64) {
	m.keep = true
	m.keepMax = r.opts.MaxBody
	if r.opts.KeepAllBodies {
		return
	}
	mt := m.headers.MediaType()
	switch {
	case bulkMedia(mt):
		m.keep = false
		m.dropped = r.dropReason(m, "")
	case mt == "text/html" || mt == "application/xhtml+xml":
		if length > htmlKeep {
			m.keep = false
			m.dropped = r.dropReason(m, "larger than the size kept for this media type")
			return
		}
		if htmlKeep < m.keepMax {
			m.keepMax = htmlKeep
			m.dropOver = true
		}
	}
}

func (r *reader) dropReason(m *message, why string) string {
	mt := m.headers.MediaType()
	s := fmt.Sprintf("%s body not kept: no rule reads it", mt)
	if why != "" {
		s = fmt.Sprintf("%s body not kept: %s", mt, why)
	}
	return s + " (keep every body with KeepAllBodies)"
}

// bulkMedia reports media types whose bodies no OAuth/MCP rule reads.
func bulkMedia(mt string) bool {
	if mt == "" {
		return false
	}
	if i := strings.IndexByte(mt, '/'); i > 0 {
		switch mt[:i] {
		case "image", "audio", "video", "font":
			return true
		}
	}
	switch mt {
	case "application/octet-stream", "application/zip", "application/gzip", "application/x-gzip",
		"application/x-tar", "application/pdf", "application/wasm", "application/vnd.ms-fontobject",
		"application/font-woff", "application/x-font-ttf", "application/x-font-woff",
		"text/css", "text/javascript", "application/javascript", "application/x-javascript",
		"application/ecmascript", "text/ecmascript", "application/x-protobuf", "application/grpc":
		return true
	}
	return false
}
