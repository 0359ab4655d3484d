package h2

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Real HTTP/2 of Go's x/net/http2 server and client (cleartext, prior
// knowledge), recorded in both directions and read back.

type chunk struct {
	client bool
	b      []byte
}

type wire struct {
	mu     sync.Mutex
	chunks []chunk
}

type recConn struct {
	net.Conn
	client bool
	w      *wire
}

func (c recConn) Write(b []byte) (int, error) {
	c.w.mu.Lock()
	c.w.chunks = append(c.w.chunks, chunk{c.client, bytes.Clone(b)})
	c.w.mu.Unlock()
	return c.Conn.Write(b)
}

// record serves handler over one HTTP/2 connection and runs client with
// a transport bound to it.
func record(t *testing.T, handler http.HandlerFunc, client func(c *http.Client)) *wire {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w := &wire{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		// x/net's HTTP/2 server serves one given connection, which
		// net/http cannot; its deprecation does not matter to a test.
		//lint:ignore SA1019 one connection, recorded byte for byte
		(&http2.Server{}).ServeConn(recConn{c, false, w}, &http2.ServeConnOpts{Handler: handler})
	}()
	//lint:ignore SA1019 the client side of the same recorded connection
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, err
		}
		return recConn{c, true, w}, nil
	}}
	client(&http.Client{Transport: tr})
	//lint:ignore SA1019 see above
	tr.CloseIdleConnections()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not finish")
	}
	return w
}

func read(w *wire, split int) ([]*Stream, []string) {
	var out []*Stream
	var warns []string
	c := NewConn(func(s *Stream) { out = append(out, s) }, Options{Warn: func(at Pos, msg string) { warns = append(warns, msg) }})
	for i, ch := range w.chunks {
		b := ch.b
		for len(b) > 0 {
			k := len(b)
			if split > 0 && k > split {
				k = split
			}
			c.Data(ch.client, b[:k], Pos{Frame: int64(i + 1)}, Pos{Frame: int64(i + 1)})
			b = b[k:]
		}
	}
	c.End(true, Pos{})
	c.End(false, Pos{})
	c.Finish("the capture ended")
	return out, warns
}

