// Package h2 reads HTTP/2 (RFC 9113) from the two byte streams of a
// connection — decrypted TLS with ALPN h2, or cleartext with prior
// knowledge — and pairs each stream's request and response.
//
// Frames are parsed with golang.org/x/net/http2's Framer and header
// blocks decoded with one HPACK decoder per direction
// (golang.org/x/net/http2/hpack), so the dynamic tables stay in step
// with the peers'. HEADERS with CONTINUATION, padding, interim (1xx)
// responses, trailers, server push, RST_STREAM and GOAWAY are handled.
// The reader is passive and tolerant of what a capture holds, but it
// never guesses: after bytes it cannot frame or a header block it cannot
// decode, the direction stops (the HPACK state would be out of step), and
// every stream still open says what is missing.
package h2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Pos is where bytes came from in the capture: a frame number and its
// timestamp.
type Pos struct {
	Frame int64
	Time  time.Time
}

// Message is a request or response as read from its stream.
type Message struct {
	// Fields is the header block as decoded, in order, pseudo-header
	// fields (":method", ":status", …) included.
	Fields []hpack.HeaderField
	// Interim are 1xx responses that came before the final one.
	Interim [][]hpack.HeaderField
	// Trailers is a header block after the body.
	Trailers []hpack.HeaderField
	// Body holds the DATA payload (padding removed) up to the policy's
	// cap; Wire counts every DATA byte received.
	Body      []byte
	Wire      int64
	Truncated bool
	// Keep and Max are the body policy (set by Options.Policy).
	Keep bool
	Max  int64
	// Ended: END_STREAM was received (the message is complete).
	Ended bool
	// Incomplete says why the message is not complete ("" when it is).
	Incomplete string
	// Lost: the message is incomplete because bytes were missing from
	// the capture.
	Lost bool
	// First is where the HEADERS frame began, Last where the message's
	// last frame ended.
	First, Last Pos
	// Tag is for the caller (Options.Policy may set it).
	Tag any
}

// Get returns the first value of a field (case-insensitive name).
func (m *Message) Get(name string) string {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Stream is one request with its response.
type Stream struct {
	ID       uint32
	Request  *Message
	Response *Message // nil when no response headers were received
	// Pushed: a server push (RFC 9113 §8.4); the request came in a
	// PUSH_PROMISE.
	Pushed bool
	// Reset describes an RST_STREAM ("the client reset the stream
	// (CANCEL)"), "" when none.
	Reset string
	// NoResponse says why Response is nil or incomplete when the stream
	// was not reset; NoResponseLost when bytes were missing.
	NoResponse     string
	NoResponseLost bool
}

// Options tune a Conn.
type Options struct {
	// MaxBody caps each stored body; 0 means 16 MiB.
	MaxBody int64
	// Policy is called when a message's header block is complete, before
	// any of its body; it may set Keep, Max and Tag. Without it every
	// body is kept up to MaxBody.
	Policy func(s *Stream, m *Message, response bool)
	// Warn receives problems that did not stop reading (nil: dropped).
	Warn func(at Pos, msg string)
}

// Limits that keep a hostile or damaged capture from exhausting memory.
const (
	maxHeaderBlock = 1 << 20 // header block bytes (all fragments)
	maxFieldLength = 256 << 10
	maxOpenStreams = 1 << 14
	// maxTableSize bounds the HPACK dynamic table a peer may announce.
	maxTableSize = 1 << 20
)

// ClientPreface starts the client's stream (RFC 9113 §3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Conn reads one HTTP/2 connection.
type Conn struct {
	opts    Options
	emit    func(*Stream)
	dirs    [2]*direction
	streams map[uint32]*Stream
	state   map[uint32]*streamState
	goaway  [2]uint32 // last stream id announced in a GOAWAY, per sender (+1; 0 = none)
	done    bool
}

type streamState struct {
	reqDone, respDone bool
	respHeaders       bool // final response headers seen
	reqHeaders        bool
}

// direction is one byte stream: index 0 is the client's.
type direction struct {
	client  bool
	buf     []byte
	first   Pos // where the buffered frame's first byte came from
	preface int // client: preface bytes still expected
	framer  *http2.Framer
	rd      bytes.Reader
	dec     *hpack.Decoder
	fields  []hpack.HeaderField
	// A header block being collected (HEADERS/PUSH_PROMISE +
	// CONTINUATION).
	block       []byte
	blockStream uint32
	blockPush   uint32 // promised stream id for PUSH_PROMISE
	blockEnd    bool   // END_STREAM on the HEADERS frame
	blockFirst  Pos
	stopped     string
	lost        bool
}

// NewConn returns a reader that calls emit with each stream once it is
// complete (both messages ended, reset, or the connection finished).
func NewConn(emit func(*Stream), opts Options) *Conn {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 16 << 20
	}
	c := &Conn{opts: opts, emit: emit, streams: map[uint32]*Stream{}, state: map[uint32]*streamState{}}
	for i := range c.dirs {
		d := &direction{client: i == 0}
		if d.client {
			d.preface = len(ClientPreface)
		}
		d.framer = http2.NewFramer(nil, &d.rd)
		d.framer.AllowIllegalReads = true // frame order is checked here, to report rather than fail
		d.framer.SetMaxReadFrameSize(1<<24 - 1)
		d.dec = hpack.NewDecoder(4096, nil)
		d.dec.SetMaxStringLength(maxFieldLength)
		d.dec.SetEmitFunc(func(f hpack.HeaderField) { d.fields = append(d.fields, f) })
		c.dirs[i] = d
	}
	return c
}

