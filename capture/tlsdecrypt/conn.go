package tlsdecrypt

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sync"
)

// Dir is a direction of a connection: the bytes the client sent or the
// bytes the server sent.
type Dir int

const (
	Client Dir = 0
	Server Dir = 1
)

func (d Dir) String() string {
	if d == Client {
		return "client"
	}
	return "server"
}

// FailKind classifies why a direction is not decrypted.
type FailKind string

const (
	// FailNoKeys: the key log has no (usable) secrets for the connection.
	FailNoKeys FailKind = "no-keys"
	// FailNoHandshake: the capture does not hold the handshake (it
	// started mid-connection), so the connection cannot be matched to a
	// key log entry.
	FailNoHandshake FailKind = "no-handshake"
	// FailUnsupported: a protocol version or cipher suite this package
	// does not read.
	FailUnsupported FailKind = "unsupported"
	// FailAuth: a record's authentication tag or MAC did not verify:
	// wrong secrets, or damaged bytes.
	FailAuth FailKind = "auth-failed"
	// FailMalformed: bytes that are not valid TLS records or handshake
	// messages.
	FailMalformed FailKind = "malformed"
	// FailBytesMissing: the capture lost bytes of the direction.
	FailBytesMissing FailKind = "bytes-missing"
	// FailTruncated: the direction ended inside a record, or the
	// connection ended before the handshake completed.
	FailTruncated FailKind = "truncated"
)

// Failure says why and where a direction stopped being decrypted.
type Failure struct {
	Kind FailKind
	Dir  Dir
	// Offset is the stream offset (bytes of the direction) where
	// decryption stopped.
	Offset int64
	Reason string
}

func (f Failure) String() string { return fmt.Sprintf("%s: %s", f.Dir, f.Reason) }

// Info describes a connection as far as it was read.
type Info struct {
	// ClientRandom is set once the ClientHello was read.
	ClientRandom []byte
	SNI          string
	// OfferedALPN is the client's list; ALPN the protocol the server
	// chose (TLS 1.2 ServerHello, TLS 1.3 EncryptedExtensions).
	OfferedALPN []string
	ALPN        string
	Version     uint16 // 0 until the ServerHello
	Suite       uint16
	// HelloRetry: the server asked for a second ClientHello.
	HelloRetry bool
	// Resumed: a TLS 1.2 session resumed from an earlier connection.
	Resumed bool
	// EarlyData: the client sent 0-RTT data; EarlyAccepted: the server
	// took it.
	EarlyData, EarlyAccepted bool
	// KeyUpdates counts TLS 1.3 KeyUpdates per direction.
	KeyUpdates [2]int
	// Alert is the first alert read (plaintext or decrypted), e.g.
	// "fatal handshake_failure".
	Alert string
	// Decrypted counts application data bytes delivered per direction.
	Decrypted [2]int64
}

// Handler receives what a Conn decrypts. The slices passed are only
// valid during the call.
type Handler interface {
	// Data is application data of direction d, in order; [start, end) is
	// the stream range of the record it came from.
	Data(d Dir, b []byte, start, end int64)
	// Failed is called at most once per direction, when it stops being
	// decrypted.
	Failed(f Failure)
}

// KeySource finds the secrets of a connection by its client random
// (*KeyLog and Keys implement it).
type KeySource interface {
	Lookup(clientRandom []byte) *Secrets
}

// Options tune a Conn.
type Options struct {
	// WaitForKeys keeps the records of a connection whose secrets are
	// not known yet (up to MaxHeld bytes) until Retry finds them: a
	// pcapng Decryption Secrets Block may come after the connection.
	WaitForKeys bool
	// MaxHeld bounds the bytes held per connection (waiting for keys or
	// for the ServerHello); 0 means 4 MiB.
	MaxHeld int
	// Sessions, when set, remembers TLS 1.2 master secrets by session id
	// and ticket, so that resumed sessions whose client did not log them
	// again are still read.
	Sessions *SessionCache
}

// Conn decrypts one TLS connection from its two byte streams.
type Conn struct {
	keys KeySource
	h    Handler
	opts Options
	info Info

	dirs     [2]direction
	ch       *clientHello
	sh       *serverHello
	suite    *suite
	tls13    bool
	secrets  *Secrets
	master   []byte
	pending  [2]*recordKeys // TLS 1.2: keys that take effect at ChangeCipherSpec
	waiting  bool           // secrets unknown, records held (WaitForKeys)
	held     int            // bytes held over both directions
	finished bool
}