func field(fs []hpack.HeaderField, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func TestGoHTTP2(t *testing.T) {
	big := strings.Repeat("0123456789", 5000)
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/trailers":
			w.Header().Set("Trailer", "X-Checksum")
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "body before trailers")
			w.Header().Set("X-Checksum", "abc123")
		case "/early":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "after hints")
		case "/big":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"data":"`+big+`"}`)
		case "/slow":
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			w.Header().Set("X-Echo-Len", fmt.Sprint(len(body)))
			w.Header().Set("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.WriteHeader(201)
			w.Write(body)
		}
	}
	w := record(t, handler, func(c *http.Client) {
		get := func(path string, hdr map[string]string) {
			req, _ := http.NewRequest("GET", "http://as.example/"+strings.TrimPrefix(path, "/"), nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		resp, err := c.Post("http://as.example/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=authorization_code&code=xyz"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		get("/trailers", nil)
		get("/early", nil)
		get("/big", nil)
		// A 40 KB header: HEADERS + CONTINUATION (frames are 16 KB).
		get("/continuation", map[string]string{"X-Large": strings.Repeat("v", 40000)})
		// Same headers again: indexed from the dynamic table.
		get("/continuation", map[string]string{"X-Large": "small"})
		// A request cancelled while the response streams: RST_STREAM.
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://as.example/slow", nil)
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	})
	for _, split := range []int{0, 1, 5, 100} {
		streams, warns := read(w, split)
		if len(warns) > 0 {
			t.Fatalf("split %d: warnings %v", split, warns)
		}
		if len(streams) != 7 {
			t.Fatalf("split %d: %d streams", split, len(streams))
		}
		byPath := map[string][]*Stream{}
		for _, s := range streams {
			p := field(s.Request.Fields, ":path")
			byPath[p] = append(byPath[p], s)
		}
		tok := byPath["/token"][0]
		if string(tok.Request.Body) != "grant_type=authorization_code&code=xyz" || field(tok.Request.Fields, ":method") != "POST" || field(tok.Request.Fields, ":authority") != "as.example" {
			t.Fatalf("token request %+v", tok.Request)
		}
		if field(tok.Response.Fields, ":status") != "201" || string(tok.Response.Body) != string(tok.Request.Body) || tok.Response.Incomplete != "" || !tok.Response.Ended {
			t.Fatalf("token response %+v", tok.Response)
		}
		n := 0
		for _, f := range tok.Response.Fields {
			if f.Name == "set-cookie" {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("set-cookie fields: %d", n)
		}
		tr := byPath["/trailers"][0]
		if string(tr.Response.Body) != "body before trailers" || field(tr.Response.Trailers, "x-checksum") != "abc123" {
			t.Fatalf("trailers: %q %v", tr.Response.Body, tr.Response.Trailers)
		}
		eh := byPath["/early"][0]
		if len(eh.Response.Interim) != 1 || field(eh.Response.Interim[0], ":status") != "103" || field(eh.Response.Fields, ":status") != "200" || string(eh.Response.Body) != "after hints" {
			t.Fatalf("103: %+v", eh.Response)
		}
		bg := byPath["/big"][0]
		if len(bg.Response.Body) != len(big)+11 || bg.Response.Wire != int64(len(big)+11) {
			t.Fatalf("big body %d bytes", len(bg.Response.Body))
		}
		cs := byPath["/continuation"]
		if len(cs) != 2 || len(field(cs[0].Request.Fields, "x-large")) != 40000 || field(cs[1].Request.Fields, "x-large") != "small" {
			t.Fatalf("continuation: %d", len(cs))
		}
		sl := byPath["/slow"][0]
		if !strings.Contains(sl.Reset, "client reset the stream (CANCEL)") || sl.Response == nil || sl.Response.Incomplete == "" {
			t.Fatalf("reset: %q %+v", sl.Reset, sl.Response)
		}
	}
}

// TestFramesByHand: padding, server push, GOAWAY, a size-limited body and
// malformed input, written with the Framer.
func TestFramesByHand(t *testing.T) {
	var cl, sv bytes.Buffer
	cl.WriteString(ClientPreface)
	cf := http2.NewFramer(&cl, nil)
	sf := http2.NewFramer(&sv, nil)
	var enc bytes.Buffer
	henc := hpack.NewEncoder(&enc)
	block := func(fs ...string) []byte {
		enc.Reset()
		for i := 0; i+1 < len(fs); i += 2 {
			henc.WriteField(hpack.HeaderField{Name: fs[i], Value: fs[i+1]})
		}
		return bytes.Clone(enc.Bytes())
	}
	var senc bytes.Buffer
	shenc := hpack.NewEncoder(&senc)
	sblock := func(fs ...string) []byte {
		senc.Reset()
		for i := 0; i+1 < len(fs); i += 2 {
			shenc.WriteField(hpack.HeaderField{Name: fs[i], Value: fs[i+1]})
		}
		return bytes.Clone(senc.Bytes())
	}
	cf.WriteSettings()
	sf.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 8192})
	req := block(":method", "POST", ":scheme", "https", ":authority", "as.example", ":path", "/token", "content-type", "application/json")
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: req, EndHeaders: true, PadLength: 7})
	cf.WriteDataPadded(1, false, []byte(`{"a":`), []byte{0, 0, 0})
	cf.WriteDataPadded(1, true, []byte(`1}`), make([]byte, 200))
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(":method", "GET", ":scheme", "https", ":authority", "as.example", ":path", "/never"), EndHeaders: true, EndStream: true})
	sf.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: sblock(":method", "GET", ":scheme", "https", ":authority", "as.example", ":path", "/pushed"), EndHeaders: true})
	sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: sblock(":status", "200", "content-type", "application/json"), EndHeaders: true, PadLength: 3})
	sf.WriteData(1, true, bytes.Repeat([]byte("x"), 100))
	sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 2, BlockFragment: sblock(":status", "200"), EndHeaders: true})
	sf.WriteData(2, true, []byte("pushed body"))
	sf.WriteGoAway(1, http2.ErrCodeNo, nil)
	var got []*Stream
	c := NewConn(func(s *Stream) { got = append(got, s) }, Options{MaxBody: 50, Policy: func(s *Stream, m *Message, resp bool) {
		if resp && field(m.Fields, ":status") == "200" && s.Pushed {
			m.Keep = false
		}
	}})
	c.Data(true, cl.Bytes(), Pos{Frame: 1}, Pos{Frame: 1})
	c.Data(false, sv.Bytes(), Pos{Frame: 2}, Pos{Frame: 3})
	c.Finish("the capture ended")
	if len(got) != 3 {
		t.Fatalf("%d streams", len(got))
	}
	byID := map[uint32]*Stream{}
	for _, s := range got {
		byID[s.ID] = s
	}
	s1 := byID[1]
	if string(s1.Request.Body) != `{"a":1}` || s1.Request.Wire != 7 || len(s1.Response.Body) != 50 || !s1.Response.Truncated || s1.Response.Wire != 100 {
		t.Fatalf("stream 1: %q %d / %d %v", s1.Request.Body, s1.Request.Wire, len(s1.Response.Body), s1.Response.Truncated)
	}
	if s1.Request.First.Frame != 1 || s1.Response.Last.Frame != 3 {
		t.Fatalf("positions %+v %+v", s1.Request.First, s1.Response.Last)
	}
	if s2 := byID[2]; !s2.Pushed || field(s2.Request.Fields, ":path") != "/pushed" || s2.Response.Body != nil || s2.Response.Wire != 11 {
		t.Fatalf("push: %+v", s2)
	}
	if s3 := byID[3]; s3.Response != nil || !strings.Contains(s3.Reset, "GOAWAY") {
		t.Fatalf("goaway: %+v", s3)
	}

	// Not HTTP/2, a bad HPACK block, a frame cut by the end: warnings,
	// no panic, nothing invented.
	for name, in := range map[string][]byte{
		"no preface":   []byte("GET / HTTP/1.1\r\n\r\n"),
		"bad hpack":    append([]byte(ClientPreface), 0, 0, 3, 1, 5, 0, 0, 0, 1, 0xff, 0xff, 0xff),
		"cut frame":    append([]byte(ClientPreface), 0, 0, 10, 1, 5, 0, 0, 0, 1, 0x82),
		"continuation": append([]byte(ClientPreface), 0, 0, 1, 9, 4, 0, 0, 0, 1, 0x82),
	} {
		var warns []string
		var n int
		c := NewConn(func(*Stream) { n++ }, Options{Warn: func(at Pos, m string) { warns = append(warns, m) }})
		c.Data(true, in, Pos{}, Pos{})
		c.End(true, Pos{})
		c.Finish("end")
		if len(warns) == 0 || n != 0 {
			t.Errorf("%s: warnings %v, %d streams", name, warns, n)
		}
	}
}