func dirIndex(client bool) int {
	if client {
		return 0
	}
	return 1
}

func who(client bool) string {
	if client {
		return "client"
	}
	return "server"
}

// Data feeds bytes of one direction: the client's when fromClient. The
// bytes began arriving at first and were complete at last (a TLS record
// spans packets).
func (c *Conn) Data(fromClient bool, b []byte, first, last Pos) {
	d := c.dirs[dirIndex(fromClient)]
	if d.stopped != "" || c.done {
		return
	}
	if d.preface > 0 {
		off := len(ClientPreface) - d.preface
		n := min(d.preface, len(b))
		if string(b[:n]) != ClientPreface[off:off+n] {
			c.stop(d, first, fmt.Sprintf("the client's bytes do not start with the HTTP/2 connection preface (found %q)", clip(b, 24)), false)
			return
		}
		d.preface -= n
		b = b[n:]
	}
	for len(b) > 0 {
		if len(d.buf) == 0 {
			d.first = first
			// Fast path: whole frames straight from b.
			for len(b) >= 9 {
				n := 9 + (int(b[0])<<16 | int(b[1])<<8 | int(b[2]))
				if len(b) < n {
					break
				}
				c.frame(d, b[:n], first, last)
				b = b[n:]
				if d.stopped != "" {
					return
				}
			}
			if len(b) == 0 {
				return
			}
		}
		need := 9
		if len(d.buf) >= 9 {
			need = 9 + (int(d.buf[0])<<16 | int(d.buf[1])<<8 | int(d.buf[2]))
		}
		k := min(need-len(d.buf), len(b))
		if len(d.buf) == 0 {
			d.first = first
		}
		d.buf = append(d.buf, b[:k]...)
		b = b[k:]
		if len(d.buf) == 9 {
			need = 9 + (int(d.buf[0])<<16 | int(d.buf[1])<<8 | int(d.buf[2]))
		}
		if len(d.buf) == need && need >= 9 {
			frame := d.buf
			d.buf = d.buf[:0]
			c.frame(d, frame, d.first, last)
			if d.stopped != "" {
				return
			}
		}
	}
}

// Gap says n bytes of a direction were lost: frames cannot be found
// after it and the HPACK state is lost, so the direction stops.
func (c *Conn) Gap(fromClient bool, n int, at Pos) {
	d := c.dirs[dirIndex(fromClient)]
	if d.stopped != "" || c.done {
		return
	}
	what := fmt.Sprintf("%d bytes", n)
	if n < 0 {
		what = "bytes"
	}
	c.stop(d, at, fmt.Sprintf("%s of the %s's HTTP/2 stream are missing from the capture; its frames cannot be read after them", what, who(d.client)), true)
}

// Stop ends a direction early for a reason the caller knows (its TLS
// records could not be decrypted from here on).
func (c *Conn) Stop(fromClient bool, at Pos, why string, lost bool) {
	d := c.dirs[dirIndex(fromClient)]
	if d.stopped != "" || c.done {
		return
	}
	c.stop(d, at, why, lost)
}

