package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// Generators of the hostile inputs. Every input is built here, from
// code, so the corpus is reproducible: the small ones are also committed
// under testdata (go test ./internal/hostile -update rewrites
// them, and the test fails when a committed file no longer matches its
// generator), the big ones (bombs, floods, a million entries) exist only
// while the test runs, or in the directory given with -hostile.dump.

// t0 is the capture clock of every generated input.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// ---------------------------------------------------------------- HAR

// jsonStr quotes s as a JSON string escaping only what JSON requires, so
// that invalid UTF-8 reaches the file unchanged (encoding/json would
// replace it).
func jsonStr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hdrs renders a HAR header list.
func hdrs(hs [][2]string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, h := range hs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":` + jsonStr(h[0]) + `,"value":` + jsonStr(h[1]) + `}`)
	}
	b.WriteByte(']')
	return b.String()
}

// entry is one HAR entry; respEncoding "base64" stores respText as is
// (already encoded).
type entry struct {
	method, url  string
	reqHeaders   [][2]string
	reqBody      string
	status       int
	respHeaders  [][2]string
	respText     string
	respEncoding string
	extra        string // raw JSON members added to the entry ("\"_x\":1")
	at           time.Duration
}

func (e entry) json() string {
	var b strings.Builder
	b.WriteString(`{"startedDateTime":"` + t0.Add(e.at).Format(time.RFC3339Nano) + `","time":1,`)
	b.WriteString(`"request":{"method":` + jsonStr(e.method) + `,"url":` + jsonStr(e.url) + `,"httpVersion":"HTTP/1.1","headers":` + hdrs(e.reqHeaders) + `,"queryString":[],"cookies":[],"headersSize":-1,"bodySize":` + strconv.Itoa(len(e.reqBody)))
	if e.reqBody != "" {
		b.WriteString(`,"postData":{"mimeType":"application/x-www-form-urlencoded","text":` + jsonStr(e.reqBody) + `}`)
	}
	b.WriteString(`},"response":{"status":` + strconv.Itoa(e.status) + `,"statusText":"","httpVersion":"HTTP/1.1","headers":` + hdrs(e.respHeaders) + `,"cookies":[],"redirectURL":"","headersSize":-1,"bodySize":-1,"content":{"size":` + strconv.Itoa(len(e.respText)) + `,"mimeType":"application/json","text":` + jsonStr(e.respText))
	if e.respEncoding != "" {
		b.WriteString(`,"encoding":` + jsonStr(e.respEncoding))
	}
	b.WriteString(`}},"cache":{},"timings":{"send":0,"wait":1,"receive":0}`)
	if e.extra != "" {
		b.WriteString("," + e.extra)
	}
	b.WriteString(`}`)
	return b.String()
}

