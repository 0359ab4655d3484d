package pcap

import (
	"net/netip"
	"sort"
	"time"
)

// TCP reassembly.
//
// Each connection has two halves (the bytes each endpoint sent). A half
// delivers its bytes in sequence order to the connection's handler:
// retransmitted and overlapping bytes are trimmed, segments that arrive
// ahead of a hole wait (copied) until the hole is filled. A hole becomes a
// gap — the handler is told how many bytes are missing and reassembly
// resumes after it — when the capture proves the bytes will not come:
//
//   - the peer acknowledged bytes past the hole several times (the bytes
//     reached the peer, the capture dropped them);
//   - the packet was cut by the snap length (the rest is known missing);
//   - the half ended (FIN, RST) or the connection was finished (end of
//     file, idle, port reuse) with data still waiting;
//   - the waiting bytes exceed the per-connection or global buffer cap.
//
// The connections tracked at one time are capped (maxOpen, from
// Options.MaxOpenConnections): when a new one would exceed the cap, the
// least recently active connection is finished early (endEvicted) — what
// it holds is flushed and parsed, and its unfinished exchanges say why —
// and forgotten, so that a later packet of it starts a connection
// captured mid-stream. Finished connections kept to recognise late
// retransmissions (tombstones) are capped at the same number, so memory
// stays bounded whatever the capture holds.
//
// Segment boundaries are kept: every delivery carries the frame number and
// timestamp of the packet it came from, so messages get exact frame ranges.

const (
	// holeAckThreshold is how many peer ACKs beyond a hole prove the bytes
	// were lost by the capture (like TCP's duplicate-ACK threshold, it
	// tolerates a capture that reorders a data packet behind its ACK).
	holeAckThreshold = 3
	// maxHalfBuffered caps the out-of-order bytes one direction may hold.
	maxHalfBuffered = 4 << 20
	// maxTotalBuffered caps out-of-order bytes over all connections.
	maxTotalBuffered = 64 << 20
	// maxHalfSegments caps the out-of-order segments one direction may
	// hold (each insertion costs up to this many moves).
	maxHalfSegments = 4096
	// tombstoneTTL keeps finished connections around (capture time) so late
	// retransmissions are recognised instead of starting a new connection.
	tombstoneTTL = 2 * time.Minute
	// idleTimeout finishes connections silent for this long (capture time)
	// so their memory is released; it is long because keep-alive
	// connections legitimately idle for minutes.
	idleTimeout = 30 * time.Minute
	// sweepEvery is how many packets pass between table sweeps.
	sweepEvery = 1 << 16
	// DefaultMaxOpenConnections caps the TCP connections tracked at one
	// time when Options.MaxOpenConnections is 0. A connection costs a few
	// KB while open (its parser state, heads and bodies under way), so the
	// cap bounds that memory to a few hundred MB at worst.
	DefaultMaxOpenConnections = 1 << 16
)

type halfState uint8

const (
	halfNew halfState = iota
	halfOpen
	halfClosed
)

// endReason says why a direction or connection ended.
type endReason uint8

const (
	endFIN endReason = iota
	endRST
	endEOF   // the capture ended
	endIdle  // idle timeout
	endReuse // the 4-tuple was reused by a new connection
	// endUndecryptable: the direction's TLS records cannot be decrypted
	// from here on (the handler beneath TLS sees its plaintext end).
	endUndecryptable
	// endEvicted: the connection was finished early to make room for a
	// new one (too many connections open at once).
	endEvicted
)

func (r endReason) String() string {
	switch r {
	case endFIN:
		return "closed"
	case endRST:
		return "reset"
	case endEOF:
		return "capture ended"
	case endIdle:
		return "idle"
	case endReuse:
		return "port reused"
	case endUndecryptable:
		return "no longer decryptable"
	case endEvicted:
		return "finished early (too many connections open)"
	}
	return "ended"
}