// direction is the state of one byte stream.
type direction struct {
	off       int64  // stream offset of the next byte fed
	pend      []byte // a partial record
	pendStart int64
	keys      *recordKeys // current read keys; nil while in plaintext
	// TLS 1.3 only.
	early    *recordKeys // 0-RTT keys (client), tried before keys
	app      []byte      // application traffic secret, taken at Finished
	appOn    bool        // application keys in use
	skipping bool        // no handshake secret: skip records until the application keys open one
	skipped  int
	hs       []byte     // handshake message reassembly
	earlyOut []heldData // 0-RTT plaintext waiting for the server's answer
	held     []heldRecord
	failed   bool
	scratch  []byte
}

type heldRecord struct {
	rec   []byte
	start int64
}

type heldData struct {
	b          []byte
	start, end int64
}

// maxHandshakeMsg bounds one handshake message (certificate chains are
// tens of kilobytes; a post-quantum ClientHello a few).
const maxHandshakeMsg = 1 << 20

// maxSkip bounds the records tried with application keys when the
// handshake secrets are missing.
const maxSkip = 64

// NewConn returns a decryptor for one connection. keys may be nil (the
// connection is then reported as having no keys).
func NewConn(keys KeySource, h Handler, opts Options) *Conn {
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = 4 << 20
	}
	return &Conn{keys: keys, h: h, opts: opts}
}

// Info returns what is known of the connection so far.
func (c *Conn) Info() Info { return c.info }

// Waiting reports whether the connection holds records until secrets for
// it are added (see Options.WaitForKeys and Retry).
func (c *Conn) Waiting() bool { return c.waiting }

// Held is the number of record bytes held (waiting for the ServerHello
// or for secrets).
func (c *Conn) Held() int { return c.held }

// Oldest is the stream offset of the earliest byte of direction d the
// Conn may still report a record range for (a held or partial record);
// the caller may forget where earlier bytes came from.
func (c *Conn) Oldest(d Dir) int64 {
	dd := &c.dirs[d]
	switch {
	case len(dd.held) > 0:
		return dd.held[0].start
	case len(dd.pend) > 0:
		return dd.pendStart
	}
	return dd.off
}

// GiveUp stops waiting for secrets: the connection is reported as having
// no keys.
func (c *Conn) GiveUp() {
	if c.waiting {
		c.waiting = false
		c.held = 0
		c.noKeys()
	}
}

// Failed reports whether direction d stopped being decrypted.
func (c *Conn) Failed(d Dir) bool { return c.dirs[d].failed }

// Midstream says the capture starts after the handshake: nothing can be
// decrypted (the client random is unknown).
func (c *Conn) Midstream() {
	c.failBoth(FailNoHandshake, "the capture starts after this connection's TLS handshake, so its client random is unknown and no key log entry can be matched (start the capture before the client connects)")
}

// Feed processes bytes of direction d that follow those fed before.
func (c *Conn) Feed(d Dir, b []byte) {
	dd := &c.dirs[d]
	if dd.failed || c.finished {
		dd.off += int64(len(b))
		return
	}
	if len(dd.pend) > 0 {
		// Complete the partial record first.
		need := recordHeaderLen
		if len(dd.pend) >= recordHeaderLen {
			need = recordHeaderLen + (int(dd.pend[3])<<8 | int(dd.pend[4]))
		}
		for len(b) > 0 && len(dd.pend) < need {
			k := min(need-len(dd.pend), len(b))
			dd.pend = append(dd.pend, b[:k]...)
			b = b[k:]
			dd.off += int64(k)
			if len(dd.pend) == recordHeaderLen {
				if !c.checkHeader(d, dd.pend, dd.pendStart) {
					return
				}
				need = recordHeaderLen + (int(dd.pend[3])<<8 | int(dd.pend[4]))
			}
		}
		if len(dd.pend) < need {
			return
		}
		rec := dd.pend
		dd.pend = dd.pend[:0]
		c.record(d, rec, dd.pendStart)
		if dd.failed {
			dd.off += int64(len(b))
			return
		}
	}
	for len(b) > 0 {
		start := dd.off
		if len(b) >= recordHeaderLen {
			if !c.checkHeader(d, b, start) {
				dd.off += int64(len(b))
				return
			}
			n := recordHeaderLen + (int(b[3])<<8 | int(b[4]))
			if len(b) >= n {
				dd.off += int64(n)
				c.record(d, b[:n], start)
				b = b[n:]
				if dd.failed {
					dd.off += int64(len(b))
					return
				}
				continue
			}
		}
		dd.pend = append(dd.pend[:0], b...)
		dd.pendStart = start
		dd.off += int64(len(b))
		return
	}
}