// End says a direction ended (FIN, RST, end of capture).
func (c *Conn) End(fromClient bool, at Pos) {
	d := c.dirs[dirIndex(fromClient)]
	if d.stopped != "" || c.done {
		return
	}
	if len(d.buf) > 0 {
		c.stop(d, at, fmt.Sprintf("the %s's stream ended inside an HTTP/2 frame", who(d.client)), false)
		return
	}
	d.stopped = "the connection closed"
	c.stopMessages(d, "the connection closed before the "+msgWord(d.client)+" was complete", false)
}

// Finish ends the connection: every stream still open is emitted with
// what is missing.
func (c *Conn) Finish(why string) {
	if c.done {
		return
	}
	for _, d := range c.dirs {
		if d.stopped == "" {
			c.stopMessages(d, why+" before the "+msgWord(d.client)+" was complete", false)
		}
	}
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c.flush(id, true)
	}
	c.done = true
}

func msgWord(client bool) string {
	if client {
		return "request"
	}
	return "response"
}

func (c *Conn) warn(at Pos, format string, args ...any) {
	if c.opts.Warn != nil {
		c.opts.Warn(at, fmt.Sprintf(format, args...))
	}
}

// stop ends a direction and marks what it leaves incomplete.
func (c *Conn) stop(d *direction, at Pos, why string, lost bool) {
	d.stopped = why
	d.lost = lost
	d.buf = nil
	d.block = nil
	c.warn(at, "stopped reading the %s's HTTP/2 frames: %s", who(d.client), why)
	c.stopMessages(d, why, lost)
}

// stopMessages marks the open messages of a direction incomplete and
// emits streams that are now settled.
func (c *Conn) stopMessages(d *direction, why string, lost bool) {
	for id, s := range c.streams {
		st := c.state[id]
		if d.client {
			if st.reqHeaders && !st.reqDone {
				if s.Request.Incomplete == "" {
					s.Request.Incomplete = why
					s.Request.Lost = lost
				}
				st.reqDone = true
			}
		} else if !st.respDone {
			if s.Response != nil && s.Response.Incomplete == "" {
				s.Response.Incomplete = why
				s.Response.Lost = lost
			}
			if s.Response == nil || !st.respHeaders {
				s.NoResponse, s.NoResponseLost = why, lost
			}
			st.respDone = true
		}
	}
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c.flush(id, false)
	}
}

func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

// frame handles one complete frame (9-byte header + payload).
func (c *Conn) frame(d *direction, b []byte, first, last Pos) {
	typ := http2.FrameType(b[3])
	sid := uint32(b[5])<<24&0x7f000000 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])
	if d.block != nil && typ != http2.FrameContinuation {
		c.stop(d, first, fmt.Sprintf("a %s frame came inside a header block of stream %d (CONTINUATION expected)", typ, d.blockStream), false)
		return
	}
	if typ == http2.FrameData {
		// DATA carries most bytes; read in place, without the Framer's
		// copy (RFC 9113 §6.1: optional pad length, then data, then
		// padding).
		flags := http2.Flags(b[4])
		p := b[9:]
		if sid == 0 {
			c.stop(d, first, "DATA frame on stream 0", false)
			return
		}
		if flags.Has(http2.FlagDataPadded) {
			if len(p) < 1 || int(p[0]) >= len(p) {
				c.stop(d, first, fmt.Sprintf("DATA frame on stream %d: padding longer than the frame", sid), false)
				return
			}
			p = p[1 : len(p)-int(p[0])]
		}
		c.data(d, sid, p, flags.Has(http2.FlagDataEndStream), last)
		return
	}
	d.rd.Reset(b)
	f, err := d.framer.ReadFrame()
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) {
			// A frame invalid for its stream: that stream is unreliable,
			// the connection goes on.
			c.warn(first, "stream %d: %s frame rejected: %v", sid, typ, err)
			return
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errors.New("frame cut short")
		}
		c.stop(d, first, fmt.Sprintf("%s frame on stream %d cannot be read: %v", typ, sid, err), false)
		return
	}
	switch f := f.(type) {
	case *http2.HeadersFrame:
		d.block = append(d.block[:0:0], f.HeaderBlockFragment()...)
		d.blockStream, d.blockPush, d.blockEnd, d.blockFirst = f.StreamID, 0, f.StreamEnded(), first
		if f.HeadersEnded() {
			c.headerBlock(d, last)
		}
	case *http2.PushPromiseFrame:
		d.block = append(d.block[:0:0], f.HeaderBlockFragment()...)
		d.blockStream, d.blockPush, d.blockEnd, d.blockFirst = f.StreamID, f.PromiseID, false, first
		if f.HeadersEnded() {
			c.headerBlock(d, last)
		}
	case *http2.ContinuationFrame:
		if d.block == nil || f.StreamID != d.blockStream {
			c.stop(d, first, fmt.Sprintf("CONTINUATION on stream %d without a header block to continue", f.StreamID), false)
			return
		}
		if len(d.block)+len(f.HeaderBlockFragment()) > maxHeaderBlock {
			c.stop(d, first, fmt.Sprintf("header block of stream %d is larger than %d bytes", f.StreamID, maxHeaderBlock), false)
			return
		}
		d.block = append(d.block, f.HeaderBlockFragment()...)
		if f.HeadersEnded() {
			c.headerBlock(d, last)
		}
	case *http2.RSTStreamFrame:
		c.reset(d, f.StreamID, f.ErrCode, last)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return
		}
		if v, ok := f.Value(http2.SettingHeaderTableSize); ok {
			// A table size announced by one peer bounds the table the
			// other peer's encoder may use: the other direction's
			// decoder accepts size updates up to it (never below the
			// default, so that a capture that reorders SETTINGS does
			// not break decoding).
			other := c.dirs[1-dirIndex(d.client)]
			other.dec.SetAllowedMaxDynamicTableSize(min(max(v, 4096), maxTableSize))
		}
	case *http2.GoAwayFrame:
		c.goaway[dirIndex(d.client)] = f.LastStreamID + 1
		if !d.client {
			// Streams above the last one the server processed were not
			// answered (RFC 9113 §6.8).
			for id, s := range c.streams {
				if id > f.LastStreamID && id%2 == 1 && s.Response == nil {
					s.Reset = fmt.Sprintf("the server refused the stream (GOAWAY %s, last stream %d)", f.ErrCode, f.LastStreamID)
					st := c.state[id]
					st.respDone = true
					st.reqDone = true
					c.flush(id, false)
				}
			}
		}
	}
}

