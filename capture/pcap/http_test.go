package pcap

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/oauthlint/oauthlint/capture"
)

// keepAliveStream is a client and a server byte stream exercising most of
// HTTP/1.1 framing on one connection.
var keepAliveRequests = "" +
	get("api.test", "/one") +
	"HEAD /file HTTP/1.1\r\nHost: api.test\r\n\r\n" +
	"GET /cached HTTP/1.1\r\nHost: api.test\r\nIf-None-Match: \"x\"\r\n\r\n" +
	"POST /upload HTTP/1.1\r\nHost: api.test\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello" +
	"POST /chunked HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n3;ext=1\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nX-Trailer: t\r\n\r\n" +
	"DELETE /item/7 HTTP/1.1\r\nHost: api.test\r\n\r\n"

var keepAliveResponses = "" +
	okText("first") +
	"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: 123456\r\n\r\n" +
	"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" +
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok" +
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nchunk\r\n6\r\ned now\r\n0\r\n\r\n" +
	"HTTP/1.1 204 No Content\r\n\r\n"

const keepAliveWant = `
GET http://api.test/one 200 body=first
HEAD http://api.test/file 200
GET http://api.test/cached 304
POST http://api.test/upload req=hello 201 body=ok
POST http://api.test/chunked req={"a":1} 200 body=chunked now
DELETE http://api.test/item/7 204
`

func TestKeepAliveFraming(t *testing.T) {
	for _, mss := range []int{0, 1, 2, 3, 7, 13, 64, 1000} {
		b := newCap(t)
		c := b.conn("10.0.0.1:50000", "10.0.0.2:8080").handshake()
		c.send(true, keepAliveRequests, mss)
		c.send(false, keepAliveResponses, mss)
		c.close()
		exs, info := b.read(Options{})
		if len(info.Warnings) > 0 {
			t.Errorf("mss %d: warnings %v", mss, info.Warnings)
		}
		got := summary(exs)
		if got != strings.TrimLeft(keepAliveWant, "\n") {
			t.Fatalf("mss %d:\n%s\nwant:\n%s", mss, got, keepAliveWant)
		}
	}
}

func TestPipelining(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	// Three requests in one segment, three responses in one segment.
	c.send(true, get("p.test", "/1")+get("p.test", "/2")+get("p.test", "/3"), 0)
	c.send(false, okText("one")+okText("two")+okText("three"), 0)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
GET http://p.test/1 200 body=one
GET http://p.test/2 200 body=two
GET http://p.test/3 200 body=three
`)
	// Same start time: the order within the packet is kept.
	if !exs[0].Start.Equal(exs[2].Start) {
		t.Errorf("pipelined requests in one packet should share the start time")
	}
}

func TestHeadersAsOnTheWire(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	req := "GET /h HTTP/1.1\r\nhost: h.test\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Folded: a\r\n  b\r\nX-Empty:\r\nAuthorization: Bearer abc\r\n\r\n"
	c.send(true, req, 0)
	c.send(false, "HTTP/1.1 200 OK\nSet-Cookie: a=1\nSet-Cookie: b=2\nContent-Length: 0\n\n", 0) // bare LF
	exs, _ := b.read(Options{})
	if len(exs) != 1 {
		t.Fatalf("%d exchanges", len(exs))
	}
	want := capture.Headers{{Name: "host", Value: "h.test"}, {Name: "X-Dup", Value: "1"}, {Name: "x-dup", Value: "2"}, {Name: "X-Folded", Value: "a b"}, {Name: "X-Empty", Value: ""}, {Name: "Authorization", Value: "Bearer abc"}}
	if got := exs[0].Request.Headers; !equalHeaders(got, want) {
		t.Errorf("request headers %v, want %v", got, want)
	}
	if got := exs[0].Response.Headers.Values("set-cookie"); len(got) != 2 {
		t.Errorf("Set-Cookie values %v", got)
	}
}

func equalHeaders(a, b capture.Headers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func encode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch coding {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(body)
		w.Close()
	case "deflate":
		w := zlib.NewWriter(&buf)
		w.Write(body)
		w.Close()
	case "deflate-raw":
		w, _ := flate.NewWriter(&buf, 5)
		w.Write(body)
		w.Close()
	case "br":
		w := brotli.NewWriter(&buf)
		w.Write(body)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&buf)
		w.Write(body)
		w.Close()
	}
	return buf.Bytes()
}

func TestContentEncodings(t *testing.T) {
	body := []byte(`{"access_token":"` + strings.Repeat("t", 500) + `","token_type":"Bearer"}`)
	for _, coding := range []string{"gzip", "deflate", "deflate-raw", "br", "zstd", "gzip, br"} {
		t.Run(coding, func(t *testing.T) {
			wire := body
			header := coding
			for _, c := range strings.Split(coding, ", ") {
				wire = encode(t, c, wire)
			}
			if coding == "deflate-raw" {
				header = "deflate"
			}
			b := newCap(t)
			c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
			c.send(true, get("as.test", "/token"), 0)
			resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: " + header + "\r\nTransfer-Encoding: chunked\r\n\r\n"
			resp += strings.ToUpper(strconvHex(len(wire))) + "\r\n" + string(wire) + "\r\n0\r\n\r\n"
			c.send(false, resp, 100)
			exs, _ := b.read(Options{})
			if len(exs) != 1 || !bytes.Equal(exs[0].Response.Body, body) {
				t.Fatalf("body not decoded: %s", summary(exs))
			}
			if exs[0].Response.BodySize != int64(len(wire)) || len(exs[0].Gaps) != 0 {
				t.Errorf("body size %d (want %d), gaps %v", exs[0].Response.BodySize, len(wire), exs[0].Gaps)
			}
		})
	}
}

func strconvHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%16]}, b...)
		n /= 16
	}
	return string(b)
}

func TestBadEncodingRecordsGap(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("as.test", "/x"), 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\nnot gzip!", 0)
	c.send(true, get("as.test", "/y"), 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\nabc", 0)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
GET http://as.test/x 200 body=not gzip! [decode]
GET http://as.test/y 200 body=abc [decode]
`)
}