// checkHeader validates a record header; a bad one stops the direction.
func (c *Conn) checkHeader(d Dir, h []byte, at int64) bool {
	typ, n := h[0], int(h[3])<<8|int(h[4])
	switch {
	case typ < recChangeCipherSpec || typ > recHeartbeat:
		c.fail(d, FailMalformed, at, fmt.Sprintf("bytes at %s stream offset %d are not a TLS record (type byte 0x%02x)", d, at, typ))
		return false
	case h[1] != 3:
		c.fail(d, FailMalformed, at, fmt.Sprintf("bytes at %s stream offset %d are not a TLS record (version %02x %02x)", d, at, h[1], h[2]))
		return false
	case n > maxCiphertext:
		c.fail(d, FailMalformed, at, fmt.Sprintf("TLS record at %s stream offset %d claims %d bytes, more than the protocol allows (%d)", d, at, n, maxCiphertext))
		return false
	}
	return true
}

// Gap says n bytes of direction d were lost by the capture. Records
// cannot be framed past a hole, so the direction stops.
func (c *Conn) Gap(d Dir, n int) {
	dd := &c.dirs[d]
	at := dd.off
	dd.off += int64(n)
	if dd.failed || c.finished {
		return
	}
	reason := fmt.Sprintf("%d bytes of the %s's TLS stream (from offset %d) are missing from the capture; records after them cannot be framed", n, d, at)
	if c.sh == nil || c.ch == nil {
		// The handshake itself is incomplete: nothing can be read.
		c.failBoth(FailBytesMissing, "the TLS handshake is incomplete: "+reason)
		return
	}
	c.fail(d, FailBytesMissing, at, reason)
}

// End says direction d ended (FIN, RST or the end of the capture).
func (c *Conn) End(d Dir) {
	dd := &c.dirs[d]
	if dd.failed || c.finished || c.waiting {
		return
	}
	if len(dd.pend) > 0 {
		c.fail(d, FailTruncated, dd.pendStart, fmt.Sprintf("the %s's stream ended inside a TLS record (%d bytes of it at offset %d were captured)", d, len(dd.pend), dd.pendStart))
	}
}

// Retry looks the secrets up again for a connection that is waiting
// for them; it reports whether the connection can now be read.
func (c *Conn) Retry() bool {
	if !c.waiting || c.finished {
		return false
	}
	if !c.lookup() {
		return false
	}
	c.waiting = false
	c.held = 0
	c.setupKeys()
	c.replay()
	return !c.dirs[Client].failed || !c.dirs[Server].failed
}

// Finish ends the connection: held records without secrets are given
// up, and a handshake that never completed is reported.
func (c *Conn) Finish() {
	if c.finished {
		return
	}
	switch {
	case c.waiting:
		c.waiting = false
		c.noKeys()
	case c.ch == nil && (c.dirs[Client].off > 0 || c.dirs[Server].off > 0):
		c.failBoth(FailTruncated, "the connection ended before its ClientHello was complete")
	case c.sh == nil && c.ch != nil && (len(c.dirs[Client].held) > 0 || len(c.dirs[Server].held) > 0):
		c.failBoth(FailTruncated, "the connection ended before the server's ServerHello was captured; the client's early data cannot be read")
	case c.ch != nil && (c.sh == nil || c.sh.hrr) && c.info.Alert == "":
		c.failBoth(FailTruncated, "the connection ended before the server's ServerHello was captured (the server did not answer, or the capture missed it)")
	}
	if len(c.dirs[Client].earlyOut) > 0 {
		// The server's decision on 0-RTT data was never read.
		c.dirs[Client].earlyOut = nil
	}
	c.finished = true
}