// headerBlock decodes a complete header block and applies it.
func (c *Conn) headerBlock(d *direction, last Pos) {
	block := d.block
	d.block = nil
	d.fields = d.fields[:0]
	if _, err := d.dec.Write(block); err == nil {
		err = d.dec.Close()
		if err != nil {
			c.stop(d, d.blockFirst, fmt.Sprintf("header block of stream %d cannot be decoded: %v", d.blockStream, err), false)
			return
		}
	} else {
		d.dec.Close()
		c.stop(d, d.blockFirst, fmt.Sprintf("header block of stream %d cannot be decoded: %v (the HPACK state is lost)", d.blockStream, err), false)
		return
	}
	fields := append([]hpack.HeaderField(nil), d.fields...)
	id := d.blockStream
	if d.blockPush != 0 {
		c.push(d.blockPush, fields, d.blockFirst, last)
		return
	}
	if id == 0 {
		c.warn(d.blockFirst, "HEADERS on stream 0 ignored")
		return
	}
	if d.client {
		c.requestHeaders(id, fields, d.blockEnd, d.blockFirst, last)
	} else {
		c.responseHeaders(id, fields, d.blockEnd, d.blockFirst, last)
	}
}

func (c *Conn) open(id uint32) (*Stream, *streamState) {
	if s := c.streams[id]; s != nil {
		return s, c.state[id]
	}
	if len(c.streams) >= maxOpenStreams {
		return nil, nil
	}
	s := &Stream{ID: id}
	st := &streamState{}
	c.streams[id] = s
	c.state[id] = st
	return s, st
}

func (c *Conn) requestHeaders(id uint32, fields []hpack.HeaderField, end bool, first, last Pos) {
	s, st := c.open(id)
	if s == nil {
		c.warn(first, "more than %d streams open: stream %d skipped", maxOpenStreams, id)
		return
	}
	if st.reqHeaders {
		if s.Request.Ended || st.reqDone {
			c.warn(first, "stream %d: HEADERS after the request ended ignored", id)
			return
		}
		// Trailers (RFC 9113 §8.1).
		s.Request.Trailers = fields
		s.Request.Last = last
		if end {
			s.Request.Ended = true
			st.reqDone = true
		}
		c.flush(id, false)
		return
	}
	st.reqHeaders = true
	s.Request = &Message{Fields: fields, First: first, Last: last, Keep: true, Max: c.opts.MaxBody}
	if c.opts.Policy != nil {
		c.opts.Policy(s, s.Request, false)
	}
	if end {
		s.Request.Ended = true
		st.reqDone = true
	}
	if g := c.goaway[1]; g != 0 && id >= g {
		s.Reset = "the server had sent GOAWAY before this stream was opened"
		st.respDone = true
	}
	c.flush(id, false)
}