func TestDecompressionBombIsCapped(t *testing.T) {
	bomb := encode(t, "gzip", bytes.Repeat([]byte("A"), 8<<20))
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("x.test", "/bomb"), 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Length: "+itoa(len(bomb))+"\r\n\r\n"+string(bomb), 1400)
	exs, _ := b.read(Options{MaxBody: 1 << 20})
	if len(exs) != 1 || len(exs[0].Response.Body) != 1<<20 {
		t.Fatalf("body not capped: %d bytes", len(exs[0].Response.Body))
	}
	if !exs[0].HasGap(capture.GapResponseBody) {
		t.Errorf("no body gap: %v", exs[0].Gaps)
	}
}

func TestBodyCap(t *testing.T) {
	body := strings.Repeat("b", 5000)
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, "POST /big HTTP/1.1\r\nHost: x.test\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"+body, 1000)
	c.send(false, okText(body), 1000)
	exs, _ := b.read(Options{MaxBody: 1000})
	ex := exs[0]
	if len(ex.Request.Body) != 1000 || len(ex.Response.Body) != 1000 || ex.Request.BodySize != 5000 {
		t.Fatalf("bodies %d/%d, size %d", len(ex.Request.Body), len(ex.Response.Body), ex.Request.BodySize)
	}
	if !ex.HasGap(capture.GapRequestBody) || !ex.HasGap(capture.GapResponseBody) {
		t.Errorf("gaps %v", ex.Gaps)
	}
	if !strings.Contains(ex.Gaps[0].Detail, "--max-body") {
		t.Errorf("gap detail %q should say how to raise the cap", ex.Gaps[0].Detail)
	}
}

func TestBulkMediaNotKept(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00\x01", 100)
	html := "<html>" + strings.Repeat("x", 40<<10) + "</html>"
	run := func(opts Options) []*capture.Exchange {
		b := newCap(t)
		c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
		c.exchange(get("w.test", "/logo.png"), "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: "+itoa(len(png))+"\r\n\r\n"+png)
		c.exchange(get("w.test", "/page"), "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"+strconvHex(len(html))+"\r\n"+html+"\r\n0\r\n\r\n")
		c.exchange(get("w.test", "/small"), "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<p>small</p>\n")
		exs, _ := b.read(opts)
		return exs
	}
	exs := run(Options{})
	if exs[0].Response.Body != nil || !exs[0].HasGap(capture.GapResponseBody) || exs[0].Response.BodySize != int64(len(png)) {
		t.Errorf("image body kept: %d bytes, gaps %v", len(exs[0].Response.Body), exs[0].Gaps)
	}
	if exs[1].Response.Body != nil || !exs[1].HasGap(capture.GapResponseBody) {
		t.Errorf("large HTML kept: %d bytes", len(exs[1].Response.Body))
	}
	if string(exs[2].Response.Body) != "<p>small</p>\n" || len(exs[2].Gaps) != 0 {
		t.Errorf("small HTML not kept: %q %v", exs[2].Response.Body, exs[2].Gaps)
	}
	all := run(Options{KeepAllBodies: true})
	if string(all[0].Response.Body) != png || string(all[1].Response.Body) != html || len(all[0].Gaps)+len(all[1].Gaps) != 0 {
		t.Errorf("KeepAllBodies did not keep the bodies")
	}
}