// pktRef is where bytes came from: the packet that completed them and,
// for bytes decrypted from a TLS record that spans packets, the packet
// where the record began (bframe, bts; zero when the same).
type pktRef struct {
	frame  int64
	ts     time.Time
	bframe int64
	bts    time.Time
	// late: the peer had acknowledged the packet's first byte before the
	// packet was captured (a retransmission, or reordering in the
	// capture): its frame number says nothing of when it was sent.
	// ahead: the packet acknowledged bytes of the other direction that
	// had not been delivered when it was captured (they come later in
	// the capture, or were lost by it). Both are set for TCP payload
	// only, not for TLS plaintext.
	late, ahead bool
}

// begin is where the bytes began arriving.
func (p pktRef) begin() pktRef {
	if p.bframe == 0 {
		return p
	}
	return pktRef{frame: p.bframe, ts: p.bts}
}

type oooSeg struct {
	seq     uint32
	data    []byte
	fin     bool
	missing int // bytes cut by the snap length after data
	at      pktRef
}

type tcpHalf struct {
	state     halfState
	synSeen   bool
	midstream bool // the first bytes seen were not after a SYN
	isn       uint32
	nextSeq   uint32
	ooo       []oooSeg // sorted by seq
	buffered  int
	holeAcks  int
	finSeen   bool
	finSeq    uint32
	// peerAck is the highest acknowledgement the peer sent for this
	// direction: bytes below it were sent, whether captured or not.
	peerAck    uint32
	peerAckSet bool
}

// connHandler consumes a connection's reassembled byte streams. dir is the
// index of the sending endpoint (tcpConn.ep).
type connHandler interface {
	data(dir int, b []byte, at pktRef)
	// gap: n bytes of direction dir were lost; at is the packet after them.
	gap(dir int, n int, at pktRef)
	// end: direction dir ended (FIN, RST).
	end(dir int, why endReason, at pktRef)
	// finish: the connection is over; flush everything.
	finish(why endReason, at pktRef)
}

type connKey struct{ lo, hi netip.AddrPort }

func makeKey(a, b netip.AddrPort) connKey {
	if a.Compare(b) < 0 {
		return connKey{a, b}
	}
	return connKey{b, a}
}

type tcpConn struct {
	key  connKey
	ep   [2]netip.AddrPort // ep[0] sent the first packet seen
	half [2]tcpHalf
	// client is the index of the client endpoint, -1 while unknown.
	client int
	h      connHandler
	lastTS time.Time
	// lastFrame is the frame of the connection's latest packet (with
	// lastTS, where it ends when finished early).
	lastFrame int64
	first     pktRef
	done      bool // finished: a tombstone until swept
	// finishing is set while the connection is being flushed.
	finishing bool
	doneAt    time.Time
	lastSeq   [2]uint32 // nextSeq at finish, to recognise late retransmissions
	// prev and next link the connection in tcpTable.active while open,
	// in tcpTable.tombs once finished; list says which (nil: neither).
	prev, next *tcpConn
	list       *connList
}

// last is the connection's latest packet.
func (c *tcpConn) last() pktRef { return pktRef{frame: c.lastFrame, ts: c.lastTS} }

// connList is an intrusive doubly linked list of connections, oldest
// first.
type connList struct {
	head, tail *tcpConn
	n          int
}

