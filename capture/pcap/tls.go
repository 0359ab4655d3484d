package pcap

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
)

// tlsConn handles a TLS connection. It feeds both byte streams to a
// tlsdecrypt.Conn, which parses the handshake (server name, ALPN) and,
// with secrets from the key logs (--keylog, SSLKEYLOGFILE, or a pcapng
// Decryption Secrets Block), decrypts the records. The plaintext goes to
// an inner stream: HTTP/2 when ALPN says h2, else recognised by content
// (HTTP/1.x). A connection that cannot be decrypted yields no exchange:
// it is listed (Info.Undecrypted) and warned about with its server name,
// time and the reason.
type tlsConn struct {
	s         *stream
	client    int
	midstream bool
	dec       *tlsdecrypt.Conn
	inner     *stream
	// spans map stream offsets to the packets that carried them, per
	// tlsdecrypt direction, back to the oldest byte still needed.
	spans [2][]span
	fed   [2]int64
	first pktRef
	last  pktRef
	fail  [2]*tlsdecrypt.Failure
	// failAt is the packet where each direction stopped being decrypted.
	failAt   [2]pktRef
	waiting  bool // registered in reader.waiting
	parked   bool // finished while waiting for secrets
	finWhy   endReason
	finAt    pktRef
	finished bool
}

type span struct {
	off int64
	at  pktRef
}

func newTLSConn(s *stream, client int, midstream bool) *tlsConn {
	t := &tlsConn{s: s, client: client, midstream: midstream}
	r := s.r
	opts := tlsdecrypt.Options{Sessions: r.sessions}
	if r.src.format == "pcapng" {
		// A Decryption Secrets Block may come later in the file.
		opts.WaitForKeys = true
		opts.MaxHeld = maxHeldPerConn
	}
	t.dec = tlsdecrypt.NewConn(r.keys, t, opts)
	if midstream {
		t.dec.Midstream()
	}
	return t
}

// dir maps an endpoint index to a TLS direction, and back.
func (t *tlsConn) dir(ep int) tlsdecrypt.Dir {
	if ep == t.client {
		return tlsdecrypt.Client
	}
	return tlsdecrypt.Server
}

func (t *tlsConn) ep(d tlsdecrypt.Dir) int {
	if d == tlsdecrypt.Client {
		return t.client
	}
	return 1 - t.client
}

func (t *tlsConn) data(dir int, b []byte, at pktRef) {
	// first and last are the lowest and highest frames of the
	// connection's TLS bytes (reordered packets can come in any order).
	t.first, t.last = spanFrames(t.first, t.last, at)
	d := t.dir(dir)
	if !t.dec.Failed(d) {
		t.spans[d] = append(t.spans[d], span{t.fed[d], at})
	}
	t.fed[d] += int64(len(b))
	t.dec.Feed(d, b)
	t.trim(d)
	if t.dec.Waiting() && !t.waiting {
		t.waiting = true
		t.s.r.wait(t)
	}
}

// trim forgets the packets of bytes the decryptor no longer needs.
func (t *tlsConn) trim(d tlsdecrypt.Dir) {
	sp := t.spans[d]
	if t.dec.Failed(d) {
		t.spans[d] = nil
		return
	}
	oldest := t.dec.Oldest(d)
	i := sort.Search(len(sp), func(i int) bool { return sp[i].off > oldest }) - 1
	if i > 0 {
		n := copy(sp, sp[i:])
		t.spans[d] = sp[:n]
	}
}

// posOf is the packet that carried byte off of direction d.
func (t *tlsConn) posOf(d tlsdecrypt.Dir, off int64) pktRef {
	sp := t.spans[d]
	i := sort.Search(len(sp), func(i int) bool { return sp[i].off > off }) - 1
	if i < 0 {
		if len(sp) > 0 {
			return sp[0].at
		}
		return t.last
	}
	return sp[i].at
}