func (c *Conn) fail(d Dir, kind FailKind, at int64, reason string) {
	dd := &c.dirs[d]
	if dd.failed {
		return
	}
	dd.failed = true
	dd.pend = nil
	dd.held = nil
	dd.hs = nil
	if c.h != nil {
		c.h.Failed(Failure{Kind: kind, Dir: d, Offset: at, Reason: reason})
	}
}

func (c *Conn) failBoth(kind FailKind, reason string) {
	c.fail(Client, kind, c.dirs[Client].off, reason)
	c.fail(Server, kind, c.dirs[Server].off, reason)
}

// hold keeps a record until it can be processed (before the ServerHello,
// or while waiting for secrets).
func (c *Conn) hold(d Dir, rec []byte, start int64) {
	c.held += len(rec)
	if c.held > c.opts.MaxHeld {
		if c.waiting {
			c.waiting = false
			c.noKeys()
			return
		}
		c.failBoth(FailTruncated, fmt.Sprintf("more than %d bytes of encrypted records came before the ServerHello", c.opts.MaxHeld))
		return
	}
	dd := &c.dirs[d]
	dd.held = append(dd.held, heldRecord{rec: bytes.Clone(rec), start: start})
}

// replay processes held records, the client's first (its early data
// precedes the server's flight).
func (c *Conn) replay() {
	for _, d := range []Dir{Client, Server} {
		dd := &c.dirs[d]
		held := dd.held
		dd.held = nil
		for i, h := range held {
			if dd.failed || c.waiting {
				if c.waiting {
					dd.held = append(dd.held, held[i:]...)
				}
				break
			}
			c.record(d, h.rec, h.start)
		}
	}
}

// record processes one complete record of direction d.
func (c *Conn) record(d Dir, rec []byte, start int64) {
	dd := &c.dirs[d]
	if c.waiting || (len(dd.held) > 0 && c.sh == nil) {
		c.hold(d, rec, start)
		return
	}
	hdr, payload := rec[:recordHeaderLen], rec[recordHeaderLen:]
	end := start + int64(len(rec))
	switch hdr[0] {
	case recChangeCipherSpec:
		if c.tls13 || c.sh == nil || c.sh.hrr {
			return // TLS 1.3 middlebox compatibility (RFC 8446 §D.4)
		}
		if c.pending[d] == nil {
			// Keys were not derived (no secrets): noKeys already reported.
			return
		}
		dd.keys, c.pending[d] = c.pending[d], nil
		return
	case recHeartbeat:
		return
	}
	if dd.keys == nil && dd.early == nil && !dd.skipping {
		switch hdr[0] {
		case recHandshake:
			c.handshake(d, payload, start)
		case recAlert:
			c.alert(payload)
		case recApplicationData:
			if c.sh == nil || c.sh.hrr {
				// 0-RTT data, or a capture that put the client's records
				// before the ServerHello: keep them for later.
				c.hold(d, rec, start)
				return
			}
			if c.secrets == nil && c.master == nil {
				return // noKeys was reported
			}
			c.fail(d, FailMalformed, start, fmt.Sprintf("an application data record at %s stream offset %d came before the %s's keys took effect", d, start, d))
		}
		return
	}
	pt, typ, early, ok := c.open(d, hdr, payload, start)
	if !ok {
		return
	}
	switch typ {
	case recApplicationData:
		if len(pt) == 0 {
			return
		}
		if early {
			// 0-RTT data: delivered once the server says it took it.
			dd.earlyOut = append(dd.earlyOut, heldData{b: bytes.Clone(pt), start: start, end: end})
			return
		}
		c.deliver(d, pt, start, end)
	case recHandshake:
		c.handshake(d, pt, start)
	case recAlert:
		c.alert(pt)
	case recChangeCipherSpec:
	default:
		c.fail(d, FailMalformed, start, fmt.Sprintf("decrypted record at %s stream offset %d has an unknown content type %d", d, start, typ))
	}
}

func (c *Conn) deliver(d Dir, b []byte, start, end int64) {
	c.info.Decrypted[d] += int64(len(b))
	if c.h != nil {
		c.h.Data(d, b, start, end)
	}
}

