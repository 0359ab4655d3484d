// Package tlsgen writes HTTP exchanges onto the wire inside TLS 1.2 or
// 1.3 connections (HTTP/1.1 or HTTP/2), with the NSS key log of every
// connection, deterministically from a seed. It returns the exchanges as
// a reader of the capture must find them, so that a HAR of the same
// traffic can be written beside the capture: the TLS equivalence tests
// and the TLS benchmark (bench/tls.sh) are built on it.
//
// The handshakes carry real ClientHello/ServerHello messages and
// structurally valid but fake certificates; the records are sealed with
// keys derived from random secrets that the key log records. Tools that
// decrypt with a key log (oauthlint, tshark) read them like a real
// session; nothing verifies the handshake.
package tlsgen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Options describe the TLS traffic.
type Options struct {
	Seed uint64
	// Version is 0x0304 (TLS 1.3, the default) or 0x0303 (TLS 1.2).
	Version uint16
	// Suite is the cipher suite; the default is TLS_AES_128_GCM_SHA256,
	// or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 for TLS 1.2.
	Suite uint16
	// ETM negotiates encrypt-then-MAC (TLS 1.2 CBC suites).
	ETM bool
	// HTTP2 speaks HTTP/2 (ALPN h2) instead of HTTP/1.1.
	HTTP2  bool
	Format pcapgen.Format
	Link   pcapgen.Link
	// PerConn is the number of exchanges per connection; 0 means 8.
	PerConn int
	// EmbedKeys writes each connection's secrets into the capture as a
	// Decryption Secrets Block before its packets (pcapng only).
	EmbedKeys bool
	// Start is the time of the first packet (default 2026-03-02 09:00 UTC).
	Start time.Time
	// Impair reorders, retransmits and drops data segments (pcapgen's
	// impairments, applied to the encrypted bytes).
	Impair pcapgen.Impair
}

// Writer writes TLS connections to a capture.
type Writer struct {
	opts   Options
	g      *pcapgen.Generator
	pw     *pcapgen.PacketWriter
	keylog io.Writer
	now    time.Time
	conns  int
	last   time.Time // latest exchange start, to keep starts distinct
}

// NewWriter starts a capture on w; the key log goes to keylog (nil: not
// written).
func NewWriter(w io.Writer, keylog io.Writer, opts Options) (*Writer, error) {
	if opts.Version == 0 {
		opts.Version = 0x0304
	}
	if opts.Suite == 0 {
		opts.Suite = 0x1301
		if opts.Version == 0x0303 {
			opts.Suite = 0xc02b
		}
	}
	if opts.PerConn <= 0 {
		opts.PerConn = 8
	}
	if opts.EmbedKeys && opts.Format != pcapgen.FormatPcapng {
		return nil, fmt.Errorf("tlsgen: embedded keys need the pcapng format")
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	}
	pw, err := pcapgen.NewPacketWriter(w, opts.Format, opts.Link)
	if err != nil {
		return nil, err
	}
	g := pcapgen.New(opts.Seed)
	g.Impair = opts.Impair
	return &Writer{opts: opts, g: g, pw: pw, keylog: keylog, now: opts.Start}, nil
}

// Close flushes the capture.
func (w *Writer) Close() error { return w.pw.Flush() }