// harDoc wraps raw entry JSON texts into a HAR document.
func harDoc(entries ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"log":{"version":"1.2","creator":{"name":"hostile","version":"1"},"entries":[`)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(e)
	}
	b.WriteString("]}}\n")
	return b.Bytes()
}

// tokenFlow is a small, valid token exchange used where a case needs
// something analyzable around its hostile part.
func tokenFlow(at time.Duration) []string {
	return []string{
		entry{method: "POST", url: "https://as.hostile.test/token",
			reqHeaders: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}},
			reqBody:    "grant_type=client_credentials&client_id=c1&client_secret=hostile-client-secret-0123456789",
			status:     200, respHeaders: [][2]string{{"Content-Type", "application/json"}},
			respText: `{"access_token":"hostile-access-token-0123456789abcdef","token_type":"Bearer","expires_in":60}`, at: at}.json(),
	}
}

func harTruncatedMid() []byte {
	doc := harDoc(append(append(tokenFlow(0), tokenFlow(time.Second)...), tokenFlow(2*time.Second)...)...)
	// Cut inside the third entry.
	i := bytes.LastIndex(doc, []byte(`"response"`))
	return doc[:i+5]
}

func harMalformed() []byte {
	doc := harDoc(append(tokenFlow(0), tokenFlow(time.Second)...)...)
	i := bytes.LastIndex(doc, []byte(`"status":200`))
	doc = append([]byte(nil), doc...)
	copy(doc[i:], `"status"=200`)
	return doc
}

func harUTF16() []byte {
	doc := harDoc(tokenFlow(0)...)
	u := utf16.Encode([]rune(string(doc)))
	out := []byte{0xFF, 0xFE}
	for _, c := range u {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out
}

func harWrongTypes() []byte {
	return harDoc(append([]string{
		`42`, `null`, `"entry"`, `[]`, `{}`,
		`{"request":7,"response":[]}`,
		`{"request":{"method":1,"url":[],"headers":"x"},"response":{"status":"200"}}`,
		`{"request":{"method":"GET","url":"/relative?code=hostile-relative-code-0123"},"response":{"status":200}}`,
		`{"request":{"method":"GET","url":"https://h.test/","headers":[{"name":1,"value":{}}]},"response":{"status":1e400,"content":{"size":-1e308,"text":7,"encoding":"base64"}}}`,
		`{"request":{"method":"G\u0000ET","url":"javascript:alert(1)"},"response":{"status":-5}}`,
		`{"request":{"method":"GET","url":"https://h.test/x","bodySize":99999999999999999999},"response":{"status":200,"bodySize":-99999999999999999999}}`,
	}, tokenFlow(time.Second)...)...)
}

func harInvalidUTF8() []byte {
	bad := "\xff\xfe\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80"
	return harDoc(
		entry{method: "GET", url: "https://h.test/p" + bad + "?q=" + bad + "&state=st" + bad, reqHeaders: [][2]string{{"X-" + bad, bad}, {"User-Agent", bad}},
			status: 401, respHeaders: [][2]string{{"WWW-Authenticate", `Bearer realm="` + bad + `", scope="a` + bad + `"`}, {"Content-Type", "application/json"}},
			respText: `{"error":"` + bad + `","error_description":"` + bad + `"}`}.json(),
		entry{method: "POST", url: "https://h.test/token", reqHeaders: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}},
			reqBody: "grant_type=authorization_code&code=c0de-\xff\xfe-value-0123&redirect_uri=http%3A%2F%2Flocalhost%2F" + bad,
			status:  200, respHeaders: [][2]string{{"Content-Type", "application/json"}}, respText: `{"access_token":"at-\xc3\x28-invalid-0123456789","token_type":"Bearer"}`,
			at: time.Second, extra: `"comment":` + jsonStr("want: "+bad)}.json(),
	)
}

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func harDeepMember() []byte {
	doc := harDoc(tokenFlow(0)...)
	// An unknown top-level member nested far deeper than any decoder
	// allows, after the entries.
	i := bytes.LastIndex(doc, []byte("}}"))
	return append(append(append([]byte(nil), doc[:i+1]...), `,"_x":`+nested("[", "]", 100000)+"}\n"...), nil...)
}

func harDeepEntry() []byte {
	return harDoc(append([]string{
		entry{method: "GET", url: "https://h.test/deep", status: 200, extra: `"_x":` + nested("{\"a\":", "}", 50000)}.json(),
	}, tokenFlow(time.Second)...)...)
}

func harDeepBody() []byte {
	return harDoc(
		entry{method: "GET", url: "https://mcp.hostile.test/.well-known/oauth-protected-resource", status: 200,
			respHeaders: [][2]string{{"Content-Type", "application/json"}}, respText: `{"resource":` + nested("[", "]", 200000) + `}`}.json(),
		entry{method: "GET", url: "https://as.hostile.test/.well-known/oauth-authorization-server", status: 200, at: time.Second,
			respHeaders: [][2]string{{"Content-Type", "application/json"}}, respText: `{"issuer":"https://as.hostile.test","x":` + nested(`{"a":`, "}", 60) + `}`}.json(),
	)
}

func harContentLength4G() []byte {
	const huge = "4294967296"
	return harDoc(
		entry{method: "POST", url: "https://as.hostile.test/token", reqHeaders: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", huge}},
			reqBody: "grant_type=client_credentials", status: 200, respHeaders: [][2]string{{"Content-Length", "18446744073709551615"}, {"Content-Type", "application/json"}},
			respText: `{"access_token":"hostile-at-4g-0123456789","token_type":"Bearer"}`,
			extra:    `"_bodySize":4294967296`}.json(),
	)
}

func harHeaders(n int) []byte {
	hs := make([][2]string, 0, n)
	for i := 0; i < n; i++ {
		hs = append(hs, [2]string{"X-H" + strconv.Itoa(i), "v"})
	}
	hs = append(hs, [2]string{"WWW-Authenticate", `Bearer scope="a"`})
	return harDoc(entry{method: "GET", url: "https://mcp.hostile.test/mcp", reqHeaders: hs, status: 401, respHeaders: hs}.json())
}

// harTiny writes n minimal entries straight to w.
func harTiny(w io.Writer, n int) error {
	bw := &errWriter{w: w}
	bw.s(`{"log":{"version":"1.2","creator":{"name":"hostile","version":"1"},"entries":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.s(",")
		}
		bw.s(`{"startedDateTime":"` + t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano) + `","request":{"method":"GET","url":"https://a.test/` + strconv.Itoa(i) + `","headers":[]},"response":{"status":200,"headers":[],"content":{}}}`)
	}
	bw.s("]}}\n")
	return bw.err
}

// harBadEntries writes n entries that cannot be used (relative URLs),
// then one good one: each bad entry is a warning.
func harBadEntries(w io.Writer, n int) error {
	bw := &errWriter{w: w}
	bw.s(`{"log":{"version":"1.2","creator":{"name":"hostile","version":"1"},"entries":[`)
	for i := 0; i < n; i++ {
		bw.s(`{"request":{"method":"GET","url":"/r` + strconv.Itoa(i) + `"},"response":{"status":200}},`)
	}
	bw.s(tokenFlow(0)[0])
	bw.s("]}}\n")
	return bw.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) s(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

// bomb returns a body of the given coding that decodes to total zero
// bytes, built without ever holding the decoded bytes: gzip and zstd
// streams may be concatenated, so a member of 16 MiB of zeros is repeated;
// brotli (and deflate) cannot be, so their bomb is one stream.
func bomb(tb testing.TB, coding string, total int64) []byte {
	tb.Helper()
	const member = 16 << 20
	zeros := make([]byte, 1<<20)
	var one bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&one, gzip.BestCompression)
	case "zstd":
		zw, err := zstd.NewWriter(&one, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		if err != nil {
			tb.Fatal(err)
		}
		w = zw
	case "br":
		w = brotli.NewWriterLevel(&one, 5)
	default:
		tb.Fatalf("no bomb for %s", coding)
	}
	size := int64(member)
	if coding == "br" {
		size = total
	}
	for n := int64(0); n < size; n += int64(len(zeros)) {
		if _, err := w.Write(zeros); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if coding == "br" {
		return one.Bytes()
	}
	return bytes.Repeat(one.Bytes(), int(total/member))
}

func harBomb(tb testing.TB, coding string, total int64) []byte {
	body := bomb(tb, coding, total)
	return harDoc(append([]string{entry{method: "GET", url: "https://as.hostile.test/.well-known/oauth-authorization-server",
		status: 200, respHeaders: [][2]string{{"Content-Encoding", coding}, {"Content-Type", "application/json"}},
		respText: base64.StdEncoding.EncodeToString(body), respEncoding: "base64"}.json()}, tokenFlow(time.Second)...)...)
}

// harNestedBomb: a gzip bomb inside a gzip stream inside a gzip stream,
// declared as three codings.
func harNestedBomb(tb testing.TB) []byte {
	body := bomb(tb, "gzip", 1<<30)
	for i := 0; i < 2; i++ {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(body)
		w.Close()
		body = b.Bytes()
	}
	return harDoc(entry{method: "GET", url: "https://as.hostile.test/.well-known/oauth-authorization-server",
		status: 200, respHeaders: [][2]string{{"Content-Encoding", "gzip, gzip, gzip"}, {"Content-Type", "application/json"}},
		respText: base64.StdEncoding.EncodeToString(body), respEncoding: "base64"}.json())
}

// harBigEntry is one entry whose body text is n bytes.
func harBigEntry(n int) []byte {
	return harDoc(entry{method: "GET", url: "https://mcp.hostile.test/big", status: 200,
		respHeaders: [][2]string{{"Content-Type", "text/plain"}}, respText: strings.Repeat("x", n)}.json())
}

// harManyFlows writes n complete authorization-code flows of one client
// (authorize, callback, token), each with its own state, code and PKCE
// pair: correlation and cross-flow rules must stay near linear.
func harManyFlows(w io.Writer, n int) error {
	bw := &errWriter{w: w}
	bw.s(`{"log":{"version":"1.2","creator":{"name":"hostile","version":"1"},"entries":[`)
	for i := 0; i < n; i++ {
		at := time.Duration(i) * 3 * time.Second
		st, code := fmt.Sprintf("state-%08d", i), fmt.Sprintf("code-%08d-hostile", i)
		verifier := fmt.Sprintf("verifier-%08d-0123456789012345678901234567890123", i)
		if i > 0 {
			bw.s(",")
		}
		bw.s(entry{method: "GET", url: "https://as.hostile.test/authorize?response_type=code&client_id=c1&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&state=" + st +
			"&code_challenge=" + oauth.S256(verifier) + "&code_challenge_method=S256&scope=a", status: 302,
			respHeaders: [][2]string{{"Location", "http://localhost:3000/cb?code=" + code + "&state=" + st}}, at: at}.json())
		bw.s("," + entry{method: "GET", url: "http://localhost:3000/cb?code=" + code + "&state=" + st, status: 200, at: at + time.Second}.json())
		bw.s("," + entry{method: "POST", url: "https://as.hostile.test/token", reqHeaders: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}},
			reqBody: "grant_type=authorization_code&code=" + code + "&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&client_id=c1&code_verifier=" + verifier,
			status:  200, respHeaders: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
			respText: `{"access_token":"at-` + code + `","token_type":"Bearer","expires_in":60,"scope":"a"}`, at: at + 2*time.Second}.json())
	}
	bw.s("]}}\n")
	return bw.err
}

// harOneFlowManyCalls writes one authorization followed by n resource
// calls with its token: the exchanges of one flow.
func harOneFlowManyCalls(w io.Writer, n int) error {
	bw := &errWriter{w: w}
	var buf bytes.Buffer
	harManyFlows(&buf, 1)
	doc := buf.Bytes()
	bw.s(string(doc[:bytes.LastIndex(doc, []byte("]}}"))]))
	for i := 0; i < n; i++ {
		bw.s("," + entry{method: "POST", url: "https://mcp.hostile.test/mcp", reqHeaders: [][2]string{{"Authorization", "Bearer at-code-00000000-hostile"}, {"Content-Type", "application/json"}},
			reqBody: `{"jsonrpc":"2.0","method":"tools/call","id":` + strconv.Itoa(i) + `}`, status: 200,
			respHeaders: [][2]string{{"Content-Type", "application/json"}}, respText: `{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"result":{}}`,
			at: 3*time.Second + time.Duration(i)*time.Millisecond}.json())
	}
	bw.s("]}}\n")
	return bw.err
}

// ---------------------------------------------------------------- pcap

// pcapConn writes one TCP conversation (handshake, the client bytes, the
// server bytes, FIN both ways) in segments of at most mss bytes.
type pcapWriter struct {
	tb  testing.TB
	buf *bytes.Buffer
	pw  *pcapgen.PacketWriter
	ts  time.Time
}

func newPcap(tb testing.TB, f pcapgen.Format) *pcapWriter {
	w := &pcapWriter{tb: tb, buf: &bytes.Buffer{}, ts: t0}
	pw, err := pcapgen.NewPacketWriter(w.buf, f, pcapgen.LinkEthernet)
	if err != nil {
		tb.Fatal(err)
	}
	w.pw = pw
	return w
}

func (w *pcapWriter) seg(s *pcapgen.Segment) {
	w.ts = w.ts.Add(10 * time.Microsecond)
	s.TS = w.ts
	if err := w.pw.WriteTCP(s); err != nil {
		w.tb.Fatal(err)
	}
}

func (w *pcapWriter) conn(cli, srv string, client, server []byte, closeIt bool) {
	c, s := netip.MustParseAddrPort(cli), netip.MustParseAddrPort(srv)
	cs, ss := uint32(1000), uint32(5000)
	w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: cs - 1, Flags: pcapgen.SYN})
	w.seg(&pcapgen.Segment{Src: s, Dst: c, Seq: ss - 1, Ack: cs, Flags: pcapgen.SYN | pcapgen.ACK})
	w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: cs, Ack: ss, Flags: pcapgen.ACK})
	send := func(from, to netip.AddrPort, seq *uint32, ack uint32, data []byte) {
		for len(data) > 0 {
			n := min(len(data), 1400)
			w.seg(&pcapgen.Segment{Src: from, Dst: to, Seq: *seq, Ack: ack, Flags: pcapgen.ACK | pcapgen.PSH, Payload: data[:n]})
			*seq += uint32(n)
			data = data[n:]
		}
	}
	send(c, s, &cs, ss, client)
	send(s, c, &ss, cs, server)
	if closeIt {
		w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: cs, Ack: ss, Flags: pcapgen.FIN | pcapgen.ACK})
		w.seg(&pcapgen.Segment{Src: s, Dst: c, Seq: ss, Ack: cs + 1, Flags: pcapgen.FIN | pcapgen.ACK})
		w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: cs + 1, Ack: ss + 1, Flags: pcapgen.ACK})
	}
}