func (l *connList) pushBack(c *tcpConn) {
	c.list, c.prev, c.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

func (l *connList) remove(c *tcpConn) {
	if c.list != l {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.list, c.prev, c.next = nil, nil, nil
	l.n--
}

// touch moves c, which is in l, to the back (the most recent end).
func (l *connList) touch(c *tcpConn) {
	if l.tail == c {
		return
	}
	l.remove(c)
	l.pushBack(c)
}

func (c *tcpConn) dirOf(src netip.AddrPort) int {
	if src == c.ep[0] {
		return 0
	}
	return 1
}

// connString renders "client -> server" (first sender first while unknown).
func (c *tcpConn) connString() string {
	cl := c.client
	if cl < 0 {
		cl = 0
	}
	return c.ep[cl].String() + " -> " + c.ep[1-cl].String()
}

// tcpTable tracks every connection of the capture.
type tcpTable struct {
	conns    map[connKey]*tcpConn
	newConn  func(c *tcpConn) connHandler
	buffered int // out-of-order bytes held over all connections
	packets  int
	now      time.Time // latest capture timestamp seen
	nConns   int
	stats    tcpStats
	// active lists the open connections, least recently active first;
	// tombs the finished ones still in conns, oldest first. maxOpen caps
	// each.
	active  connList
	tombs   connList
	maxOpen int
}

type tcpStats struct {
	retransmitted int64 // segments entirely already delivered
	outOfOrder    int64 // segments that had to wait
	gaps          int64
	gapBytes      int64
	forcedGaps    int64 // gaps declared because a buffer cap was hit
	reused        int64
	evicted       int64 // connections finished early by the cap
	firstEvict    int64 // frame of the packet that caused the first
}

func newTCPTable(newConn func(c *tcpConn) connHandler) *tcpTable {
	return &tcpTable{conns: map[connKey]*tcpConn{}, newConn: newConn, maxOpen: DefaultMaxOpenConnections}
}

// packet processes one TCP segment.
func (t *tcpTable) packet(s *segment, at pktRef) {
	if at.ts.After(t.now) {
		t.now = at.ts
	}
	t.packets++
	if t.packets%sweepEvery == 0 {
		t.sweep()
	}
	key := makeKey(s.src, s.dst)
	c := t.conns[key]
	if c != nil && c.done {
		if !t.startsNew(c, s) {
			return // late packet of a finished connection
		}
		t.forget(c)
		c = nil
	}
	if c == nil {
		if !s.syn && len(s.payload) == 0 && s.missing == 0 {
			// A bare ACK/FIN/RST of a connection we know nothing about
			// carries no bytes: no state for it.
			return
		}
		c = t.open(key, s, at)
	}
	c.lastTS, c.lastFrame = at.ts, at.frame
	t.active.touch(c)
	d := c.dirOf(s.src)
	h := &c.half[d]

	if s.syn {
		switch {
		case h.state == halfNew:
			h.synSeen = true
			h.isn = s.seq
			h.nextSeq = s.seq + 1
			h.state = halfOpen
			if c.client < 0 {
				if s.ackFlag {
					c.client = 1 - d
				} else {
					c.client = d
				}
			}
		case h.synSeen && s.seq == h.isn:
			// A retransmitted SYN.
		case !h.synSeen && h.midstream && s.seq+1 == h.nextSeq:
			// The capture put this direction's SYN behind its first data.
			h.synSeen, h.isn, h.midstream = true, s.seq, false
		default:
			// A SYN with another initial sequence number on a tuple still
			// in use: the port was reused without the old connection
			// being closed in the capture.
			t.stats.reused++
			t.finish(c, endReuse, at)
			t.forget(c)
			t.packet(s, at)
			return
		}
	}
	if s.ackFlag {
		t.ackEvidence(c, 1-d, s.ack, at)
		if c.done {
			return
		}
	}
	if s.rst {
		t.reset(c, d, at)
		return
	}
	if len(s.payload) == 0 && !s.fin && s.missing == 0 {
		return
	}
	seq := s.seq
	if s.syn {
		seq++ // data on a SYN (TCP Fast Open) follows the SYN's number
	}
	if len(s.payload) > 0 {
		at.late = h.state == halfOpen && h.peerAckSet && int32(h.peerAck-seq) > 0
		o := &c.half[1-d]
		at.ahead = s.ackFlag && o.state == halfOpen && int32(s.ack-o.nextSeq) > 0 && int32(s.ack-o.nextSeq) < 1<<30 &&
			!(o.finSeen && s.ack == o.finSeq+1 && o.nextSeq == o.finSeq)
	}
	switch h.state {
	case halfNew:
		// The capture started after this direction's SYN.
		h.state = halfOpen
		h.midstream = true
		h.nextSeq = seq
	case halfClosed:
		return // retransmission after the FIN was delivered
	}
	diff := int32(seq - h.nextSeq)
	if diff > 0 {
		t.queue(c, d, seq, s, at)
		return
	}
	t.deliverSeg(c, d, seq, s.payload, s.fin, s.missing, at)
	t.drain(c, d)
}

// startsNew reports whether a packet on a finished connection's tuple
// begins a new connection rather than being a late retransmission.
func (t *tcpTable) startsNew(c *tcpConn, s *segment) bool {
	d := c.dirOf(s.src)
	h := &c.half[d]
	if s.syn {
		return !(h.synSeen && s.seq == h.isn)
	}
	if len(s.payload) == 0 {
		return false
	}
	// Data far from where the old connection stopped: a reused port whose
	// SYN the capture missed.
	diff := int32(s.seq - c.lastSeq[d])
	return diff > 1<<24 || diff < -(1<<24)
}

func (t *tcpTable) open(key connKey, s *segment, at pktRef) *tcpConn {
	if t.maxOpen > 0 && t.active.n >= t.maxOpen {
		t.evict(at)
	}
	c := &tcpConn{key: key, ep: [2]netip.AddrPort{s.src, s.dst}, client: -1, first: at, lastTS: at.ts, lastFrame: at.frame}
	t.nConns++
	c.h = t.newConn(c)
	t.conns[key] = c
	t.active.pushBack(c)
	return c
}

// evict finishes the least recently active connection early to make room
// for a new one (at is the packet that opens it). The connection ends
// where its own packets end; it leaves no tombstone, so a later packet of
// it starts a connection captured mid-stream.
func (t *tcpTable) evict(at pktRef) {
	c := t.active.head
	if c == nil {
		return
	}
	if t.stats.evicted == 0 {
		t.stats.firstEvict = at.frame
	}
	t.stats.evicted++
	t.finish(c, endEvicted, c.last())
	t.forget(c)
}

// forget drops a connection from the table (and from its list).
func (t *tcpTable) forget(c *tcpConn) {
	if t.conns[c.key] == c {
		delete(t.conns, c.key)
	}
	if c.list != nil {
		c.list.remove(c)
	}
}

// deliverSeg hands an in-order (or overlapping) segment to the handler.
func (t *tcpTable) deliverSeg(c *tcpConn, d int, seq uint32, payload []byte, fin bool, missing int, at pktRef) {
	h := &c.half[d]
	skip := int(int32(h.nextSeq - seq))
	if skip < 0 {
		skip = 0
	}
	end := seq + uint32(len(payload)) + uint32(missing)
	if skip < len(payload) {
		c.h.data(d, payload[skip:], at)
		h.nextSeq = seq + uint32(len(payload))
		h.holeAcks = 0
	} else if len(payload) > 0 && skip >= len(payload)+missing {
		t.stats.retransmitted++
	}
	if missing > 0 && int32(end-h.nextSeq) > 0 {
		n := int(int32(end - h.nextSeq))
		t.stats.gaps++
		t.stats.gapBytes += int64(n)
		h.nextSeq = end
		c.h.gap(d, n, at)
	}
	if fin {
		h.finSeen = true
		h.finSeq = end
	}
	if h.finSeen && h.nextSeq == h.finSeq && h.state == halfOpen {
		t.closeHalf(c, d, endFIN, at)
	}
}

// queue keeps a segment that arrived ahead of a hole.
func (t *tcpTable) queue(c *tcpConn, d int, seq uint32, s *segment, at pktRef) {
	h := &c.half[d]
	t.stats.outOfOrder++
	i := sort.Search(len(h.ooo), func(i int) bool { return int32(h.ooo[i].seq-seq) >= 0 })
	if i < len(h.ooo) && h.ooo[i].seq == seq && len(h.ooo[i].data) >= len(s.payload) {
		// Retransmission of a segment already waiting.
		if s.fin {
			h.ooo[i].fin = true
		}
		t.stats.retransmitted++
		return
	}
	seg := oooSeg{seq: seq, data: append([]byte(nil), s.payload...), fin: s.fin, missing: s.missing, at: at}
	if i < len(h.ooo) && h.ooo[i].seq == seq {
		t.buffered -= len(h.ooo[i].data)
		h.buffered -= len(h.ooo[i].data)
		h.ooo[i] = seg
	} else {
		h.ooo = append(h.ooo, oooSeg{})
		copy(h.ooo[i+1:], h.ooo[i:])
		h.ooo[i] = seg
	}
	h.buffered += len(seg.data)
	t.buffered += len(seg.data)
	if h.buffered > maxHalfBuffered || t.buffered > maxTotalBuffered || len(h.ooo) > maxHalfSegments {
		t.stats.forcedGaps++
		t.skipHole(c, d)
	}
}

// drain delivers waiting segments that became contiguous.
func (t *tcpTable) drain(c *tcpConn, d int) {
	h := &c.half[d]
	for len(h.ooo) > 0 && h.state == halfOpen && int32(h.ooo[0].seq-h.nextSeq) <= 0 {
		s := h.ooo[0]
		h.ooo[0] = oooSeg{}
		h.ooo = h.ooo[1:]
		h.buffered -= len(s.data)
		t.buffered -= len(s.data)
		t.deliverSeg(c, d, s.seq, s.data, s.fin, s.missing, s.at)
	}
	if len(h.ooo) == 0 {
		h.ooo = nil
	}
}

// skipHole declares the hole before the first waiting segment a gap and
// resumes delivery after it.
func (t *tcpTable) skipHole(c *tcpConn, d int) {
	h := &c.half[d]
	if len(h.ooo) == 0 || h.state != halfOpen {
		return
	}
	n := int(int32(h.ooo[0].seq - h.nextSeq))
	if n > 0 {
		t.stats.gaps++
		t.stats.gapBytes += int64(n)
		h.nextSeq = h.ooo[0].seq
		h.holeAcks = 0
		c.h.gap(d, n, h.ooo[0].at)
	}
	t.drain(c, d)
}

// ackEvidence: the endpoint opposite to half d acknowledged ack. Bytes of
// d acknowledged but never seen were lost by the capture.
func (t *tcpTable) ackEvidence(c *tcpConn, d int, ack uint32, at pktRef) {
	h := &c.half[d]
	if h.state != halfOpen {
		return
	}
	if !h.peerAckSet || int32(ack-h.peerAck) > 0 {
		h.peerAck, h.peerAckSet = ack, true
	}
	ahead := int32(ack - h.nextSeq)
	if ahead <= 0 || ahead > 1<<30 {
		return
	}
	if h.finSeen && ack == h.finSeq+1 && h.nextSeq == h.finSeq {
		return // the ACK of our FIN
	}
	h.holeAcks++
	if h.holeAcks < holeAckThreshold {
		return
	}
	if len(h.ooo) > 0 && int32(h.ooo[0].seq-ack) <= 0 {
		t.skipHole(c, d)
		return
	}
	// Nothing captured after the hole yet: skip up to what the peer has.
	n := int(ahead)
	if h.finSeen && int32(ack-h.finSeq) > 0 {
		n = int(int32(h.finSeq - h.nextSeq))
	}
	if n <= 0 {
		return
	}
	t.stats.gaps++
	t.stats.gapBytes += int64(n)
	h.nextSeq += uint32(n)
	h.holeAcks = 0
	c.h.gap(d, n, at)
	t.drain(c, d)
	if h.finSeen && h.nextSeq == h.finSeq && h.state == halfOpen {
		t.closeHalf(c, d, endFIN, at)
	}
}

func (t *tcpTable) closeHalf(c *tcpConn, d int, why endReason, at pktRef) {
	h := &c.half[d]
	if h.state == halfClosed {
		return
	}
	h.state = halfClosed
	t.release(h)
	c.h.end(d, why, at)
	if c.half[1-d].state == halfClosed {
		t.finish(c, why, at)
	}
}

// flushHalf delivers what a direction still holds when it ends without a
// FIN: waiting segments after their holes, and a gap for bytes the peer
// acknowledged but the capture never saw.
func (t *tcpTable) flushHalf(c *tcpConn, d int, at pktRef) {
	h := &c.half[d]
	for h.state == halfOpen && len(h.ooo) > 0 {
		t.skipHole(c, d)
	}
	if h.state != halfOpen || !h.peerAckSet {
		return
	}
	end := h.peerAck
	if h.finSeen && int32(end-h.finSeq) > 0 {
		end = h.finSeq
	}
	if n := int32(end - h.nextSeq); n > 0 && n < 1<<30 {
		t.stats.gaps++
		t.stats.gapBytes += int64(n)
		h.nextSeq = end
		c.h.gap(d, int(n), at)
	}
}

// reset handles an RST from direction d: both directions are over.
func (t *tcpTable) reset(c *tcpConn, d int, at pktRef) {
	if c.done || c.finishing {
		return
	}
	c.finishing = true
	for _, x := range []int{d, 1 - d} {
		h := &c.half[x]
		t.flushHalf(c, x, at)
		if h.state != halfClosed {
			h.state = halfClosed
			t.release(h)
			c.h.end(x, endRST, at)
		}
	}
	t.finalize(c, endRST, at)
}

func (t *tcpTable) release(h *tcpHalf) {
	t.buffered -= h.buffered
	h.buffered = 0
	h.ooo = nil
}

// finish flushes a connection and turns it into a tombstone. Flushing
// can complete a direction (a FIN behind a hole) and so call finish again:
// the finishing flag makes that inner call a no-op.
func (t *tcpTable) finish(c *tcpConn, why endReason, at pktRef) {
	if c.done || c.finishing {
		return
	}
	c.finishing = true
	t.finalize(c, why, at)
}

func (t *tcpTable) finalize(c *tcpConn, why endReason, at pktRef) {
	for d := range c.half {
		h := &c.half[d]
		t.flushHalf(c, d, at)
		c.lastSeq[d] = h.nextSeq
		t.release(h)
	}
	c.done = true
	c.doneAt = at.ts
	t.active.remove(c)
	if why != endEvicted && why != endReuse && why != endIdle {
		// A tombstone (evicted, replaced and idle connections are
		// forgotten right away by the caller).
		t.tombs.pushBack(c)
		if t.maxOpen > 0 && t.tombs.n > t.maxOpen {
			t.forget(t.tombs.head)
		}
	}
	c.h.finish(why, at)
	c.h = nil
}

// sweep drops old tombstones and finishes idle connections (where their
// last packet was).
func (t *tcpTable) sweep() {
	for _, c := range t.conns {
		switch {
		case c.done && t.now.Sub(c.doneAt) > tombstoneTTL:
			t.forget(c)
		case !c.done && t.now.Sub(c.lastTS) > idleTimeout:
			t.finish(c, endIdle, c.last())
			t.forget(c)
		}
	}
}

// finishAll ends every connection at the end of the capture, in the
// order the connections started so the output does not depend on map
// iteration order.
func (t *tcpTable) finishAll(at pktRef) {
	open := make([]*tcpConn, 0, len(t.conns))
	for _, c := range t.conns {
		if !c.done {
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].first.frame < open[j].first.frame })
	for _, c := range open {
		t.finish(c, endEOF, at)
	}
	t.conns = map[connKey]*tcpConn{}
	t.active, t.tombs = connList{}, connList{}
}

// open reports how many connections are being tracked (not tombstones).
func (t *tcpTable) openConns() int {
	n := 0
	for _, c := range t.conns {
		if !c.done {
			n++
		}
	}
	return n
}
