// Package pcap reads pcap and pcapng captures into capture.Exchanges.
//
// Packets are read with gopacket's pure-Go readers (pcapgo) and decoded
// with its DecodingLayerParser (Ethernet, Linux cooked v1/v2, BSD/OpenBSD
// loopback, raw IPv4/IPv6, VLAN tags, IPv6 extension headers). TCP is
// reassembled per connection (retransmissions, reordering, mid-stream
// starts, lost bytes, RST, half-close, port reuse; see tcp.go), the
// protocol of each connection is recognised from its first bytes (stream.go)
// and HTTP/1.x is parsed on any port (http1.go, httpconn.go). TLS
// connections are decrypted with the secrets of NSS key logs
// (Options.Keys) or of pcapng Decryption Secrets Blocks
// (capture/tlsdecrypt, tls.go), and their plaintext read as HTTP/1.x or,
// with ALPN h2, as HTTP/2 (capture/h2, h2conn.go); connections that
// cannot be decrypted are listed in Info.Undecrypted with the reason.
//
// Memory grows with the connections open at one time, not with the file:
// a connection's state is released when it closes, the connections open
// at once are capped (Options.MaxOpenConnections), bodies are kept up to
// a cap, and bodies of media types no rule reads (images, fonts, audio,
// video, archives, scripts, style sheets, large HTML) are not kept at all
// unless Options.KeepAllBodies is set. The exchanges themselves are
// returned (Read) or handed to a callback as they complete (Stream).
package pcap

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/gopacket/gopacket/layers"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
)

// DefaultMaxBody caps each stored body (after decoding).
const DefaultMaxBody = 16 << 20

// Options tune the reader.
type Options struct {
	// MaxBody caps each body after decoding; 0 means DefaultMaxBody.
	MaxBody int64
	// KeepAllBodies keeps the bodies of every media type. By default the
	// bodies of media types no rule reads are counted but not stored, and
	// the exchange records a body gap saying so.
	KeepAllBodies bool
	// Progress, when set, is called every few thousand packets and at the
	// end with the bytes read from the input and the exchanges found.
	Progress func(read int64, exchanges int)
	// Keys holds the TLS secrets of the key logs given by the user
	// (--keylog, SSLKEYLOGFILE). Secrets embedded in the capture
	// (pcapng Decryption Secrets Blocks) are used as well, with or
	// without it.
	Keys *tlsdecrypt.KeyLog
	// MaxOpenConnections caps the TCP connections tracked at one time;
	// 0 means DefaultMaxOpenConnections. When a new connection would
	// exceed it, the least recently active one is finished early: what it
	// holds is parsed and its unfinished exchanges record gaps saying it
	// was finished early; a later packet of it is read as the start of a
	// connection captured mid-stream. Memory so stays bounded however
	// many connections a capture leaves open.
	MaxOpenConnections int
	// Slim, when set, is called by Read with each exchange as it is
	// complete, before it is kept: it may drop what the caller will not
	// read (bodies), so the exchanges held until the end of the file cost
	// less memory.
	Slim func(*capture.Exchange)
}

// Info describes what was read from one capture file.
type Info struct {
	File   string
	Format string // "pcap" or "pcapng"
	// Application is the pcapng section's writing application (e.g.
	// "Dumpcap (Wireshark) 4.0.17"); empty for pcap.
	Application string
	// Resolution is the pcap timestamp resolution ("microsecond" or
	// "nanosecond"); empty for pcapng (per interface).
	Resolution string
	LinkTypes  []string
	// Packets is the number of frames read; Bytes the bytes read from the
	// file.
	Packets    int64
	Bytes      int64
	TCPPackets int64
	// Connections counts TCP connections with payload; HTTP, TLS and Other
	// what they carried (a CONNECT tunnel counts once more for its
	// content).
	Connections      int
	HTTPConnections  int
	TLSConnections   int
	OtherConnections int
	// Requests is the number of HTTP requests parsed; Exchanges the number
	// returned.
	Requests  int
	Exchanges int
	// DecryptedConnections counts TLS connections whose records were
	// decrypted; UndecryptedConnections those that yielded nothing
	// (Undecrypted lists them, up to 10 000); SecretsBlocks the pcapng
	// Decryption Secrets Blocks read.
	DecryptedConnections   int
	UndecryptedConnections int
	Undecrypted            []capture.Undecrypted
	// PartlyRead lists the connections that lost bytes (up to 10 000),
	// from the first hole to their end: after a hole a direction's
	// messages cannot be framed, so what it carried may be missing from
	// the exchanges (kind bytes-missing).
	PartlyRead    []capture.Undecrypted
	SecretsBlocks int
	// Truncated is set when the file ended inside a packet record or a
	// record was corrupt: the packets before it were read.
	Truncated bool
	Warnings  []Warning
	// Reassembly figures, for the curious and for tests.
	Retransmissions int64
	OutOfOrder      int64
	Gaps            int64
	GapBytes        int64
	// EvictedConnections counts the connections finished early because
	// Options.MaxOpenConnections were open at once.
	EvictedConnections int64
}