func (w *pcapWriter) bytes() []byte {
	if err := w.pw.Flush(); err != nil {
		w.tb.Fatal(err)
	}
	return w.buf.Bytes()
}

const tokenReq = "POST /token HTTP/1.1\r\nHost: as.hostile.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials"

func jsonResp(body string, extra ...string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + strings.Join(extra, "") + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func pcapValid(tb testing.TB, f pcapgen.Format) []byte {
	w := newPcap(tb, f)
	w.conn("10.0.0.1:50000", "10.0.0.2:80", []byte(tokenReq), []byte(jsonResp(`{"access_token":"hostile-pcap-at-0123456789","token_type":"Bearer"}`)), true)
	w.conn("10.0.0.1:50001", "10.0.0.2:80", []byte(tokenReq), []byte(jsonResp(`{"access_token":"hostile-pcap-at-9876543210","token_type":"Bearer"}`)), true)
	return w.bytes()
}

// pcapTruncated ends inside the packet that carries the second
// connection's response.
func pcapTruncated(tb testing.TB) []byte {
	b := pcapValid(tb, pcapgen.FormatPcap)
	return b[:bytes.Index(b, []byte("9876543210"))]
}

func pcapngTruncated(tb testing.TB) []byte {
	b := pcapValid(tb, pcapgen.FormatPcapng)
	return b[:bytes.Index(b, []byte("9876543210"))]
}

// pcapBadCaplen: a record header claiming a 4 GiB packet.
func pcapBadCaplen(tb testing.TB) []byte {
	b := append([]byte(nil), pcapValid(tb, pcapgen.FormatPcap)...)
	// The first record header starts at 24: ts(8), incl_len(4), orig_len(4).
	binary.LittleEndian.PutUint32(b[24+8:], 0xFFFFFF00)
	binary.LittleEndian.PutUint32(b[24+12:], 0xFFFFFF00)
	return b
}

// pcapngBadBlock: the block after the section header claims 4 GiB.
func pcapngBadBlock(tb testing.TB) []byte {
	b := append([]byte(nil), pcapValid(tb, pcapgen.FormatPcapng)...)
	shb := binary.LittleEndian.Uint32(b[4:])
	binary.LittleEndian.PutUint32(b[shb+4:], 0xFFFFFFF0)
	return b
}

func pcapHTTP(tb testing.TB, client, server string, closeIt bool) []byte {
	w := newPcap(tb, pcapgen.FormatPcap)
	w.conn("10.0.0.1:50000", "10.0.0.2:80", []byte(client), []byte(server), closeIt)
	return w.bytes()
}

func pcapContentLength4G(tb testing.TB) []byte {
	return pcapHTTP(tb, "POST /token HTTP/1.1\r\nHost: as.hostile.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4294967296\r\n\r\ngrant_type=client_credentials",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18446744073709551615\r\n\r\n{\"access_token\":\"x\"}", true)
}

func pcapHeaders(tb testing.TB, n int) []byte {
	var b strings.Builder
	b.WriteString("GET /mcp HTTP/1.1\r\nHost: mcp.hostile.test\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("X-H" + strconv.Itoa(i) + ": v\r\n")
	}
	b.WriteString("\r\n")
	return pcapHTTP(tb, b.String()+tokenReq, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"+jsonResp(`{"access_token":"x"}`), true)
}

func pcapInvalidUTF8(tb testing.TB) []byte {
	bad := "\xff\xfe\xc3\x28"
	return pcapHTTP(tb, "GET /p"+bad+"?state="+bad+" HTTP/1.1\r\nHost: h"+bad+".test\r\nX-"+bad+": "+bad+"\r\n\r\n",
		"HTTP/1.1 401 "+bad+"\r\nWWW-Authenticate: Bearer realm=\""+bad+"\"\r\nContent-Length: 4\r\n\r\n"+bad, true)
}

func pcapChunkOverflow(tb testing.TB) []byte {
	return pcapHTTP(tb, tokenReq,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n{\"a\":1}\r\n0\r\n\r\n", true)
}

func pcapGzipBomb(tb testing.TB, total int64) []byte {
	body := bomb(tb, "gzip", total)
	return pcapHTTP(tb, tokenReq, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body), true)
}

// pcapConnFlood writes n connections that open, send payload and never
// close: the reader holds each until it gives up on it.
func pcapConnFlood(tb testing.TB, n int, payload string) []byte {
	w := newPcap(tb, pcapgen.FormatPcap)
	for i := 0; i < n; i++ {
		cli := fmt.Sprintf("10.%d.%d.%d:%d", 1+i>>16&0xff, i>>8&0xff, i&0xff, 40000+i%20000)
		c, s := netip.MustParseAddrPort(cli), netip.MustParseAddrPort("10.0.0.2:80")
		w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: 999, Flags: pcapgen.SYN})
		w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: 1000, Flags: pcapgen.ACK | pcapgen.PSH, Payload: []byte(payload)})
	}
	return w.bytes()
}