// open decrypts a record with the direction's keys, trying the next keys
// where the protocol allows a change the capture cannot show in time:
// 0-RTT data the server rejected, and application keys when the
// handshake secrets were not logged. early reports a record opened with
// the 0-RTT keys.
func (c *Conn) open(d Dir, hdr, payload []byte, start int64) (pt []byte, typ byte, early, ok bool) {
	dd := &c.dirs[d]
	if cap(dd.scratch) < len(payload) {
		dd.scratch = make([]byte, 0, max(len(payload), 4096))
	}
	if dd.early != nil {
		pt, typ, err := dd.early.open(dd.scratch, hdr, payload)
		if err == nil {
			if typ == recHandshake && len(pt) >= 4 && pt[0] == hsEndOfEarlyData {
				dd.early = nil
			}
			return pt, typ, true, true
		}
		// Not early data: the server refused 0-RTT, or it is over.
		dd.early = nil
	}
	k := dd.keys
	if k == nil {
		c.fail(d, FailNoKeys, start, "no keys for the "+d.String()+"'s encrypted records")
		return nil, 0, false, false
	}
	pt, typ, err := k.open(dd.scratch, hdr, payload)
	if err != nil && dd.skipping {
		// Still in the handshake flight the key log has no secret for.
		dd.skipped++
		if dd.skipped > maxSkip {
			c.fail(d, FailAuth, start, fmt.Sprintf("the key log has no %s handshake secret for this connection, and its application secret opens none of the first %d records (wrong key log entry?)", d, maxSkip))
		}
		return nil, 0, false, false
	}
	if err != nil {
		kind := FailMalformed
		reason := fmt.Sprintf("%s record at stream offset %d (sequence %d, %s keys): %v", d, start, k.seq, k.label, err)
		if err == errAuth {
			kind = FailAuth
			reason = fmt.Sprintf("the %s's record at stream offset %d does not authenticate with the %s keys from the key log (record %d): the key log entry belongs to another session, or the capture is damaged", d, start, k.label, k.seq)
		}
		c.fail(d, kind, start, reason)
		return nil, 0, false, false
	}
	if dd.skipping {
		dd.skipping, dd.appOn = false, true
	}
	if len(pt) > maxPlaintext+256 {
		c.fail(d, FailMalformed, start, fmt.Sprintf("decrypted %s record at stream offset %d is %d bytes, over the 16 KiB limit", d, start, len(pt)))
		return nil, 0, false, false
	}
	return pt, typ, false, true
}

func (c *Conn) alert(b []byte) {
	if len(b) < 2 || c.info.Alert != "" {
		return
	}
	level := "warning"
	if b[0] == 2 {
		level = "fatal"
	}
	c.info.Alert = level + " " + alertName(b[1])
}

// handshake reassembles handshake messages of direction d (a message may
// span records, and a record may hold several).
func (c *Conn) handshake(d Dir, b []byte, start int64) {
	dd := &c.dirs[d]
	if len(dd.hs) > 0 {
		dd.hs = append(dd.hs, b...)
		b = dd.hs
	}
	for len(b) >= 4 {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > maxHandshakeMsg {
			c.fail(d, FailMalformed, start, fmt.Sprintf("handshake message of type %d claims %d bytes", b[0], n))
			return
		}
		if len(b) < 4+n {
			break
		}
		msg := b[:4+n]
		b = b[4+n:]
		c.message(d, msg[0], msg[4:], start)
		if dd.failed {
			return
		}
	}
	// Keep the incomplete rest (append copies overlapping bytes safely).
	dd.hs = append(dd.hs[:0], b...)
}