func TestResponseUntilClose(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, "GET /old HTTP/1.0\r\nHost: old.test\r\n\r\n", 0)
	c.send(false, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 5)
	c.fin(false)
	c.fin(true)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://old.test/old 200 body=until the end\n")
	if exs[0].Request.Proto != "HTTP/1.0" {
		t.Errorf("proto %q", exs[0].Request.Proto)
	}
}

func TestHTTPOnAnyPortAndNotOnPort80(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:31337").handshake()
	c.exchange(get("odd.test:31337", "/"), okText("odd port"))
	// Port 80 carrying something else entirely.
	n := b.conn("10.0.0.1:50001", "10.0.0.2:80").handshake()
	n.send(true, "\x00\x01binary protocol\xff\xfe", 0)
	n.send(false, "\x05\x06more binary", 0)
	n.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://odd.test:31337/ 200 body=odd port\n")
	if info.OtherConnections != 1 || info.HTTPConnections != 1 {
		t.Errorf("info %+v", info)
	}
}

func TestProxyAbsoluteFormAndNoHost(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:3128").handshake()
	c.exchange("GET http://upstream.test/a?b=1 HTTP/1.1\r\nHost: upstream.test\r\n\r\n", okText("via proxy"))
	c.exchange("GET /nohost HTTP/1.0\r\n\r\n", okText("no host"))
	c.exchange("OPTIONS * HTTP/1.1\r\nHost: opt.test\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	c.exchange("GET /sp ace?q=\"x\" HTTP/1.1\r\nHost: sp.test\r\n\r\n", okText("escaped"))
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
GET http://upstream.test/a?b=1 200 body=via proxy
GET http://10.0.0.2:3128/nohost 200 body=no host
OPTIONS http://opt.test/* 204
GET http://sp.test/sp%20ace?q="x" 200 body=escaped
`)
}

func TestConnectTunnelWithTLS(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:8888").handshake()
	c.send(true, "CONNECT auth.example.test:443 HTTP/1.1\r\nHost: auth.example.test:443\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 200 Connection established\r\n\r\n", 0)
	c.send(true, string(clientHello("auth.example.test")), 0)
	c.send(false, "\x16\x03\x03\x00\x04abcd", 0)
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, "CONNECT https://auth.example.test:443 200\n")
	if !hasWarning(info, "encrypted connection") || !hasWarning(info, "auth.example.test:443") {
		t.Errorf("warnings %v", info.Warnings)
	}
}

// TestConnectBadTarget: a CONNECT whose target is not host:port (here a
// port that is not a number, found by FuzzHTTP1Stream) gives no absolute
// URL: the request is skipped with a warning instead of being returned
// with a URL without scheme; the tunnel the proxy opened is still
// followed (here it carries plain HTTP).
func TestConnectBadTarget(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:8888").handshake()
	c.send(true, "CONNECT as.test:4S3 HTTP/1.1\r\nHost: as.test:443\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 200 Connection established\r\n\r\n", 0)
	c.send(true, "GET /inside HTTP/1.1\r\nHost: as.test\r\n\r\n", 0)
	c.close()
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://as.test/inside - [no-response]\n")
	if !hasWarning(info, `request skipped: CONNECT target "as.test:4S3" is not host:port`) || info.Requests != 2 {
		t.Errorf("requests %d, warnings %v", info.Requests, info.Warnings)
	}
}

func TestConnectRefusedContinuesHTTP(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:8888").handshake()
	c.send(true, "CONNECT auth.example.test:443 HTTP/1.1\r\nHost: auth.example.test:443\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 0)
	c.exchange(get("plain.test", "/after"), okText("still http"))
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
CONNECT https://auth.example.test:443 407
GET http://plain.test/after 200 body=still http
`)
}