// floodHead is the start of a request head that never ends; floodToken a
// whole token request head whose body never comes.
const (
	floodHead  = "GET /pixel.gif HTTP/1.1\r\nHost: cdn.hostile.test\r\nUser-Agent: x"
	floodToken = "POST /token HTTP/1.1\r\nHost: as.hostile.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type="
)

// pcapOOOFlood: one connection whose client sends 200k one-byte segments
// ahead of a hole that is never filled.
func pcapOOOFlood(tb testing.TB, n int) []byte {
	w := newPcap(tb, pcapgen.FormatPcap)
	c, s := netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")
	w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: 999, Flags: pcapgen.SYN})
	w.seg(&pcapgen.Segment{Src: s, Dst: c, Seq: 4999, Ack: 1000, Flags: pcapgen.SYN | pcapgen.ACK})
	for i := 0; i < n; i++ {
		w.seg(&pcapgen.Segment{Src: c, Dst: s, Seq: uint32(1000 + 10 + 2*i), Ack: 5000, Flags: pcapgen.ACK, Payload: []byte{'x'}})
	}
	return w.bytes()
}

// ---------------------------------------------------------------- rules

// ruleFile is a custom rule whose condition is cond.
func ruleFile(id, cond string) string {
	return "id: " + id + "\nengine: 1\ntitle: hostile rule\nlevel: MUST\nseverity: high\nparty: client\npacks: [hostile]\napplies-to: [flow]\n" +
		"condition: " + jsonStr(cond) + "\nmessage: m\nfix: f\nreferences: [\"none\"]\n"
}

func yamlBomb() string {
	return "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" +
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\nid: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