func (c *Conn) message(d Dir, typ byte, body []byte, start int64) {
	dd := &c.dirs[d]
	switch {
	case d == Client && typ == hsClientHello:
		ch, err := parseClientHello(body)
		if err != nil {
			c.failBoth(FailMalformed, fmt.Sprintf("ClientHello at client stream offset %d: %v", start, err))
			return
		}
		renego := c.sh != nil && !c.sh.hrr
		c.ch = ch
		c.info.ClientRandom = ch.random
		c.info.SNI = ch.sni
		c.info.OfferedALPN = ch.alpn
		c.info.EarlyData = c.info.EarlyData || ch.earlyData
		if renego {
			// TLS 1.2 renegotiation: new keys at the next ChangeCipherSpec.
			c.sh = nil
		}
	case d == Server && typ == hsServerHello:
		sh, err := parseServerHello(body)
		if err != nil {
			c.failBoth(FailMalformed, fmt.Sprintf("ServerHello at server stream offset %d: %v", start, err))
			return
		}
		if c.ch == nil {
			c.failBoth(FailNoHandshake, "the capture holds the ServerHello but not the ClientHello of this connection, so its client random is unknown")
			return
		}
		c.sh = sh
		if sh.hrr {
			c.info.HelloRetry = true
			return
		}
		c.serverHello()
	case d == Server && typ == hsEncryptedExtension && c.tls13:
		ee, err := parseEncryptedExtensions(body)
		if err != nil {
			c.fail(d, FailMalformed, start, err.Error())
			return
		}
		c.info.ALPN = ee.alpn
		c.info.EarlyAccepted = ee.earlyData
		c.earlyDecision(ee.earlyData)
	case typ == hsFinished && c.tls13 && !dd.appOn:
		// The sender's next records use its application secret
		// (RFC 8446 §7.1).
		if d == Server {
			// A client that sent 0-RTT data has its answer by now.
			c.earlyDecision(c.info.EarlyAccepted)
		}
		if dd.app == nil {
			c.fail(d, FailNoKeys, start, fmt.Sprintf("the key log has the %s handshake secret but no %s_TRAFFIC_SECRET_0 for this connection (partial key log)", d, upper(d)))
			return
		}
		k, err := newKeys13(c.suite, dd.app, "application")
		if err != nil {
			c.fail(d, FailNoKeys, start, err.Error())
			return
		}
		dd.keys, dd.appOn, dd.early = k, true, nil
	case typ == hsEndOfEarlyData && d == Client:
		dd.early = nil
	case typ == hsKeyUpdate && c.tls13 && dd.appOn:
		k, err := dd.keys.update()
		if err != nil {
			c.fail(d, FailMalformed, start, err.Error())
			return
		}
		dd.keys = k
		c.info.KeyUpdates[d]++
	case typ == hsNewSessionTicket && !c.tls13 && d == Server && c.master != nil && c.opts.Sessions != nil:
		if t := parseNewSessionTicket12(body); len(t) > 0 {
			c.opts.Sessions.putTicket(t, c.master)
		}
	}
}

func upper(d Dir) string {
	if d == Client {
		return "CLIENT"
	}
	return "SERVER"
}

// earlyDecision releases or drops the client's 0-RTT data once the
// server's EncryptedExtensions said whether it was accepted.
func (c *Conn) earlyDecision(accepted bool) {
	dd := &c.dirs[Client]
	out := dd.earlyOut
	dd.earlyOut = nil
	if !accepted {
		return // the server ignored it; the client sends it again
	}
	for _, e := range out {
		c.deliver(Client, e.b, e.start, e.end)
	}
}

// serverHello sets up the connection once the ServerHello is read.
func (c *Conn) serverHello() {
	sh := c.sh
	c.info.Version = sh.version
	c.info.Suite = sh.suite
	switch sh.version {
	case 0x0304:
		c.tls13 = true
	case 0x0303:
	default:
		c.failBoth(FailUnsupported, fmt.Sprintf("the connection uses %s, which oauthlint does not decrypt (TLS 1.2 and 1.3 only)", VersionName(sh.version)))
		return
	}
	if sh.alpn != "" {
		c.info.ALPN = sh.alpn
	}
	s := suites[sh.suite]
	if s == nil || s.tls13 != c.tls13 {
		c.failBoth(FailUnsupported, fmt.Sprintf("cipher suite %s (%s) is not one oauthlint decrypts", SuiteName(sh.suite), VersionName(sh.version)))
		return
	}
	c.suite = s
	if !c.lookup() {
		if c.opts.WaitForKeys {
			c.waiting = true
			return
		}
		c.noKeys()
		return
	}
	c.setupKeys()
	c.replay()
}

// lookup finds the connection's secrets: TLS 1.3 traffic secrets, or a
// TLS 1.2 master secret by client random, session id or ticket.
func (c *Conn) lookup() bool {
	var s *Secrets
	if c.keys != nil {
		s = c.keys.Lookup(c.ch.random)
	}
	if c.tls13 {
		if s == nil || (s.ServerHandshake == nil && s.ServerTraffic == nil && s.ClientHandshake == nil && s.ClientTraffic == nil) {
			return false
		}
		c.secrets = s
		return true
	}
	if s != nil && len(s.Master) == 48 {
		c.master = s.Master
		return true
	}
	if sc := c.opts.Sessions; sc != nil {
		if len(c.sh.sessionID) > 0 && bytes.Equal(c.sh.sessionID, c.ch.sessionID) {
			if m := sc.session(c.sh.sessionID); m != nil {
				c.master = m
				c.info.Resumed = true
				return true
			}
		}
		if len(c.ch.ticket) > 0 {
			if m := sc.ticket(c.ch.ticket); m != nil {
				c.master = m
				c.info.Resumed = true
				return true
			}
		}
	}
	return false
}