// Warning is a problem that did not stop reading.
type Warning struct {
	File  string `json:"file"`
	Frame int64  `json:"frame,omitempty"`
	Conn  string `json:"conn,omitempty"`
	Msg   string `json:"message"`
}

func (w Warning) String() string {
	s := w.File
	if w.Frame > 0 {
		s += fmt.Sprintf(": frame %d", w.Frame)
	}
	if w.Conn != "" {
		s += " (" + w.Conn + ")"
	}
	return s + ": " + w.Msg
}

// Error is a capture file that cannot be used at all.
type Error struct {
	File string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	s := "pcap: " + e.File + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads the capture at path.
func ReadFile(path string, opts Options) ([]*capture.Exchange, *Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("pcap: %w", err)
	}
	defer f.Close()
	return Read(f, path, opts)
}

// Read reads a capture from r (name is used in refs and messages) and
// returns its exchanges in the order their requests started (capture
// timestamp of the earliest packet of the exchange, then frame order).
// An exchange's Ref frames run from the lowest to the highest frame of the
// packets that carried its request and response, whatever order they
// were captured in.
func Read(r io.Reader, name string, opts Options) ([]*capture.Exchange, *Info, error) {
	var out []*capture.Exchange
	info, err := Stream(r, name, opts, func(ex *capture.Exchange) {
		if opts.Slim != nil {
			opts.Slim(ex)
		}
		out = append(out, ex)
	})
	if err != nil {
		return nil, info, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Ref.Frames[0] < b.Ref.Frames[0]
	})
	return out, info, nil
}

// Stream reads a capture from r and calls emit with each exchange as soon
// as it is complete (connection by connection, so not in start order).
// Nothing but the open connections is kept, so memory does not grow with
// the file. The error is non-nil only when the file cannot be used at
// all; a damaged file yields what was read before the damage, Truncated
// and a warning.
func Stream(r io.Reader, name string, opts Options, emit func(*capture.Exchange)) (info *Info, err error) {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxOpenConnections <= 0 {
		opts.MaxOpenConnections = DefaultMaxOpenConnections
	}
	src, err := openSource(r, name)
	if err != nil {
		return &Info{File: name}, err
	}
	rd := &reader{name: name, opts: opts, emit: emit, src: src, info: &Info{File: name, Format: src.format, Application: src.app, Resolution: src.res}}
	rd.fileKeys = tlsdecrypt.NewKeyLog()
	rd.sessions = tlsdecrypt.NewSessionCache()
	if opts.Keys != nil {
		rd.keys = append(rd.keys, opts.Keys)
	}
	rd.keys = append(rd.keys, rd.fileKeys)
	defer func() {
		// The parsers are written not to panic on any input; if one does
		// anyway, say where instead of crashing the whole run.
		if p := recover(); p != nil {
			err = &Error{File: name, Msg: fmt.Sprintf("internal error at frame %d (please report it with the capture): %v", src.frame, p)}
		}
	}()
	rd.run()
	return rd.info, nil
}

// reader is the state of one Stream call.
type reader struct {
	name  string
	opts  Options
	emit  func(*capture.Exchange)
	src   *packetSource
	info  *Info
	order int64
	tcp   *tcpTable

	// TLS: the user's key log and the capture's own secrets, TLS 1.2
	// sessions for resumption, and connections waiting for secrets.
	keys       tlsdecrypt.Keys
	fileKeys   *tlsdecrypt.KeyLog
	sessions   *tlsdecrypt.SessionCache
	waiting    []*tlsConn
	noKeyConns int
	tlsConns   int      // undecrypted connections warned about
	tlsMore    []string // server names of the encrypted connections not warned about one by one
	dropped    int      // warnings not stored
	badPackets int64
	firstBad   int64
	fragments  int64
	firstFrag  int64
	badLinks   map[layers.LinkType]int64
}

// maxWarnings bounds the warnings kept per file; the rest are counted.
const maxWarnings = 200

func (r *reader) warn(frame int64, conn, msg string) {
	if len(r.info.Warnings) >= maxWarnings {
		r.dropped++
		return
	}
	r.info.Warnings = append(r.info.Warnings, Warning{File: r.name, Frame: frame, Conn: conn, Msg: msg})
}

func (r *reader) nextOrder() int64 {
	r.order++
	return r.order
}

func (r *reader) countProto(m streamMode) {
	switch m {
	case modeHTTP:
		r.info.HTTPConnections++
	case modeTLS:
		r.info.TLSConnections++
	case modeH2:
		r.info.HTTPConnections++
	case modeOther:
		r.info.OtherConnections++
	}
}

func (r *reader) hostName(a netip.Addr) string { return r.src.names[a.Unmap()] }

