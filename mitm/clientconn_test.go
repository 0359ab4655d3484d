package mitm

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
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

// TestMITMKeepAlive: requests that reuse one MITM connection, with
// request bodies larger than the read-ahead, all go through and are
// recorded whole.
func TestMITMKeepAlive(t *testing.T) {
	up := upstream(t, true)
	defer up.Close()
	h := newHarness(t, Options{UpstreamInsecure: true})
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
}