func (c *Conn) responseHeaders(id uint32, fields []hpack.HeaderField, end bool, first, last Pos) {
	s := c.streams[id]
	if s == nil {
		// A response to a request the capture does not hold (the
		// capture started late, or the client direction stopped).
		c.warn(first, "stream %d: response without a captured request skipped", id)
		return
	}
	st := c.state[id]
	if st.respDone && s.Response != nil && (s.Response.Ended || s.Response.Incomplete != "") {
		return
	}
	if s.Response != nil && st.respHeaders {
		s.Response.Trailers = fields
		s.Response.Last = last
		if end {
			s.Response.Ended = true
			st.respDone = true
		}
		c.flush(id, false)
		return
	}
	status := 0
	for _, f := range fields {
		if f.Name == ":status" {
			status, _ = strconv.Atoi(f.Value)
		}
	}
	if status >= 100 && status < 200 && !end {
		if s.Response == nil {
			s.Response = &Message{First: first}
		}
		s.Response.Interim = append(s.Response.Interim, fields)
		s.Response.Last = last
		return
	}
	if s.Response == nil {
		s.Response = &Message{First: first}
	}
	m := s.Response
	m.Fields, m.Last, m.Keep, m.Max = fields, last, true, c.opts.MaxBody
	if len(m.Interim) == 0 {
		m.First = first
	}
	st.respHeaders = true
	if c.opts.Policy != nil {
		c.opts.Policy(s, m, true)
	}
	if end {
		m.Ended = true
		st.respDone = true
	}
	c.flush(id, false)
}

func (c *Conn) push(promised uint32, fields []hpack.HeaderField, first, last Pos) {
	s, st := c.open(promised)
	if s == nil {
		return
	}
	s.Pushed = true
	s.Request = &Message{Fields: fields, First: first, Last: last, Ended: true}
	st.reqHeaders, st.reqDone = true, true
}

func (c *Conn) data(d *direction, id uint32, b []byte, end bool, last Pos) {
	s := c.streams[id]
	if s == nil {
		return // a stream the capture does not hold (its headers were skipped)
	}
	st := c.state[id]
	var m *Message
	if d.client {
		if !st.reqHeaders || st.reqDone {
			return
		}
		m = s.Request
	} else {
		if !st.respHeaders || st.respDone {
			return
		}
		m = s.Response
	}
	m.Wire += int64(len(b))
	if m.Keep && !m.Truncated {
		room := m.Max - int64(len(m.Body))
		if int64(len(b)) > room {
			b = b[:max(room, 0)]
			m.Truncated = true
		}
		m.Body = append(m.Body, b...)
	}
	m.Last = last
	if end {
		m.Ended = true
		if d.client {
			st.reqDone = true
		} else {
			st.respDone = true
		}
		c.flush(id, false)
	}
}

func (c *Conn) reset(d *direction, id uint32, code http2.ErrCode, last Pos) {
	s := c.streams[id]
	if s == nil {
		return
	}
	st := c.state[id]
	if st.reqDone && st.respDone {
		return
	}
	if s.Reset == "" {
		s.Reset = fmt.Sprintf("the %s reset the stream (%s)", who(d.client), code)
	}
	for _, m := range []*Message{s.Request, s.Response} {
		if m != nil && !m.Ended && m.Incomplete == "" {
			m.Incomplete = s.Reset
		}
	}
	st.reqDone, st.respDone = true, true
	c.flush(id, false)
}

// flush emits a stream once both messages are settled (or when the
// connection ends).
func (c *Conn) flush(id uint32, final bool) {
	s := c.streams[id]
	if s == nil {
		return
	}
	st := c.state[id]
	if !final && !(st.reqDone && st.respDone) {
		return
	}
	delete(c.streams, id)
	delete(c.state, id)
	if s.Request == nil {
		return // a promise or response without a request: nothing to show
	}
	c.emit(s)
}
