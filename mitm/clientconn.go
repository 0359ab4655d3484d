package mitm

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Noticing that a MITM client hung up.
//
// net/http cancels a plain proxied request's context when its client
// hangs up, which ends the upstream call. MITM connections are hijacked
// and goproxy reads their requests itself, with a context that nothing
// cancels, and it does not read from the client while it waits for the
// upstream or streams its response: a client that gives up goes unnoticed
// until the upstream answers, possibly never. So every accepted connection
// is a clientConn; once a MITM exchange on it has gone on for a while
// (Options.watchAfter: most end sooner, and watching has a cost), a
// goroutine reads ahead from the client into a small buffer (the
// connection's own reads are served from that buffer from then on), and
// when that read fails, the client is gone and the exchanges in flight on
// it are ended.

// maxReadAhead bounds what is read from a client ahead of the proxy (a
// pipelined request, the TLS close_notify that precedes a hang-up).
const maxReadAhead = 64 << 10

// clientListener wraps each accepted connection in a clientConn.
type clientListener struct{ net.Listener }

func (l clientListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newClientConn(c), nil
}

type clientConnKey struct{}

// clientConnOf returns the clientConn a request arrived on (nil when the
// proxy is served some other way than Serve).
func clientConnOf(ctx context.Context) *clientConn {
	c, _ := ctx.Value(clientConnKey{}).(*clientConn)
	return c
}

// clientConn is an accepted client connection. Until watch, it is the
// connection itself; after, a goroutine owns the reads from it.
type clientConn struct {
	net.Conn
	mu       sync.Mutex
	cond     sync.Cond // on mu: buf, err, closed, direct or deadline changed
	watching bool
	direct   int    // reads of the connection itself in progress
	buf      []byte // read ahead: buf[off:] is not consumed yet
	off      int
	err      error // what ended the read-ahead
	closed   bool
	deadline time.Time // read deadline (emulated once watching)
	timer    *time.Timer
	gone     map[*func()]struct{} // called once when the client is gone
}

func newClientConn(c net.Conn) *clientConn {
	cc := &clientConn{Conn: c, gone: map[*func()]struct{}{}}
	cc.cond.L = &cc.mu
	return cc
}

// watch starts reading ahead. It may come while the connection is being
// read (a request body still arriving): the read-ahead starts once those
// reads are over, so that no bytes are delivered out of order.
func (c *clientConn) watch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watching || c.closed {
		return
	}
	c.watching = true
	go c.readAhead()
}

// onGone arranges for f to run once when the client hangs up or the
// connection is closed, or at once if that already happened; f must not
// block. The returned func cancels it.
func (c *clientConn) onGone(f func()) (stop func()) {
	c.mu.Lock()
	if c.err != nil || c.closed {
		c.mu.Unlock()
		f()
		return func() {}
	}
	key := &f
	c.gone[key] = struct{}{}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.gone, key)
		c.mu.Unlock()
	}
}

// takeGone empties the gone set; mu must be held.
func (c *clientConn) takeGone() []func() {
	fns := make([]func(), 0, len(c.gone))
	for k := range c.gone {
		fns = append(fns, *k)
	}
	clear(c.gone)
	return fns
}

func (c *clientConn) readAhead() {
	c.mu.Lock()
	for c.direct > 0 && !c.closed {
		c.cond.Wait()
	}
	// The read-ahead is the connection's only reader from here: its read
	// deadline is emulated (Read, SetReadDeadline), not the connection's.
	c.Conn.SetReadDeadline(time.Time{})
	c.armDeadline()
	c.mu.Unlock()
	b := make([]byte, 16<<10)
	for {
		c.mu.Lock()
		for len(c.buf)-c.off >= maxReadAhead && !c.closed {
			c.cond.Wait()
		}
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		n, err := c.Conn.Read(b)
		c.mu.Lock()
		if c.off > 0 && len(c.buf)+n > cap(c.buf) {
			// Move the unread bytes to the front rather than grow.
			c.buf = c.buf[:copy(c.buf, c.buf[c.off:])]
			c.off = 0
		}
		c.buf = append(c.buf, b[:n]...)
		var fns []func()
		if err != nil {
			c.err = err
			fns = c.takeGone()
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		for _, f := range fns {
			f()
		}
		if err != nil {
			return
		}
	}
}

func (c *clientConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if !c.watching {
		c.direct++
		c.mu.Unlock()
		n, err := c.Conn.Read(p)
		c.mu.Lock()
		if c.direct--; c.direct == 0 && c.watching {
			c.cond.Broadcast() // the read-ahead may start
		}
		c.mu.Unlock()
		return n, err
	}
	defer c.mu.Unlock()
	for len(c.buf) == c.off && c.err == nil {
		if c.closed {
			return 0, net.ErrClosed
		}
		if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
			return 0, os.ErrDeadlineExceeded
		}
		c.cond.Wait()
	}
	if len(c.buf) == c.off {
		return 0, c.err
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	if c.off == len(c.buf) {
		// All consumed: the next bytes go to the start of the same
		// array.
		c.buf, c.off = c.buf[:0], 0
	}
	c.cond.Broadcast()
	return n, nil
}

func (c *clientConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	if !c.watching {
		return c.Conn.SetReadDeadline(t)
	}
	c.armDeadline()
	return nil
}

// armDeadline wakes the emulated reads at the read deadline; mu must be
// held.
func (c *clientConn) armDeadline() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), func() {
			c.mu.Lock()
			c.cond.Broadcast()
			c.mu.Unlock()
		})
	}
	c.cond.Broadcast()
}

func (c *clientConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// CloseWrite keeps net/http's graceful close (it half-closes a
// connection it answers with an error).
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (c *clientConn) Close() error {
	c.mu.Lock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	fns := c.takeGone()
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, f := range fns {
		f()
	}
	return c.Conn.Close()
}