func (r *reader) run() {
	dec := newDecoder()
	r.tcp = newTCPTable(func(c *tcpConn) connHandler { return newStream(r, c) })
	r.tcp.maxOpen = r.opts.MaxOpenConnections
	var seg segment
	var last pktRef
	for {
		data, ci, link, err := r.src.next()
		if r.src.hasSecrets() {
			// Decryption Secrets Blocks seen in the bytes read so far
			// (before this packet, or read ahead of it).
			r.newSecrets()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.readError(err)
			}
			break
		}
		r.info.Packets++
		last = pktRef{frame: r.src.frame, ts: ci.Timestamp}
		switch dec.decode(link, data, &seg) {
		case decTCP:
			r.info.TCPPackets++
			r.tcp.packet(&seg, last)
		case decBad:
			if r.badPackets == 0 {
				r.firstBad = r.src.frame
			}
			r.badPackets++
		case decFragment:
			if r.fragments == 0 {
				r.firstFrag = r.src.frame
			}
			r.fragments++
		case decUnsupportedLink:
			if r.badLinks == nil {
				r.badLinks = map[layers.LinkType]int64{}
			}
			if r.badLinks[link] == 0 {
				r.warn(r.src.frame, "", fmt.Sprintf("link type %s is not supported (Ethernet, Linux cooked v1/v2, loopback and raw IP are); its packets are skipped", linkName(link)))
			}
			r.badLinks[link]++
		}
		if r.opts.Progress != nil && r.info.Packets%8192 == 0 {
			r.opts.Progress(r.src.offset(), r.info.Exchanges)
		}
	}
	r.tcp.finishAll(last)
	// Connections that waited for secrets the file never gave.
	r.retryWaiting(true)
	r.finishInfo()
	if r.opts.Progress != nil {
		r.opts.Progress(r.src.offset(), r.info.Exchanges)
	}
}

func (r *reader) readError(err error) {
	r.info.Truncated = true
	off := r.src.offset()
	next := r.src.frame + 1
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.warn(next, "", fmt.Sprintf("the file ends inside packet %d (truncated capture, %d bytes read): the %d packets before it were analyzed", next, off, r.src.frame))
	default:
		r.warn(next, "", fmt.Sprintf("corrupt packet record after frame %d (near byte %d): %v; the %d packets before it were analyzed", r.src.frame, off, err, r.src.frame))
	}
}

func (r *reader) finishInfo() {
	in := r.info
	in.Bytes = r.src.offset()
	for lt := range r.src.linkSeen {
		in.LinkTypes = append(in.LinkTypes, linkName(lt))
	}
	sort.Strings(in.LinkTypes)
	in.Connections = r.tcp.nConns
	st := r.tcp.stats
	in.Retransmissions, in.OutOfOrder, in.Gaps, in.GapBytes = st.retransmitted, st.outOfOrder, st.gaps, st.gapBytes
	in.EvictedConnections = st.evicted
	if st.evicted > 0 {
		r.warn(st.firstEvict, "", fmt.Sprintf("%d connection(s) were finished early, the first at frame %d, to keep at most %d connections open at once (the least recently active first); their unfinished exchanges record it (oauthlint analyze --max-connections raises the limit)", st.evicted, st.firstEvict, r.opts.MaxOpenConnections))
	}
	if r.badPackets > 0 {
		r.warn(r.firstBad, "", fmt.Sprintf("%d packet(s) could not be decoded (damaged or cut headers), the first at frame %d; they were skipped", r.badPackets, r.firstBad))
	}
	if r.fragments > 0 {
		r.warn(r.firstFrag, "", fmt.Sprintf("%d IP fragment(s), the first at frame %d, were skipped (fragmented TCP is not reassembled)", r.fragments, r.firstFrag))
	}
	if st.forcedGaps > 0 {
		r.warn(0, "", fmt.Sprintf("%d hole(s) in TCP streams were given up on because too many out-of-order bytes were waiting", st.forcedGaps))
	}
	if n := r.tlsConns - maxTLSWarnings; n > 0 {
		msg := fmt.Sprintf("%d more encrypted connections", n)
		if len(r.tlsMore) > 0 {
			msg += " (to " + strings.Join(r.tlsMore, ", ")
			if len(r.tlsMore) == 10 {
				msg += ", …"
			}
			msg += ")"
		}
		r.warn(0, "", msg+" were not decrypted (see Info.Undecrypted for each)")
	}
	if r.noKeyConns > 0 {
		r.warn(0, "", keysHint(r.noKeyConns, in.TLSConnections, r.keys.Len() > 0))
	}
	if in.Requests == 0 && in.Packets > 0 {
		msg := fmt.Sprintf("no HTTP requests found in %d packets (%d TCP connections", in.Packets, in.Connections)
		if in.UndecryptedConnections > 0 {
			msg += fmt.Sprintf(", %d of them encrypted and not decrypted", in.UndecryptedConnections)
		}
		r.warn(0, "", msg+")")
	}
	if r.dropped > 0 {
		in.Warnings = append(in.Warnings, Warning{File: r.name, Msg: fmt.Sprintf("%d more warnings not shown", r.dropped)})
	}
}