// rangeOf is where the bytes [start, end) of direction d came from: frame
// is the highest frame of the packets that carried them, bframe the
// lowest (zero when the same). In capture order the lowest is the packet
// with the first byte and the highest the one with the last, but with
// reordering a later part of a record can come in an earlier packet.
func (t *tlsConn) rangeOf(d tlsdecrypt.Dir, start, end int64) pktRef {
	sp := t.spans[d]
	i := sort.Search(len(sp), func(i int) bool { return sp[i].off > start }) - 1
	j := sort.Search(len(sp), func(i int) bool { return sp[i].off > end-1 }) - 1
	if i < 0 || j < i {
		at := t.posOf(d, end-1)
		if bg := t.posOf(d, start); bg.frame != at.frame {
			at.bframe, at.bts = bg.frame, bg.ts
		}
		return at
	}
	var lo, hi pktRef
	for _, s := range sp[i : j+1] {
		lo, hi = spanFrames(lo, hi, s.at)
	}
	at := hi
	if lo.frame != hi.frame {
		at.bframe, at.bts = lo.frame, lo.ts
	}
	return at
}

func (t *tlsConn) gap(dir int, n int, at pktRef) {
	d := t.dir(dir)
	t.fed[d] += int64(n)
	if at.frame > t.last.frame {
		t.last = at
	}
	t.dec.Gap(d, n)
}

func (t *tlsConn) end(dir int, why endReason, at pktRef) {
	d := t.dir(dir)
	t.dec.End(d)
	if t.inner != nil && !t.dec.Failed(d) {
		t.inner.end(dir, why, at)
	}
}

func (t *tlsConn) finish(why endReason, at pktRef) {
	if t.dec.Waiting() && t.s.r.park(t) {
		t.parked, t.finWhy, t.finAt = true, why, at
		return
	}
	t.finalize(why, at)
}

// finalize ends the connection for good and reports it.
func (t *tlsConn) finalize(why endReason, at pktRef) {
	if t.finished {
		return
	}
	t.finished = true
	t.dec.Finish()
	if t.inner != nil {
		t.inner.finish(why, at)
		t.inner = nil
	}
	t.report()
	t.spans = [2][]span{}
}

// Data implements tlsdecrypt.Handler: decrypted application data.
func (t *tlsConn) Data(d tlsdecrypt.Dir, b []byte, start, end int64) {
	if t.inner == nil {
		t.startInner()
	}
	t.inner.data(t.ep(d), b, t.rangeOf(d, start, end))
}

// Failed implements tlsdecrypt.Handler: the direction's plaintext ends
// here for the protocol handler inside.
func (t *tlsConn) Failed(f tlsdecrypt.Failure) {
	t.fail[f.Dir] = &f
	at := t.posOf(f.Dir, f.Offset)
	t.failAt[f.Dir] = at
	if t.inner != nil {
		t.inner.end(t.ep(f.Dir), endUndecryptable, at)
	}
}

// startInner creates the stream for the plaintext: HTTP/2 when ALPN
// says so, else recognised from the first bytes.
func (t *tlsConn) startInner() {
	in := &stream{r: t.s.r, c: t.s.c, tunnelled: true, tunnelTo: t.s.tunnelTo, tls: t}
	if t.dec.Info().ALPN == "h2" {
		in.mode = modeH2
		in.h = newH2Conn(in, t.client)
		t.s.r.countProto(modeH2)
	}
	t.inner = in
}

// failReason says why direction ep stopped being decrypted ("" when it
// did not).
func (t *tlsConn) failReason(ep int) string {
	d := t.dir(ep)
	if f := t.fail[d]; f != nil {
		return fmt.Sprintf("the %s's TLS records could not be decrypted from frame %d on: %s", d, t.failAt[d].frame, f.Reason)
	}
	return ""
}

// undecryptedGaps marks an exchange whose request or response was cut
// by a decryption failure.
func (t *tlsConn) undecryptedGaps(ex *capture.Exchange, client int, reqIncomplete, respMissing bool) {
	if reqIncomplete {
		if why := t.failReason(client); why != "" {
			ex.AddGap(capture.GapUndecrypted, why)
		}
	}
	if respMissing {
		if why := t.failReason(1 - client); why != "" {
			ex.AddGap(capture.GapUndecrypted, why)
		}
	}
}