// WriteFile writes the exchanges as a capture file at path, the key log
// lines to keylog (nil for none), and returns the exchanges as the
// capture holds them (see Write).
func WriteFile(path string, keylog io.Writer, exs []*capture.Exchange, opts Options) ([]*capture.Exchange, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, keylog, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	out, err := w.Write(exs)
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Frames is the number of packets written.
func (w *Writer) Frames() int64 { return w.pw.Frames }

// Write sends the exchanges, PerConn per connection and one connection
// per server host at a time, and returns them as the capture holds them
// (https URLs, the header fields as sent, identity bodies, capture start
// times). Exchanges without a response, CONNECT, protocol switches and
// interim responses are not sent.
func (w *Writer) Write(exs []*capture.Exchange) ([]*capture.Exchange, error) {
	var out []*capture.Exchange
	var cur *conn
	for _, ex := range exs {
		if !sendable(ex) {
			continue
		}
		host := ex.Request.URL.Host
		if cur != nil && (cur.host != host || cur.n >= w.opts.PerConn) {
			if err := cur.finish(); err != nil {
				return out, err
			}
			cur = nil
		}
		if cur == nil {
			var err error
			if cur, err = w.open(host); err != nil {
				return out, err
			}
		}
		got, err := cur.exchange(ex)
		if err != nil {
			return out, err
		}
		out = append(out, got)
	}
	if cur != nil {
		if err := cur.finish(); err != nil {
			return out, err
		}
	}
	return out, nil
}

func sendable(ex *capture.Exchange) bool {
	if ex.Request == nil || ex.Response == nil || ex.Request.URL == nil || ex.Request.URL.Host == "" {
		return false
	}
	return ex.Request.Method != "CONNECT" && ex.Response.Status >= 200
}

// conn is one TLS connection being written.
type conn struct {
	w      *Writer
	host   string
	b      *pcapgen.Batch
	tc     *pcapgen.Conn
	cs, ss *tlsdecrypt.Sealer // application data sealers
	t      time.Time
	n      int
	// HTTP/2 state.
	cenc, senc *hpack.Encoder
	cbuf, sbuf bytes.Buffer
	stream     uint32
}

func (w *Writer) open(host string) (*conn, error) {
	w.conns++
	r := w.g.Rand()
	client := netip.AddrFrom4([4]byte{10, 1, byte(w.conns >> 8 & 0xff), byte(1 + w.conns%250)})
	server := netip.AddrFrom4([4]byte{10, 2, byte(len(host) % 200), byte(1 + hash(host)%250)})
	tc := &pcapgen.Conn{Client: netip.AddrPortFrom(client, w.g.ClientPort(client)), Server: netip.AddrPortFrom(server, 443),
		MSS: 1448, RTT: time.Duration(200+r.IntN(800)) * time.Microsecond}
	c := &conn{w: w, host: host, tc: tc, b: w.g.Batch(w.now), t: w.now}
	if err := c.handshake(); err != nil {
		return nil, err
	}
	return c, nil
}

func hash(s string) int {
	h := 0
	for _, c := range s {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return h
}

func (c *conn) random(n int) []byte {
	b := make([]byte, n)
	r := c.w.g.Rand()
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

func (c *conn) send(fromClient bool, b []byte, gap time.Duration) time.Time {
	at := c.t.Add(gap)
	c.t = c.b.Raw(c.tc, fromClient, b, at)
	return at
}

func record(typ byte, b []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(b) >> 8), byte(len(b))}, b...)
}

func hsMsg(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func ext(typ uint16, body []byte) []byte {
	e := binary.BigEndian.AppendUint16(nil, typ)
	e = binary.BigEndian.AppendUint16(e, uint16(len(body)))
	return append(e, body...)
}

func vec16(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }

func (c *conn) alpn() string {
	if c.w.opts.HTTP2 {
		return "h2"
	}
	return "http/1.1"
}

func (c *conn) clientHello(random []byte) []byte {
	o := c.w.opts
	name := []byte(strings.Split(c.host, ":")[0])
	sni := vec16(append([]byte{0}, vec16(name)...))
	exts := ext(0, sni)
	exts = append(exts, ext(16, vec16(append([]byte{byte(len(c.alpn()))}, c.alpn()...)))...)
	if o.Version == 0x0304 {
		exts = append(exts, ext(43, []byte{2, 3, 4})...)
		exts = append(exts, ext(51, vec16(append([]byte{0, 29, 0, 32}, c.random(32)...)))...) // key_share x25519
	}
	if o.ETM {
		exts = append(exts, ext(22, nil)...)
	}
	body := append([]byte{3, 3}, random...)
	body = append(body, 32)
	body = append(body, c.random(32)...)
	body = append(body, vec16(binary.BigEndian.AppendUint16(nil, o.Suite))...)
	body = append(body, 1, 0)
	body = append(body, vec16(exts)...)
	return record(22, hsMsg(1, body))
}

func (c *conn) serverHello(random []byte) []byte {
	o := c.w.opts
	var exts []byte
	if o.Version == 0x0304 {
		exts = append(exts, ext(43, []byte{3, 4})...)
		exts = append(exts, ext(51, append([]byte{0, 29, 0, 32}, c.random(32)...))...)
	} else {
		exts = append(exts, ext(16, vec16(append([]byte{byte(len(c.alpn()))}, c.alpn()...)))...)
		if o.ETM {
			exts = append(exts, ext(22, nil)...)
		}
	}
	body := append([]byte{3, 3}, random...)
	body = append(body, 32)
	body = append(body, c.random(32)...)
	body = binary.BigEndian.AppendUint16(body, o.Suite)
	body = append(body, 0)
	body = append(body, vec16(exts)...)
	return hsMsg(2, body)
}

// certificate is a structurally valid Certificate message carrying one
// fake certificate (TLS 1.3 adds a context and per-entry extensions).
func (c *conn) certificate(tls13 bool) []byte {
	cert := c.random(600)
	var list []byte
	list = append(list, byte(len(cert)>>16), byte(len(cert)>>8), byte(len(cert)))
	list = append(list, cert...)
	if tls13 {
		list = append(list, 0, 0)
	}
	body := []byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}
	body = append(body, list...)
	if tls13 {
		body = append([]byte{0}, body...)
	}
	return hsMsg(11, body)
}

