package mitm

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientConnWatch: once watched, a connection still delivers every
// byte in order (reads are served from the read-ahead), honours read
// deadlines, and reports the peer's hang-up to onGone exactly once.
func TestClientConnWatch(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := newClientConn(a)
	defer c.Close()
	c.watch()
	gone := make(chan struct{}, 2)
	stopped := c.onGone(func() { gone <- struct{}{} })
	stopped() // cancelled: must not fire
	c.onGone(func() { gone <- struct{}{} })

	want := bytes.Repeat([]byte("0123456789abcdef"), 3*maxReadAhead/16) // more than the read-ahead holds
	go func() {
		b.Write(want)
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %v, same bytes %v", err, bytes.Equal(got, want))
	}

	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	select {
	case <-gone:
		t.Fatal("onGone fired while the client is there")
	default:
	}

	b.Close()
	select {
	case <-gone:
	case <-time.After(2 * time.Second):
		t.Fatal("onGone did not fire when the client hung up")
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read after the hang-up succeeded")
	}
	fired := false
	c.onGone(func() { fired = true })
	if !fired {
		t.Error("onGone after the hang-up did not run at once")
	}
	time.Sleep(50 * time.Millisecond)
	if len(gone) != 0 {
		t.Error("onGone fired twice")
	}
}

// TestClientConnWatchDuringRead: watching may start while a read of the
// connection itself is waiting (a request body still arriving). The bytes
// still come in order: the read-ahead starts once that read is over. A
// read deadline set before carries over, and does not end the read-ahead
// as if the client had gone.
func TestClientConnWatchDuringRead(t *testing.T) {
	a, b := net.Pipe()
	// The first read reaches the connection late, as one can when the
	// scheduler runs the read-ahead first.
	c := newClientConn(&lateFirstRead{Conn: a, delay: 20 * time.Millisecond})
	first := make(chan string, 1)
	go func() {
		p := make([]byte, 16)
		n, _ := c.Read(p)
		first <- string(p[:n])
	}()
	time.Sleep(time.Millisecond) // the read above has begun
	c.watch()
	go func() {
		b.Write([]byte("first"))
		b.Write([]byte("second"))
	}()
	select {
	case got := <-first:
		if got != "first" {
			t.Fatalf("the read going on when watching began got %q, want %q", got, "first")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the read going on when watching began got nothing")
	}
	p := make([]byte, 16)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := c.Read(p); err != nil || string(p[:n]) != "second" {
		t.Fatalf("next read %q, %v; want %q", p[:n], err, "second")
	}
	c.SetReadDeadline(time.Time{})
	c.Close()
	b.Close()

	a, b = net.Pipe()
	defer b.Close()
	c = newClientConn(a)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	c.watch()
	gone := make(chan struct{}, 1)
	c.onGone(func() { gone <- struct{}{} })
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past a deadline set before watching: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	go b.Write([]byte("x"))
	if n, err := c.Read(make([]byte, 1)); n != 1 || err != nil {
		t.Fatalf("read after the deadline was lifted: %d, %v", n, err)
	}
	select {
	case <-gone:
		t.Error("the deadline set before watching ended the read-ahead as a hang-up")
	default:
	}
}

// lateFirstRead is a connection whose first read waits before reading.
type lateFirstRead struct {
	net.Conn
	delay time.Duration
	reads atomic.Int32
}

func (c *lateFirstRead) Read(p []byte) (int, error) {
	if c.reads.Add(1) == 1 {
		time.Sleep(c.delay)
	}
	return c.Conn.Read(p)
}

// TestMITMWatchesSlowExchangesOnly: a MITM exchange that ends quickly
// leaves its client connection unwatched (watching costs every later
// read a hand-off); one still waiting for its upstream after watchAfter
// is watched (TestMITMUpstreamStallRecorded checks that a hang-up is then
// noticed).
func TestMITMWatchesSlowExchangesOnly(t *testing.T) {
	up := upstream(t, true)
	defer up.Close()
	slow := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * watchAfterDefault / 2)
		io.WriteString(w, "late")
	}))
	defer slow.Close()
	h := newHarness(t, Options{UpstreamInsecure: true})
	for i := range 5 {
		resp, err := h.client.Get(up.URL + "/big")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h.next(t)
	}
	if n := h.proxy.watched.Load(); n != 0 {
		t.Errorf("%d quick exchanges watched, want none", n)
	}
	resp, err := h.client.Get(slow.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if ex := h.next(t); ex.Response == nil || string(ex.Response.Body) != "late" {
		t.Fatalf("slow exchange recorded as %+v", ex.Response)
	}
	if n := h.proxy.watched.Load(); n != 1 {
		t.Errorf("%d exchanges watched after a slow one, want 1", n)
	}
}

// TestMITMKeepAlive: requests that reuse one MITM connection, with
// request bodies larger than the read-ahead, all go through and are
// recorded whole, whether the connection is watched from the first
// exchange or not at all.
func TestMITMKeepAlive(t *testing.T) {
	t.Run("watched", func(t *testing.T) { testMITMKeepAlive(t, time.Nanosecond) })
	t.Run("unwatched", func(t *testing.T) { testMITMKeepAlive(t, 0) })
}

func testMITMKeepAlive(t *testing.T, watchAfter time.Duration) {
	up := upstream(t, true)
	defer up.Close()
	h := newHarness(t, Options{UpstreamInsecure: true, watchAfter: watchAfter})
	reused := 0
	for i, size := range []int{10, 3 * maxReadAhead, 0, maxReadAhead + 1, 100} {
		payload := strings.Repeat(string(rune('a'+i)), size)
		req, _ := http.NewRequest("POST", up.URL+"/token", strings.NewReader(payload))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
			if ci.Reused {
				reused++
			}
		}}))
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "at-123") || len(body) < size {
			t.Fatalf("request %d: %d, %d bytes", i, resp.StatusCode, len(body))
		}
		ex := h.next(t)
		if string(ex.Request.Body) != payload || ex.Response == nil || string(ex.Response.Body) != string(body) || ex.Error != "" || len(ex.Gaps) > 0 {
			t.Errorf("request %d recorded with %d request bytes, error %q gaps %v", i, len(ex.Request.Body), ex.Error, ex.Gaps)
		}
	}
	if reused == 0 {
		t.Error("the client never reused its MITM connection: the test does not cover keep-alive")
	}
	if n := h.proxy.watched.Load(); (watchAfter == time.Nanosecond) != (n > 0) {
		t.Errorf("%d exchanges watched with watchAfter %v", n, watchAfter)
	}
}