func (t *tlsConn) tlsInfo() *capture.TLSInfo {
	in := t.dec.Info()
	ti := &capture.TLSInfo{ServerName: in.SNI, ALPN: in.ALPN}
	if in.Version != 0 {
		ti.Version = tlsdecrypt.VersionName(in.Version)
		ti.CipherSuite = tlsdecrypt.SuiteName(in.Suite)
	}
	return ti
}

// target names the server of the connection for messages: SNI and port,
// the CONNECT target inside a tunnel, else the address.
func (t *tlsConn) target() (host, target string) {
	server := t.s.c.ep[1-t.client]
	in := t.dec.Info()
	host, port := in.SNI, server.Port()
	via := ""
	if t.s.tunnelTo != "" {
		// Inside a CONNECT tunnel the peer is the proxy; name the target.
		via = " through the proxy at " + server.String()
		if h, p, err := net.SplitHostPort(t.s.tunnelTo); err == nil {
			if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
				port = uint16(n)
			}
			if host == "" {
				host = h
			}
		}
	}
	if host == "" {
		host = t.s.r.hostName(server.Addr())
	}
	target = server.String()
	if host != "" {
		target = netJoin(printableHost(host), port)
	}
	return host, target + via
}

// report counts the connection and warns about what was not decrypted.
func (t *tlsConn) report() {
	r := t.s.r
	in := t.dec.Info()
	if t.first.frame == 0 {
		return // no TLS bytes at all
	}
	decrypted := in.Decrypted[0]+in.Decrypted[1] > 0
	cf, sf := t.fail[tlsdecrypt.Client], t.fail[tlsdecrypt.Server]
	if decrypted {
		r.info.DecryptedConnections++
		for _, d := range []tlsdecrypt.Dir{tlsdecrypt.Client, tlsdecrypt.Server} {
			if t.fail[d] != nil {
				_, target := t.target()
				r.warn(t.failAt[d].frame, t.s.c.connString(), fmt.Sprintf("TLS connection to %s: %s", target, t.failReason(t.ep(d))))
			}
		}
		return
	}
	if cf == nil && sf == nil {
		if in.Alert != "" && in.Version == 0 {
			_, target := t.target()
			r.warn(t.first.frame, t.s.c.connString(), fmt.Sprintf("TLS handshake with %s at %s failed: %s alert", target, tsString(t.first.ts), in.Alert))
		}
		return
	}
	f := sf
	if f == nil || (cf != nil && cf.Kind != tlsdecrypt.FailTruncated) {
		f = cf
	}
	host, target := t.target()
	kind, reason := string(f.Kind), f.Reason
	noKeys := r.keys.Len() == 0 && f.Kind != tlsdecrypt.FailNoHandshake
	if noKeys {
		kind, reason = string(tlsdecrypt.FailNoKeys), "no TLS keys were given (--keylog FILE)"
	}
	if kind == string(tlsdecrypt.FailNoKeys) {
		r.noKeyConns++
	}
	r.info.UndecryptedConnections++
	cl, sv := t.s.c.ep[t.client], t.s.c.ep[1-t.client]
	u := capture.Undecrypted{Start: t.first.ts, End: t.last.ts, Client: cl.String(), Server: sv.String(),
		ServerName: printableHost(host), ALPN: printableHost(alpnOf(in)), Kind: kind, Reason: reason,
		Ref: capture.Ref{File: r.name, Entry: -1, Frames: []int64{t.first.frame, t.last.frame}, Conn: cl.String() + " -> " + sv.String()}}
	if len(r.info.Undecrypted) < maxUndecrypted {
		r.info.Undecrypted = append(r.info.Undecrypted, u)
	}
	what := "encrypted connection"
	if f.Kind == tlsdecrypt.FailNoHandshake {
		what = "encrypted connection (its handshake was not captured)"
	}
	if a := alpnOf(in); a != "" {
		what += " (ALPN " + printableHost(a) + ")"
	}
	r.tlsConns++
	if r.tlsConns > maxTLSWarnings {
		// Past the first connections a summary is more useful than a
		// line per connection (a browser opens hundreds).
		if len(r.tlsMore) < 10 && host != "" && !contains(r.tlsMore, printableHost(host)) {
			r.tlsMore = append(r.tlsMore, printableHost(host))
		}
		return
	}
	r.warn(t.first.frame, t.s.c.connString(), fmt.Sprintf("%s to %s at %s (frames %d-%d) not decrypted: %s", what, target, tsString(t.first.ts), t.first.frame, t.last.frame, reason))
}