func (c *conn) logKey(label string, cr, secret []byte) {
	line := fmt.Sprintf("%s %s %s\n", label, hex.EncodeToString(cr), hex.EncodeToString(secret))
	if c.w.keylog != nil {
		io.WriteString(c.w.keylog, line)
	}
	if c.w.opts.EmbedKeys {
		c.w.pw.WriteSecrets([]byte(line))
	}
}

func (c *conn) handshake() error {
	o := c.w.opts
	cr, sr := c.random(32), c.random(32)
	rtt := c.tc.RTT
	c.send(true, c.clientHello(cr), 0)
	if o.Version == 0x0304 {
		hashLen := 32
		if o.Suite == 0x1302 {
			hashLen = 48
		}
		chs, shs, cap0, sap0 := c.random(hashLen), c.random(hashLen), c.random(hashLen), c.random(hashLen)
		c.logKey("CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr, chs)
		c.logKey("SERVER_HANDSHAKE_TRAFFIC_SECRET", cr, shs)
		c.logKey("CLIENT_TRAFFIC_SECRET_0", cr, cap0)
		c.logKey("SERVER_TRAFFIC_SECRET_0", cr, sap0)
		sh, err := tlsdecrypt.NewSealer13(o.Suite, shs)
		if err != nil {
			return err
		}
		ch, _ := tlsdecrypt.NewSealer13(o.Suite, chs)
		c.cs, _ = tlsdecrypt.NewSealer13(o.Suite, cap0)
		c.ss, _ = tlsdecrypt.NewSealer13(o.Suite, sap0)
		ee := hsMsg(8, vec16(ext(16, vec16(append([]byte{byte(len(c.alpn()))}, c.alpn()...)))))
		flight := append(ee, c.certificate(true)...)
		flight = append(flight, hsMsg(15, append([]byte{4, 3}, vec16(c.random(72))...))...)
		flight = append(flight, hsMsg(20, c.random(32))...)
		srv := record(22, c.serverHello(sr))
		srv = append(srv, record(20, []byte{1})...)
		srv = sh.Seal(srv, 22, flight)
		c.send(false, srv, rtt)
		cl := record(20, []byte{1})
		cl = ch.Seal(cl, 22, hsMsg(20, c.random(32)))
		c.send(true, cl, rtt)
		// A session ticket, as servers send right after the handshake.
		c.send(false, c.ss.Seal(nil, 22, hsMsg(4, append([]byte{0, 0, 0x1c, 0x20, 1, 2, 3, 4, 0}, append(vec16(c.random(64)), 0, 0)...))), rtt/4)
	} else {
		master := c.random(48)
		c.logKey("CLIENT_RANDOM", cr, master)
		cs, ss, err := tlsdecrypt.NewSealers12(o.Suite, master, cr, sr, o.ETM)
		if err != nil {
			return err
		}
		c.cs, c.ss = cs, ss
		flight := append(c.serverHello(sr), c.certificate(false)...)
		flight = append(flight, hsMsg(12, append([]byte{3, 0, 29, 32}, c.random(32+2+2+72)...))...) // ServerKeyExchange
		flight = append(flight, hsMsg(14, nil)...)
		c.send(false, record(22, flight), rtt)
		cl := record(22, hsMsg(16, append([]byte{32}, c.random(32)...)))
		cl = append(cl, record(20, []byte{1})...)
		cl = cs.Seal(cl, 22, hsMsg(20, c.random(12)))
		c.send(true, cl, rtt)
		srv := record(20, []byte{1})
		srv = ss.Seal(srv, 22, hsMsg(20, c.random(12)))
		c.send(false, srv, rtt/2)
	}
	if o.HTTP2 {
		c.cenc, c.senc = hpack.NewEncoder(&c.cbuf), hpack.NewEncoder(&c.sbuf)
		var b bytes.Buffer
		b.WriteString(http2.ClientPreface)
		fr := http2.NewFramer(&b, nil)
		fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 6 << 20})
		c.send(true, c.seal(true, b.Bytes()), 0)
		b.Reset()
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 250})
		fr.WriteSettingsAck()
		c.send(false, c.seal(false, b.Bytes()), rtt/2)
		b.Reset()
		fr.WriteSettingsAck()
		c.send(true, c.seal(true, b.Bytes()), rtt/2)
	}
	return nil
}