func (c *Conn) noKeys() {
	what := "CLIENT_RANDOM (TLS 1.2)"
	if c.tls13 {
		what = "TLS 1.3 traffic secrets"
	}
	cr := "unknown"
	if c.ch != nil {
		cr = hex.EncodeToString(c.ch.random)
	}
	c.failBoth(FailNoKeys, fmt.Sprintf("no %s for client random %s in the key log", what, cr))
}

func (c *Conn) setupKeys() {
	if c.tls13 {
		s := c.secrets
		for _, d := range []Dir{Client, Server} {
			dd := &c.dirs[d]
			hs, app := s.ClientHandshake, s.ClientTraffic
			if d == Server {
				hs, app = s.ServerHandshake, s.ServerTraffic
			}
			dd.app = app
			switch {
			case hs != nil:
				k, err := newKeys13(c.suite, hs, "handshake")
				if err != nil {
					c.fail(d, FailNoKeys, dd.off, err.Error())
					continue
				}
				dd.keys = k
			case app != nil:
				k, err := newKeys13(c.suite, app, "application")
				if err != nil {
					c.fail(d, FailNoKeys, dd.off, err.Error())
					continue
				}
				dd.keys, dd.skipping = k, true
			default:
				c.fail(d, FailNoKeys, dd.off, fmt.Sprintf("the key log has no %s secrets for client random %s (partial key log)", d, hex.EncodeToString(c.ch.random)))
			}
		}
		if c.info.EarlyData && s.ClientEarly != nil {
			if k, err := newKeys13(c.suite, s.ClientEarly, "early"); err == nil {
				c.dirs[Client].early = k
			}
		}
		return
	}
	kb := deriveKeyBlock12(c.suite, c.master, c.ch.random, c.sh.random)
	etm := c.ch.etm && c.sh.etm && c.suite.kind == kindCBC
	ck, err1 := newKeys12(c.suite, kb.clientKey, kb.clientIV, kb.clientMAC, etm)
	sk, err2 := newKeys12(c.suite, kb.serverKey, kb.serverIV, kb.serverMAC, etm)
	if err1 != nil || err2 != nil {
		c.failBoth(FailUnsupported, fmt.Sprintf("cannot build %s keys: %v %v", c.suite.name, err1, err2))
		return
	}
	c.pending = [2]*recordKeys{ck, sk}
	if sc := c.opts.Sessions; sc != nil && len(c.sh.sessionID) > 0 {
		sc.putSession(c.sh.sessionID, c.master)
	}
}

// SessionCache remembers TLS 1.2 master secrets by session id and
// ticket, so that a resumed session is read with the secret of the
// connection that created it.
type SessionCache struct {
	mu       sync.Mutex
	sessions map[string][]byte
	tickets  map[string][]byte
}

// maxSessions bounds the cache; past it the cache is cleared (resumption
// across that many sessions is rare).
const maxSessions = 1 << 16

// NewSessionCache returns an empty cache.
func NewSessionCache() *SessionCache {
	return &SessionCache{sessions: map[string][]byte{}, tickets: map[string][]byte{}}
}

func (s *SessionCache) putSession(id, master []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) > maxSessions {
		s.sessions = map[string][]byte{}
	}
	s.sessions[string(id)] = master
}

func (s *SessionCache) putTicket(t, master []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tickets) > maxSessions {
		s.tickets = map[string][]byte{}
	}
	s.tickets[string(t)] = master
}

func (s *SessionCache) session(id []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[string(id)]
}

func (s *SessionCache) ticket(t []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tickets[string(t)]
}

// alertName names a TLS alert description (RFC 8446 §6).
func alertName(d byte) string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 22:
		return "record_overflow"
	case 40:
		return "handshake_failure"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 100:
		return "no_renegotiation"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 112:
		return "unrecognized_name"
	case 116:
		return "certificate_required"
	case 120:
		return "no_application_protocol"
	}
	return fmt.Sprintf("alert %d", d)
}
