// Package capture holds what every reader produces and every later stage
// consumes: one HTTP request and its response (an Exchange), where it came
// from (a Ref) and what is known to be missing from it (Gaps).
//
// Readers (HAR, pcap, the live proxy) only build Exchanges; they never judge.
package capture

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Exchange is one HTTP request with its response, as captured.
type Exchange struct {
	// Seq is the exchange's position in the merged timeline (0-based),
	// assigned by Timeline; readers leave it zero.
	Seq      int
	Start    time.Time
	Duration time.Duration
	Request  *Request
	// Response is nil when the capture holds no response (the request
	// failed, was blocked, or the capture ended first).
	Response *Response
	TLS      *TLSInfo
	Ref      Ref
	// Also lists where else the same exchange was seen when several inputs
	// captured it (a browser HAR and a proxy HAR of the same login).
	Also []Ref
	Gaps []Gap
	// ClientAddr and ServerAddr are "ip:port" when the source knows them.
	ClientAddr string
	ServerAddr string
	// Error is a transport error recorded by the capturing tool (connection
	// refused, TLS failure, …).
	Error string
	// Comment is the capture's own note on the exchange (HAR entry
	// "comment"); rule fixtures carry their expectations there.
	Comment string
}

// Request is an HTTP request. URL is always absolute.
type Request struct {
	Method  string
	URL     *url.URL
	Proto   string
	Headers Headers
	Body    []byte
	// BodySize is the size on the wire when known (-1 when unknown); it can
	// differ from len(Body) when the body was truncated or decoded.
	BodySize int64
}

// Response is an HTTP response.
type Response struct {
	Status     int
	StatusText string
	Proto      string
	Headers    Headers
	Body       []byte
	BodySize   int64
}

// TLSInfo describes the TLS session an exchange travelled over.
type TLSInfo struct {
	Version     string
	CipherSuite string
	ServerName  string
	ALPN        string
}

// HasGap reports whether the exchange carries a gap of the given kind.
func (e *Exchange) HasGap(k GapKind) bool {
	for _, g := range e.Gaps {
		if g.Kind == k {
			return true
		}
	}
	return false
}

// AddGap records a gap once per kind and detail.
func (e *Exchange) AddGap(k GapKind, detail string) {
	for _, g := range e.Gaps {
		if g.Kind == k && g.Detail == detail {
			return
		}
	}
	e.Gaps = append(e.Gaps, Gap{Kind: k, Detail: detail})
}

// String is a short human description: "POST https://as/token → 200".
func (e *Exchange) String() string {
	if e == nil || e.Request == nil {
		return "<nil exchange>"
	}
	s := e.Request.Method + " " + e.Request.URL.String()
	if e.Response != nil {
		s += fmt.Sprintf(" → %d", e.Response.Status)
	} else {
		s += " → (no response)"
	}
	return s
}

// GapKind names what is missing from an exchange. Rules that need the
// missing part report not-available instead of a violation.
type GapKind string

const (
	// GapNoResponse: the capture holds no response for the request.
	GapNoResponse GapKind = "no-response"
	// GapRequestBody: the request body is missing or was truncated.
	GapRequestBody GapKind = "request-body"
	// GapResponseBody: the response body is missing or was truncated.
	GapResponseBody GapKind = "response-body"
	// GapSanitized: credentials (Authorization, cookies) were removed by
	// the exporting tool (e.g. Chrome's default sanitized HAR export).
	GapSanitized GapKind = "sanitized"
	// GapBytesMissing: the transport lost bytes (pcap gap).
	GapBytesMissing GapKind = "bytes-missing"
	// GapDecode: a content encoding could not be decoded.
	GapDecode GapKind = "decode"
)

// Gap is one thing known to be missing from an exchange.
type Gap struct {
	Kind   GapKind `json:"kind"`
	Detail string  `json:"detail,omitempty"`
}

// Ref says where an exchange came from, precisely enough for a reviewer to
// open the input at that place.
type Ref struct {
	// File is the input path as given on the command line.
	File string `json:"file,omitempty"`
	// Entry is the HAR entry index (0-based); -1 when not a HAR.
	Entry int `json:"entry"`
	// Offset is the byte offset of the entry (HAR) in File.
	Offset int64 `json:"offset"`
	// Length is the length in bytes of the entry (HAR) in File.
	Length int64 `json:"length,omitempty"`
	// Frames are the capture frame numbers (pcap), 1-based as in Wireshark.
	Frames []int64 `json:"frames,omitempty"`
	// Conn is the TCP 4-tuple (pcap): "10.0.0.1:50000 -> 10.0.0.2:443".
	Conn string `json:"conn,omitempty"`
	// ProxySeq is the live proxy's sequence number.
	ProxySeq int64 `json:"proxy_seq,omitempty"`
}

// String renders the ref compactly: "flow.har#entries[12]@3456" (HAR
// entry 12, as jq's .log.entries[12], at byte 3456), "cap.pcap frames
// 10-14 (a -> b)", "proxy#7".
func (r Ref) String() string {
	switch {
	case r.Entry >= 0 && r.File != "":
		return fmt.Sprintf("%s#entries[%d]@%d", r.File, r.Entry, r.Offset)
	case len(r.Frames) > 0:
		var b strings.Builder
		b.WriteString(r.File)
		if len(r.Frames) == 1 {
			fmt.Fprintf(&b, " frame %d", r.Frames[0])
		} else {
			fmt.Fprintf(&b, " frames %d-%d", r.Frames[0], r.Frames[len(r.Frames)-1])
		}
		if r.Conn != "" {
			fmt.Fprintf(&b, " (%s)", r.Conn)
		}
		return strings.TrimSpace(b.String())
	case r.ProxySeq > 0:
		return fmt.Sprintf("proxy#%d", r.ProxySeq)
	default:
		return r.File
	}
}