// seal cuts application data into records of at most 16 KiB.
func (c *conn) seal(fromClient bool, b []byte) []byte {
	s := c.ss
	if fromClient {
		s = c.cs
	}
	var out []byte
	for len(b) > 0 {
		k := min(len(b), 16384)
		out = s.Seal(out, 23, b[:k])
		b = b[k:]
	}
	return out
}

func (c *conn) finish() error {
	if _, err := c.b.Write(c.w.pw); err != nil {
		return err
	}
	c.w.now = c.b.End().Add(time.Duration(1+c.w.g.Rand().IntN(20)) * time.Millisecond)
	return c.w.pw.Flush()
}

// hop-by-hop and framing headers are not copied: the writer frames the
// bodies itself (identity, Content-Length).
var dropped = map[string]bool{"content-length": true, "transfer-encoding": true, "content-encoding": true, "connection": true,
	"keep-alive": true, "proxy-connection": true, "upgrade": true, "te": true, "expect": true, "trailer": true}

func noBody(method string, status int) bool {
	return method == "HEAD" || status == 204 || status == 304
}

func (c *conn) exchange(src *capture.Exchange) (*capture.Exchange, error) {
	c.n++
	r := c.w.g.Rand()
	req, resp := src.Request, src.Response
	u := *req.URL
	u.Scheme = "https"
	reqBody := req.Body
	respBody := resp.Body
	if noBody(req.Method, resp.Status) {
		respBody = nil
	}
	ex := &capture.Exchange{ClientAddr: c.tc.Client.String(), ServerAddr: c.tc.Server.String(), Comment: src.Comment}
	var reqWire, respWire []byte
	if c.w.opts.HTTP2 {
		c.stream += 2
		if c.stream == 2 {
			c.stream = 1
		}
		fields := []hpack.HeaderField{{Name: ":method", Value: req.Method}, {Name: ":scheme", Value: "https"}, {Name: ":authority", Value: u.Host}, {Name: ":path", Value: u.RequestURI()}}
		for _, h := range req.Headers {
			n := strings.ToLower(h.Name)
			if dropped[n] || n == "host" || strings.HasPrefix(n, ":") {
				continue
			}
			fields = append(fields, hpack.HeaderField{Name: n, Value: h.Value})
		}
		if len(reqBody) > 0 {
			fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(reqBody))})
		}
		rfields := []hpack.HeaderField{{Name: ":status", Value: strconv.Itoa(resp.Status)}}
		for _, h := range resp.Headers {
			n := strings.ToLower(h.Name)
			if dropped[n] || strings.HasPrefix(n, ":") {
				continue
			}
			rfields = append(rfields, hpack.HeaderField{Name: n, Value: h.Value})
		}
		rfields = append(rfields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(respBody))})
		reqWire = c.frames(c.cenc, &c.cbuf, fields, reqBody)
		respWire = c.frames(c.senc, &c.sbuf, rfields, respBody)
		ex.Request = &capture.Request{Method: req.Method, URL: &u, Proto: "HTTP/2.0", Headers: fieldsHeaders(fields, false), Body: reqBody, BodySize: int64(len(reqBody))}
		ex.Response = &capture.Response{Status: resp.Status, Proto: "HTTP/2.0", Headers: fieldsHeaders(rfields, true), Body: respBody, BodySize: int64(len(respBody))}
	} else {
		var hs capture.Headers
		host := false
		for _, h := range req.Headers {
			n := strings.ToLower(h.Name)
			if dropped[n] || strings.HasPrefix(n, ":") {
				continue
			}
			host = host || n == "host"
			hs = append(hs, h)
		}
		if !host {
			hs = append(capture.Headers{{Name: "Host", Value: u.Host}}, hs...)
		}
		if len(reqBody) > 0 {
			hs = append(hs, capture.Header{Name: "Content-Length", Value: strconv.Itoa(len(reqBody))})
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", req.Method, u.RequestURI())
		for _, h := range hs {
			fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		}
		b.WriteString("\r\n")
		b.Write(reqBody)
		reqWire = bytes.Clone(b.Bytes())
		var rs capture.Headers
		for _, h := range resp.Headers {
			if dropped[strings.ToLower(h.Name)] || strings.HasPrefix(h.Name, ":") {
				continue
			}
			rs = append(rs, h)
		}
		if !(resp.Status == 204 || resp.Status == 304) {
			rs = append(rs, capture.Header{Name: "Content-Length", Value: strconv.Itoa(len(resp.Body))})
		}
		reason := resp.StatusText
		if reason == "" {
			reason = "OK"
		}
		b.Reset()
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", resp.Status, reason)
		for _, h := range rs {
			fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		}
		b.WriteString("\r\n")
		b.Write(respBody)
		respWire = bytes.Clone(b.Bytes())
		ex.Request = &capture.Request{Method: req.Method, URL: &u, Proto: "HTTP/1.1", Headers: hs, Body: reqBody, BodySize: int64(len(reqBody))}
		ex.Response = &capture.Response{Status: resp.Status, StatusText: reason, Proto: "HTTP/1.1", Headers: rs, Body: respBody, BodySize: int64(len(respBody))}
	}
	// Starts are distinct after truncation to the file's resolution, so
	// that both readers order the exchanges the same way.
	gap := time.Duration(50+r.IntN(2000)) * time.Microsecond
	res := c.w.pw.Resolution()
	if min := c.w.last.Add(2 * res); c.t.Add(gap).Before(min) {
		gap = min.Sub(c.t)
	}
	start := c.send(true, c.seal(true, reqWire), gap)
	ex.Start = start.Truncate(res)
	c.w.last = ex.Start
	c.send(false, c.seal(false, respWire), c.tc.RTT/2+time.Duration(r.IntN(3000))*time.Microsecond)
	ex.Duration = c.t.Sub(ex.Start)
	return ex, nil
}