// alpnOf is the negotiated protocol, else the client's first offer.
func alpnOf(in tlsdecrypt.Info) string {
	if in.ALPN != "" {
		return in.ALPN
	}
	if len(in.OfferedALPN) > 0 {
		return in.OfferedALPN[0]
	}
	return ""
}

const (
	// maxTLSWarnings is how many undecrypted connections get a warning
	// of their own; the rest are summed up in one.
	maxTLSWarnings = 20
	// maxUndecrypted bounds Info.Undecrypted (the rest are counted).
	maxUndecrypted = 10000
	// maxHeldPerConn bounds the encrypted bytes a connection keeps while
	// it waits for a Decryption Secrets Block; maxWaiting the connections
	// that may wait at once.
	maxHeldPerConn = 512 << 10
	maxWaiting     = 64
)

// wait registers a connection that holds records until secrets arrive.
func (r *reader) wait(t *tlsConn) {
	r.waiting = append(r.waiting, t)
	if len(r.waiting) > maxWaiting {
		// Too many at once: the oldest gives up (reported as having no
		// keys) so that memory stays bounded.
		old := r.waiting[0]
		r.waiting = r.waiting[1:]
		old.waiting = false
		old.dec.GiveUp()
		if old.parked {
			old.finalize(old.finWhy, old.finAt)
		}
	}
}

// park keeps a finished connection that waits for secrets until the end
// of the file; it reports whether the connection was parked.
func (r *reader) park(t *tlsConn) bool {
	return t.waiting
}

// newSecrets loads Decryption Secrets Blocks read from the file and lets
// the waiting connections try again.
func (r *reader) newSecrets() {
	for _, blk := range r.src.takeSecrets() {
		name := fmt.Sprintf("%s: Decryption Secrets Block at byte %d", r.name, blk.offset)
		if blk.typ != dsbTLSKeyLog {
			r.warn(0, "", fmt.Sprintf("%s holds secrets of type 0x%08x, not a TLS key log; skipped", name, blk.typ))
			continue
		}
		st, err := r.fileKeys.ReadBytes(blk.data, name)
		r.info.SecretsBlocks++
		switch {
		case err != nil:
			r.warn(0, "", err.Error())
		case st.Bad > 0:
			r.warn(0, "", st.String())
		}
	}
	r.retryWaiting(false)
}

// retryWaiting offers new secrets to the connections waiting for them;
// at the end of the file (final) the ones still without secrets are
// given up.
func (r *reader) retryWaiting(final bool) {
	keep := r.waiting[:0]
	for _, t := range r.waiting {
		if t.dec.Waiting() {
			t.dec.Retry()
		}
		if t.dec.Waiting() && !final {
			keep = append(keep, t)
			continue
		}
		t.waiting = false
		if t.dec.Waiting() {
			t.dec.GiveUp()
		}
		if t.parked {
			t.finalize(t.finWhy, t.finAt)
		}
	}
	for i := len(keep); i < len(r.waiting); i++ {
		r.waiting[i] = nil
	}
	r.waiting = keep
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func netJoin(host string, port uint16) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

// printableHost keeps a server name from the wire safe to print.
func printableHost(h string) string {
	if len(h) > 253 {
		h = h[:253]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, h)
}

// keysHint is the summary line telling how to get keys.
func keysHint(n, total int, given bool) string {
	what := fmt.Sprintf("%d of %d TLS connections were not decrypted for lack of keys", n, total)
	if !given {
		what = fmt.Sprintf("%d TLS connection(s) were not decrypted: no TLS keys were given", n)
	}
	return what + ". Record the session keys while capturing — SSLKEYLOGFILE=/tmp/keys.log for curl, Firefox and Chrome; NODE_OPTIONS=--tls-keylog=/tmp/keys.log for Node clients; tls.Config.KeyLogWriter in Go — then run: oauthlint analyze CAPTURE --keylog /tmp/keys.log (or embed them: editcap --inject-secrets tls,/tmp/keys.log in.pcap out.pcapng)"
}