func TestUpgradeStopsHTTP(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, "GET /ws HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", 0)
	c.send(true, "\x81\x85abcdefghi", 0)
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://ws.test/ws 101\n")
	if len(info.Warnings) != 0 {
		t.Errorf("warnings %v", info.Warnings)
	}
}

func TestExpectContinueRejected(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, "POST /up HTTP/1.1\r\nHost: u.test\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n", 0)
	// The client does not send the body and goes on with a new request.
	c.exchange(get("u.test", "/next"), okText("next"))
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
POST http://u.test/up 401 [request-body]
GET http://u.test/next 200 body=next
`)
}

func TestNoResponseAtEndOfCapture(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("e.test", "/1"), okText("1"))
	c.send(true, get("e.test", "/2"), 0)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, `
GET http://e.test/1 200 body=1
GET http://e.test/2 - [no-response]
`)
	if !strings.Contains(exs[1].Gaps[0].Detail, "capture ended") {
		t.Errorf("detail %q", exs[1].Gaps[0].Detail)
	}
}

func TestHugeContentLengthIsBounded(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, get("x.test", "/huge"), 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4294967296000\r\n\r\n{\"partial\":", 0)
	c.close()
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://x.test/huge 200 body={\"partial\": [response-body]\n")
	if !strings.Contains(exs[0].Gaps[0].Detail, "of 4294967296000 body bytes") {
		t.Errorf("detail %q", exs[0].Gaps[0].Detail)
	}
}

func TestGarbageAfterValidRequests(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.exchange(get("g.test", "/ok"), okText("fine"))
	c.send(true, "\x00\x00garbage that is not HTTP\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0)
	exs, info := b.read(Options{})
	wantSummary(t, exs, "GET http://g.test/ok 200 body=fine\n")
	if !hasWarning(info, "not an HTTP/1.x request") {
		t.Errorf("warnings %v", info.Warnings)
	}
}

func TestBadFramingStops(t *testing.T) {
	for name, resp := range map[string]string{
		"conflicting lengths": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"bad chunk size":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
		"chunk without crlf":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
		"bad status line":     "HTTP/1.1 2x0 OK\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := newCap(t)
			c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
			c.exchange(get("b.test", "/"), resp)
			exs, info := b.read(Options{})
			if len(exs) != 1 || (exs[0].Response != nil && len(exs[0].Gaps) == 0) {
				t.Errorf("%s", summary(exs))
			}
			if !hasWarning(info, "stopped parsing the server's responses") {
				t.Errorf("warnings %v", info.Warnings)
			}
		})
	}
}

// TestH2PriorKnowledge: HTTP/2 over cleartext TCP (prior knowledge) is
// read like HTTP/2 over TLS, even when the server's SETTINGS are captured
// before the client's preface.
func TestH2PriorKnowledge(t *testing.T) {
	var cl, sv bytes.Buffer
	cl.WriteString(http2.ClientPreface)
	cf, sf := http2.NewFramer(&cl, nil), http2.NewFramer(&sv, nil)
	cf.WriteSettings()
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: hpackBlock(":method", "POST", ":scheme", "http", ":authority", "as.test", ":path", "/token", "content-type", "application/x-www-form-urlencoded")})
	cf.WriteData(1, true, []byte("grant_type=client_credentials"))
	sf.WriteSettings()
	sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: hpackBlock(":status", "200", "content-type", "application/json", "content-encoding", "gzip")})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(`{"access_token":"x"}`))
	zw.Close()
	sf.WriteData(1, true, z.Bytes())
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	s := sv.Bytes()
	c.send(false, string(s[:15]), 0) // the server's SETTINGS first
	c.send(true, cl.String(), 0)
	c.send(false, string(s[15:]), 0)
	exs, info := b.read(Options{})
	wantSummary(t, exs, "POST http://as.test/token req=grant_type=client_credentials 200 body={\"access_token\":\"x\"}\n")
	if len(info.Warnings) > 0 || exs[0].Request.Proto != "HTTP/2.0" || exs[0].Request.Headers.Get(":path") != "/token" || string(exs[0].Request.Body) != "grant_type=client_credentials" {
		t.Errorf("%v %+v", info.Warnings, exs[0].Request)
	}
}

func TestResponseUntilCloseCutByCaptureEnd(t *testing.T) {
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, "GET /stream HTTP/1.1\r\nHost: s.test\r\n\r\n", 0)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n", 0)
	exs, _ := b.read(Options{})
	wantSummary(t, exs, "GET http://s.test/stream 200 body=data: 1\n\n [response-body]\n")
}

// hpackBlock encodes name, value, name, value, … as one header block.
func hpackBlock(fs ...string) []byte {
	var b bytes.Buffer
	e := hpack.NewEncoder(&b)
	for i := 0; i < len(fs); i += 2 {
		e.WriteField(hpack.HeaderField{Name: fs[i], Value: fs[i+1]})
	}
	return b.Bytes()
}

// h2Conversation is a cleartext HTTP/2 connection (prior knowledge) of
// one stream: a request with reqFields (END_STREAM) and, when respFields
// is not nil, a response with them and the body "body".
func h2Conversation(t *testing.T, reqFields, respFields []string) ([]*capture.Exchange, *Info) {
	t.Helper()
	var cl, sv bytes.Buffer
	cl.WriteString(http2.ClientPreface)
	cf, sf := http2.NewFramer(&cl, nil), http2.NewFramer(&sv, nil)
	cf.WriteSettings()
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true, BlockFragment: hpackBlock(reqFields...)})
	sf.WriteSettings()
	if respFields != nil {
		sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: hpackBlock(respFields...)})
		sf.WriteData(1, true, []byte("body"))
	}
	b := newCap(t)
	c := b.conn("10.0.0.1:50000", "10.0.0.2:80").handshake()
	c.send(true, cl.String(), 0)
	c.send(false, sv.String(), 0)
	c.close()
	return b.read(Options{})
}

// TestH2BadStatus: an HTTP/2 response whose :status is missing or not a
// three-digit code is not returned as a response with that status (the
// exchange's status would be 0 or out of range): the exchange has no
// response and says why.
func TestH2BadStatus(t *testing.T) {
	req := []string{":method", "GET", ":scheme", "http", ":authority", "as.test", ":path", "/x"}
	for _, status := range []string{"", "abc", "0", "2000", "099", "+200", " 200"} {
		t.Run(status, func(t *testing.T) {
			fields := []string{"content-type", "text/plain"}
			if status != "" {
				fields = append([]string{":status", status}, fields...)
			}
			exs, info := h2Conversation(t, req, fields)
			if len(exs) != 1 {
				t.Fatalf("exchanges:\n%s", summary(exs))
			}
			if r := exs[0].Response; r != nil {
				t.Errorf("response with status %d from :status %q", r.Status, status)
			}
			if !exs[0].HasGap(capture.GapNoResponse) || !strings.Contains(exs[0].Gaps[0].Detail, ":status") {
				t.Errorf("gaps %v, warnings %v", exs[0].Gaps, info.Warnings)
			}
		})
	}
	exs, _ := h2Conversation(t, req, []string{":status", "404"})
	wantSummary(t, exs, "GET http://as.test/x 404 body=body\n")
}

// TestH2MalformedFields: an HTTP/2 :method that is not a token skips the
// stream with a warning (as an HTTP/1.x request line would not parse), a
// field with an empty name is dropped, and a :scheme that is not http or
// https gives way to the connection's.
func TestH2MalformedFields(t *testing.T) {
	exs, info := h2Conversation(t, []string{":method", "GE T", ":scheme", "http", ":authority", "as.test", ":path", "/x"}, []string{":status", "200"})
	if len(exs) != 0 || !hasWarning(info, `:method "GE T" is not a token`) {
		t.Errorf("exchanges:\n%s\nwarnings %v", summary(exs), info.Warnings)
	}
	exs, _ = h2Conversation(t, []string{":method", "GET", ":scheme", "http", ":authority", "as.test", ":path", "/x", "", "empty name"}, []string{":status", "200", "", "v"})
	wantSummary(t, exs, "GET http://as.test/x 200 body=body\n")
	for _, scheme := range []string{"ftp", "HTTP", "a b", "javascript"} {
		exs, _ := h2Conversation(t, []string{":method", "GET", ":scheme", scheme, ":authority", "as.test", ":path", "/x"}, []string{":status", "200"})
		if len(exs) != 1 || exs[0].Request.URL.String() != "http://as.test/x" {
			t.Errorf(":scheme %q: exchanges:\n%s", scheme, summary(exs))
		}
	}
	if len(exs) == 1 {
		for _, h := range append(exs[0].Request.Headers, exs[0].Response.Headers...) {
			if h.Name == "" {
				t.Errorf("header with an empty name: %+v", h)
			}
		}
	}
}