// frames encodes one HTTP/2 message: HEADERS (with CONTINUATION when
// the block is large) and DATA frames of at most 16 KiB.
func (c *conn) frames(enc *hpack.Encoder, buf *bytes.Buffer, fields []hpack.HeaderField, body []byte) []byte {
	buf.Reset()
	for _, f := range fields {
		enc.WriteField(f)
	}
	block := bytes.Clone(buf.Bytes())
	var out bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	first := true
	for len(block) > 0 || first {
		k := min(len(block), 16384)
		end := k == len(block)
		if first {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: c.stream, BlockFragment: block[:k], EndHeaders: end, EndStream: len(body) == 0})
			first = false
		} else {
			fr.WriteContinuation(c.stream, end, block[:k])
		}
		block = block[k:]
	}
	for len(body) > 0 {
		k := min(len(body), 16384)
		fr.WriteData(c.stream, k == len(body), body[:k])
		body = body[k:]
	}
	return bytes.Clone(out.Bytes())
}

func fieldsHeaders(fs []hpack.HeaderField, resp bool) capture.Headers {
	var hs capture.Headers
	for _, f := range fs {
		if resp && f.Name == ":status" {
			continue
		}
		hs = append(hs, capture.Header{Name: f.Name, Value: f.Value})
	}
	return hs
}

// Generate writes about size bytes of TLS traffic: the plain HTTP traffic
// of the pcap generator (OAuth/MCP flows mixed with noise, made in chunks
// of 8 MiB from consecutive seeds) sent through TLS connections. each,
// when set, receives the exchanges as the capture holds them (for a HAR).
func Generate(w io.Writer, keylog io.Writer, opts Options, size int64, oauthShare float64, each func(*capture.Exchange) error) (exchanges int, err error) {
	cw := &countWriter{w: w}
	tw, err := NewWriter(cw, keylog, opts)
	if err != nil {
		return 0, err
	}
	for chunk := uint64(0); cw.n < size; chunk++ {
		var plain, harBuf bytes.Buffer
		if _, err := pcapgen.Generate(&plain, pcapgen.Options{Seed: opts.Seed*1000 + chunk, Size: min(8<<20, size-cw.n+1<<20), OAuthShare: oauthShare,
			Start: tw.now, HAR: &harBuf}); err != nil {
			return exchanges, err
		}
		exs, _, err := har.Read(&harBuf, "chunk", har.Options{MaxBody: 64 << 20})
		if err != nil {
			return exchanges, err
		}
		out, err := tw.Write(exs)
		if err != nil {
			return exchanges, err
		}
		if err := tw.Close(); err != nil {
			return exchanges, err
		}
		exchanges += len(out)
		if each != nil {
			for _, ex := range out {
				if err := each(ex); err != nil {
					return exchanges, err
				}
			}
		}
		if len(out) == 0 {
			return exchanges, fmt.Errorf("tlsgen: the generator produced no exchange to send")
		}
	}
	return exchanges, tw.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
