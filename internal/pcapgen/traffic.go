package pcapgen

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Options describe the capture to generate.
type Options struct {
	Seed uint64
	// Size is the capture size to reach, in bytes (the last batch may
	// overshoot a little). 0 means 8 MiB.
	Size   int64
	Format Format
	Link   Link
	Impair Impair
	// OAuthShare is the share of batches that are OAuth/MCP flows (the
	// rest is noise); 0 means 0.25.
	OAuthShare float64
	// IPv6 puts part of the traffic on IPv6.
	IPv6 bool
	// Start is the capture's first timestamp (default 2026-03-02 09:00 UTC).
	Start time.Time
	// HAR, when set, receives the same exchanges as a HAR file.
	HAR io.Writer
}

// Stats describe what was generated.
type Stats struct {
	Bytes      int64
	Packets    int64
	Exchanges  int
	OAuthFlows int
	Batches    int
}

// Generator holds the random source and the body pools.
type Generator struct {
	rng    *rand.Rand
	cache  map[string][]byte
	Impair Impair
	pools  map[string][][]byte
	ports  map[netip.Addr]uint16
	nflow  int
	opts   Options
	now    time.Time
}

// New returns a generator for a seed.
func New(seed uint64) *Generator {
	g := &Generator{
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cache: map[string][]byte{},
		ports: map[netip.Addr]uint16{},
		now:   time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	}
	g.buildPools()
	return g
}

// Rand exposes the generator's random source (deterministic per seed).
func (g *Generator) Rand() *rand.Rand { return g.rng }

// Batch starts a batch of overlapping connections at t.
func (g *Generator) Batch(t time.Time) *Batch { return &Batch{b: &batch{g: g, start: t, end: t}} }

// Batch is the exported handle on a batch (tests build traffic with it).
type Batch struct{ b *batch }

// Do performs e on c not before at and returns when it ended.
func (b *Batch) Do(c *Conn, e *Exchange, at time.Time) time.Time { return b.b.Do(c, e, at) }

// Pipeline sends es back to back on c, then their responses.
func (b *Batch) Pipeline(c *Conn, es []*Exchange, at time.Time) time.Time {
	return b.b.Pipeline(c, es, at)
}

// Raw sends opaque bytes (a non-HTTP protocol) on c.
func (b *Batch) Raw(c *Conn, fromClient bool, data []byte, at time.Time) time.Time {
	t := b.b.open(c, at)
	t, _ = c.send(fromClient, data, t, 12*time.Microsecond)
	c.freeAt = t
	b.b.advance(t)
	return t
}

// UDP adds a datagram.
func (b *Batch) UDP(ts time.Time, src, dst netip.AddrPort, payload []byte) {
	b.b.udp = append(b.b.udp, udpPkt{ts, src, dst, payload})
	b.b.advance(ts)
}

// End is the time the batch's last packet is sent.
func (b *Batch) End() time.Time { return b.b.end }

// Write closes the batch's connections, writes its packets and returns its
// exchanges in request-start order (Start and StartFrame filled).
func (b *Batch) Write(pw *PacketWriter) ([]*Exchange, error) {
	if err := b.b.flush(pw); err != nil {
		return nil, err
	}
	return b.b.exs, nil
}

// ClientPort returns the next ephemeral port of a client address.
func (g *Generator) ClientPort(a netip.Addr) uint16 {
	p := g.ports[a]
	if p < 40000 || p >= 60000 {
		p = 40000 + uint16(g.rng.IntN(1000))
	}
	p++
	g.ports[a] = p
	return p
}

// Generate writes a capture (and the HAR of the same traffic) to w.
func Generate(w io.Writer, opts Options) (*Stats, error) {
	if opts.Size <= 0 {
		opts.Size = 8 << 20
	}
	if opts.OAuthShare <= 0 {
		opts.OAuthShare = 0.25
	}
	g := New(opts.Seed)
	g.Impair = opts.Impair
	g.opts = opts
	if !opts.Start.IsZero() {
		g.now = opts.Start
	}
	cw := &countWriter{w: w}
	pw, err := NewPacketWriter(cw, opts.Format, opts.Link)
	if err != nil {
		return nil, err
	}
	var hw *HARWriter
	if opts.HAR != nil {
		hw = NewHARWriter(opts.HAR)
	}
	st := &Stats{}
	for cw.n < opts.Size {
		b := g.Batch(g.now)
		if g.rng.Float64() < opts.OAuthShare {
			g.oauthFlow(b)
			st.OAuthFlows++
		} else {
			g.noise(b)
		}
		exs, err := b.Write(pw)
		if err != nil {
			return nil, err
		}
		if err := pw.Flush(); err != nil {
			return nil, err
		}
		st.Exchanges += len(exs)
		st.Batches++
		if hw != nil {
			if err := hw.Write(exs); err != nil {
				return nil, err
			}
		}
		g.now = b.End().Add(time.Duration(1+g.rng.IntN(200)) * time.Millisecond)
	}
	if err := pw.Flush(); err != nil {
		return nil, err
	}
	if hw != nil {
		if err := hw.Close(); err != nil {
			return nil, err
		}
	}
	st.Bytes, st.Packets = cw.n, pw.Frames
	return st, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Addresses of the simulated hosts.
var (
	clientIP  = netip.MustParseAddr("10.1.0.10")
	clientIP6 = netip.MustParseAddr("fd00:1::10")
)

func (g *Generator) serverIP(n int, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0xfd, 0, 0, 2, 15: byte(n)})
	}
	return netip.AddrFrom4([4]byte{10, 2, byte(n >> 8), byte(n)})
}

func (g *Generator) conn(client netip.Addr, server netip.AddrPort) *Conn {
	c := &Conn{Client: netip.AddrPortFrom(client, g.ClientPort(client)), Server: server}
	c.RTT = time.Duration(100+g.rng.IntN(20000)) * time.Microsecond
	if server.Addr() == client {
		c.RTT = 50 * time.Microsecond
		c.MSS = 65483 // loopback
	}
	return c
}

// --- OAuth / MCP flows -----------------------------------------------------

func (g *Generator) randToken(n int) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[g.rng.IntN(len(alpha))]
	}
	return string(b)
}

func nodeHeaders(host string, extra ...Header) []Header {
	h := []Header{{"host", host}, {"connection", "keep-alive"}}
	h = append(h, extra...)
	return append(h, Header{"accept-language", "*"}, Header{"sec-fetch-mode", "cors"}, Header{"user-agent", "node"}, Header{"accept-encoding", "gzip, deflate"})
}

func browserHeaders(host string) []Header {
	return []Header{{"Host", host}, {"Connection", "keep-alive"},
		{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"Accept-Language", "en-US,en;q=0.5"}, {"Accept-Encoding", "gzip, deflate, br, zstd"}}
}

func expressHeaders(ct string) []Header {
	h := []Header{{"X-Powered-By", "Express"}}
	if ct != "" {
		h = append(h, Header{"Content-Type", ct})
	}
	return append(h, Header{"Date", "Mon, 02 Mar 2026 09:00:00 GMT"}, Header{"Connection", "keep-alive"}, Header{"Keep-Alive", "timeout=5"})
}

// oauthFlow writes one MCP authorization: 401 challenge, PRM and AS
// metadata discovery, dynamic client registration, the browser's
// authorization request and callback, the token request and MCP calls,
// with per-flow variations that real clients show (no state, plain PKCE,
// no resource indicator, …).
func (g *Generator) oauthFlow(bt *Batch) {
	b := bt.b
	g.nflow++
	n := g.nflow
	r := g.rng
	v6 := g.opts.IPv6 && r.IntN(4) == 0
	cip := clientIP
	if v6 {
		cip = clientIP6
	}
	rsAddr := netip.AddrPortFrom(g.serverIP(1+n%200, v6), 80)
	asAddr := netip.AddrPortFrom(g.serverIP(300+n%200, v6), 8080)
	cbAddr := netip.AddrPortFrom(cip, 8088)
	rsHost := fmt.Sprintf("mcp%d.example.test", n%200)
	asHost := fmt.Sprintf("auth%d.example.test:8080", n%200)
	rs := "http://" + rsHost
	as := "http://" + asHost
	resource := rs + "/mcp"
	redirect := "http://localhost:8088/callback"
	version := []string{"2025-11-25", "2025-06-18", "2025-03-26"}[r.IntN(3)]
	clientID := "client-" + g.randToken(12)
	verifier := g.randToken(43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	method := "S256"
	switch r.IntN(20) {
	case 0:
		method = "plain"
		challenge = verifier
	case 1:
		method = ""
	}
	withState := r.IntN(5) != 0
	withResource := r.IntN(7) != 0
	state := g.randToken(22)
	code := g.randToken(32)
	access := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"user-%d","exp":1772445600}`, as, resource, n))) + "." + g.randToken(43)
	refresh := g.randToken(40)
	scope := "mcp:tools mcp:resources"

	c1 := g.conn(cip, rsAddr) // MCP client → RS
	c2 := g.conn(cip, asAddr) // MCP client → AS
	c3 := g.conn(cip, asAddr) // browser → AS
	c4 := g.conn(cip, cbAddr) // browser → client's callback listener
	if r.IntN(3) == 0 {
		c1.Close = "rst"
	}
	t := b.start
	gap := func() time.Duration { return time.Duration(300+r.IntN(3000)) * time.Microsecond }
	json := "application/json; charset=utf-8"
	initBody := fmt.Sprintf(`{"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"simple-oauth-client","version":"1.0.0"}},"jsonrpc":"2.0","id":0}`, version)
	t = b.Do(c1, &Exchange{Method: "POST", Target: "/mcp",
		ReqHeaders: nodeHeaders(rsHost, Header{"content-type", "application/json"}, Header{"accept", "application/json, text/event-stream"}),
		ReqBody:    []byte(initBody), Status: 401, Reason: "Unauthorized",
		RespHeaders: append([]Header{{"X-Powered-By", "Express"}, {"WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="%s/.well-known/oauth-protected-resource/mcp", scope="%s"`, rs, scope)}}, expressHeaders(json)[1:]...),
		RespBody:    []byte(`{"error":"invalid_token","error_description":"Missing Authorization header"}`)}, t).Add(gap())
	prm := fmt.Sprintf(`{"resource":%q,"authorization_servers":[%q],"scopes_supported":["mcp:tools","mcp:resources"],"bearer_methods_supported":["header"]}`, resource, as)
	t = b.Do(c1, &Exchange{Method: "GET", Target: "/.well-known/oauth-protected-resource/mcp",
		ReqHeaders: nodeHeaders(rsHost, Header{"MCP-Protocol-Version", version}, Header{"accept", "*/*"}),
		Status:     200, Reason: "OK", RespHeaders: expressHeaders(json), RespBody: []byte(prm)}, t).Add(gap())
	meta := fmt.Sprintf(`{"issuer":%q,"authorization_endpoint":"%s/authorize","token_endpoint":"%s/token","registration_endpoint":"%s/register","response_types_supported":["code"],"grant_types_supported":["authorization_code","refresh_token"],"code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["none","client_secret_post"],"scopes_supported":["mcp:tools","mcp:resources","offline_access"]}`, as, as, as, as)
	metaEx := &Exchange{Method: "GET", Target: "/.well-known/oauth-authorization-server",
		ReqHeaders: nodeHeaders(asHost, Header{"MCP-Protocol-Version", version}, Header{"Accept", "application/json"}),
		Status:     200, Reason: "OK", RespHeaders: expressHeaders(json), RespBody: []byte(meta)}
	if r.IntN(3) == 0 {
		metaEx.RespCoding = "gzip"
		metaEx.RespChunked = true
	}
	t = b.Do(c2, metaEx, t).Add(gap())
	reg := fmt.Sprintf(`{"client_name":"Simple OAuth MCP Client","redirect_uris":[%q],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`, redirect)
	t = b.Do(c2, &Exchange{Method: "POST", Target: "/register",
		ReqHeaders: nodeHeaders(asHost, Header{"Content-Type", "application/json"}, Header{"accept", "*/*"}),
		ReqBody:    []byte(reg), Status: 201, Reason: "Created", RespHeaders: expressHeaders(json),
		RespBody: []byte(fmt.Sprintf(`{"client_id":%q,"client_id_issued_at":1772442000,"client_name":"Simple OAuth MCP Client","redirect_uris":[%q],"token_endpoint_auth_method":"none"}`, clientID, redirect))}, t).Add(gap())
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	if method != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", method)
	}
	q.Set("redirect_uri", redirect)
	if withState {
		q.Set("state", state)
	}
	q.Set("scope", scope)
	if withResource {
		q.Set("resource", resource)
	}
	loc := redirect + "?code=" + code
	if withState {
		loc += "&state=" + state
	}
	t = b.Do(c3, &Exchange{Method: "GET", Target: "/authorize?" + q.Encode(), ReqHeaders: browserHeaders(asHost),
		Status: 302, Reason: "Found", RespHeaders: append([]Header{{"X-Powered-By", "Express"}, {"Location", loc}, {"Vary", "Accept"}}, expressHeaders("text/html; charset=utf-8")[1:]...),
		RespBody: []byte("<!DOCTYPE html><head><title>Found</title></head><body><p>Found. Redirecting to " + loc + "</p></body>")}, t).Add(gap())
	cbTarget := loc[len("http://localhost:8088"):]
	t = b.Do(c4, &Exchange{Method: "GET", Target: cbTarget, ReqHeaders: browserHeaders("localhost:8088"),
		Status: 200, Reason: "OK", RespHeaders: []Header{{"Content-Type", "text/html"}, {"Date", "Mon, 02 Mar 2026 09:00:01 GMT"}, {"Connection", "keep-alive"}}, RespChunked: true,
		RespBody: []byte("<html><body><h1>Authorization Successful!</h1><p>You can close this window and return to the terminal.</p></body></html>")}, t).Add(gap())
	form := url.Values{}
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	if method != "" {
		form.Set("code_verifier", verifier)
	}
	form.Set("redirect_uri", redirect)
	if withResource {
		form.Set("resource", resource)
	}
	form.Set("client_id", clientID)
	tokEx := &Exchange{Method: "POST", Target: "/token",
		ReqHeaders: nodeHeaders(asHost, Header{"Content-Type", "application/x-www-form-urlencoded"}, Header{"Accept", "application/json"}),
		ReqBody:    []byte(form.Encode()), Status: 200, Reason: "OK",
		RespHeaders: append(expressHeaders(json), Header{"Cache-Control", "no-store"}),
		RespBody:    []byte(fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":3600,"refresh_token":%q,"scope":%q}`, access, refresh, scope))}
	switch r.IntN(4) {
	case 0:
		tokEx.RespCoding = "gzip"
	case 1:
		tokEx.RespCoding = "br"
	}
	t = b.Do(c2, tokEx, t).Add(gap())
	auth := Header{"Authorization", "Bearer " + access}
	sse := []Header{{"X-Powered-By", "Express"}, {"cache-control", "no-cache, no-transform"}, {"connection", "keep-alive"}, {"content-type", "text/event-stream"}, {"Date", "Mon, 02 Mar 2026 09:00:01 GMT"}}
	t = b.Do(c1, &Exchange{Method: "POST", Target: "/mcp",
		ReqHeaders: nodeHeaders(rsHost, auth, Header{"content-type", "application/json"}, Header{"accept", "application/json, text/event-stream"}),
		ReqBody:    []byte(strings.Replace(initBody, `"id":0`, `"id":1`, 1)), Status: 200, Reason: "OK", RespHeaders: sse,
		RespBody: []byte(fmt.Sprintf("event: message\ndata: {\"result\":{\"protocolVersion\":%q,\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"example-server\",\"version\":\"1.0.0\"}},\"jsonrpc\":\"2.0\",\"id\":1}\n\n", version))}, t).Add(gap())
	t = b.Do(c1, &Exchange{Method: "POST", Target: "/mcp",
		ReqHeaders: nodeHeaders(rsHost, auth, Header{"mcp-protocol-version", version}, Header{"content-type", "application/json"}, Header{"accept", "application/json, text/event-stream"}),
		ReqBody:    []byte(`{"method":"notifications/initialized","jsonrpc":"2.0"}`), Status: 202, Reason: "Accepted",
		RespHeaders: expressHeaders(""), RespChunked: true}, t).Add(gap())
	calls := 1 + r.IntN(4)
	for i := 0; i < calls; i++ {
		ex := &Exchange{Method: "POST", Target: "/mcp",
			ReqHeaders: nodeHeaders(rsHost, auth, Header{"mcp-protocol-version", version}, Header{"content-type", "application/json"}, Header{"accept", "application/json, text/event-stream"}),
			ReqBody:    []byte(fmt.Sprintf(`{"method":"tools/call","params":{"name":"search","arguments":{"q":%q}},"jsonrpc":"2.0","id":%d}`, g.randToken(8), i+2)),
			Status:     200, Reason: "OK", RespHeaders: sse,
			RespBody: []byte(fmt.Sprintf("event: message\ndata: {\"result\":{\"content\":[{\"type\":\"text\",\"text\":%q}]},\"jsonrpc\":\"2.0\",\"id\":%d}\n\n", strings.Repeat("lorem ipsum ", 20+r.IntN(400)), i+2))}
		if r.IntN(3) == 0 {
			ex.RespCoding = "gzip"
		}
		t = b.Do(c1, ex, t).Add(gap())
	}
	if r.IntN(3) == 0 {
		rf := url.Values{}
		rf.Set("grant_type", "refresh_token")
		rf.Set("refresh_token", refresh)
		rf.Set("client_id", clientID)
		if withResource {
			rf.Set("resource", resource)
		}
		b.Do(c2, &Exchange{Method: "POST", Target: "/token",
			ReqHeaders: nodeHeaders(asHost, Header{"Content-Type", "application/x-www-form-urlencoded"}, Header{"Accept", "application/json"}),
			ReqBody:    []byte(rf.Encode()), Status: 200, Reason: "OK",
			RespHeaders: append(expressHeaders(json), Header{"Cache-Control", "no-store"}),
			RespBody:    []byte(fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":3600,"scope":%q}`, access+"2", scope))}, t)
	}
	// Some background noise inside the flow's time span.
	g.udpNoise(bt, b.start, 2+r.IntN(4))
}

// --- noise ---------------------------------------------------------------

func (g *Generator) buildPools() {
	words := strings.Fields("the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua function return var const let div span class id href src window document")
	text := func(n int, prefix, sep string) []byte {
		var b strings.Builder
		b.WriteString(prefix)
		for b.Len() < n {
			b.WriteString(words[g.rng.IntN(len(words))])
			b.WriteString(sep)
		}
		return []byte(b.String())
	}
	bin := func(n int, magic string) []byte {
		b := make([]byte, n)
		for i := 0; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], g.rng.Uint64())
		}
		copy(b, magic)
		return b
	}
	g.pools = map[string][][]byte{}
	for i := 0; i < 6; i++ {
		g.pools["html"] = append(g.pools["html"], text(20000+g.rng.IntN(60000), "<!DOCTYPE html><html><head><title>Example</title></head><body>", " <p>"))
		g.pools["js"] = append(g.pools["js"], text(60000+g.rng.IntN(200000), "\"use strict\";", "();\n"))
		g.pools["css"] = append(g.pools["css"], text(8000+g.rng.IntN(30000), "body{margin:0}", "{color:#333}\n"))
		g.pools["json"] = append(g.pools["json"], []byte(`{"items":[`+strings.TrimSuffix(strings.Repeat(`{"id":1,"name":"item","tags":["a","b"]},`, 20+g.rng.IntN(150)), ",")+`]}`))
		g.pools["png"] = append(g.pools["png"], bin(5000+g.rng.IntN(150000), "\x89PNG\r\n\x1a\n"))
		g.pools["woff2"] = append(g.pools["woff2"], bin(30000+g.rng.IntN(40000), "wOF2"))
	}
	g.pools["bin"] = [][]byte{bin(1<<20, "PK\x03\x04"), bin(3<<20, "PK\x03\x04")}
}

func (g *Generator) pick(kind string) (int, []byte) {
	p := g.pools[kind]
	i := g.rng.IntN(len(p))
	return i, p[i]
}

// noise writes a page load (several parallel keep-alive connections to a
// web server), and sometimes pipelined API calls, a download, uploads with
// 100-continue, TLS and non-HTTP connections.
func (g *Generator) noise(bt *Batch) {
	b := bt.b
	r := g.rng
	n := r.IntN(50)
	v6 := g.opts.IPv6 && r.IntN(4) == 0
	cip := clientIP
	if v6 {
		cip = clientIP6
	}
	port := uint16(80)
	if r.IntN(3) == 0 {
		port = 8080
	}
	srv := netip.AddrPortFrom(g.serverIP(600+n, v6), port)
	host := fmt.Sprintf("www%d.example.test", n)
	if port != 80 {
		host += fmt.Sprintf(":%d", port)
	}
	start := b.start
	bh := func() []Header { return browserHeaders(host) }
	ok := func(ct string, extra ...Header) []Header {
		h := []Header{{"Server", "nginx/1.24.0"}, {"Date", "Mon, 02 Mar 2026 09:00:00 GMT"}, {"Content-Type", ct}}
		h = append(h, extra...)
		return append(h, Header{"Connection", "keep-alive"})
	}
	// The page.
	main := g.conn(cip, srv)
	hi, html := g.pick("html")
	page := &Exchange{Method: "GET", Target: "/", ReqHeaders: bh(), Status: 200, Reason: "OK",
		RespHeaders: ok("text/html; charset=utf-8", Header{"Vary", "Accept-Encoding"}), RespBody: html, BodyKey: fmt.Sprint("html", hi)}
	page.RespCoding = []string{"gzip", "br", "zstd", "deflate"}[r.IntN(4)]
	page.RespChunked = r.IntN(2) == 0
	t := b.Do(main, page, start)
	// Sub-resources over up to 6 connections.
	conns := []*Conn{main}
	for i := 1 + r.IntN(5); i > 0; i-- {
		conns = append(conns, g.conn(cip, srv))
	}
	nres := 4 + r.IntN(16)
	for i := 0; i < nres; i++ {
		c := conns[i%len(conns)]
		var e *Exchange
		switch k := r.IntN(10); {
		case k < 3:
			pi, js := g.pick("js")
			e = &Exchange{Method: "GET", Target: fmt.Sprintf("/static/app.%d.js", pi), ReqHeaders: bh(), Status: 200, Reason: "OK",
				RespHeaders: ok("application/javascript", Header{"Cache-Control", "max-age=31536000"}), RespBody: js, BodyKey: fmt.Sprint("js", pi), RespCoding: "gzip"}
		case k < 4:
			pi, css := g.pick("css")
			e = &Exchange{Method: "GET", Target: fmt.Sprintf("/static/site.%d.css", pi), ReqHeaders: bh(), Status: 200, Reason: "OK",
				RespHeaders: ok("text/css"), RespBody: css, BodyKey: fmt.Sprint("css", pi), RespCoding: "br"}
		case k < 7:
			pi, png := g.pick("png")
			e = &Exchange{Method: "GET", Target: fmt.Sprintf("/img/%d.png", pi), ReqHeaders: bh(), Status: 200, Reason: "OK",
				RespHeaders: ok("image/png", Header{"ETag", fmt.Sprintf(`"%x"`, pi)}), RespBody: png}
			if r.IntN(4) == 0 {
				e.ReqHeaders = append(e.ReqHeaders, Header{"If-None-Match", fmt.Sprintf(`"%x"`, pi)})
				e.Status, e.Reason, e.RespBody = 304, "Not Modified", nil
				e.RespHeaders = []Header{{"Server", "nginx/1.24.0"}, {"ETag", fmt.Sprintf(`"%x"`, pi)}}
			}
		case k < 8:
			pi, font := g.pick("woff2")
			e = &Exchange{Method: "GET", Target: fmt.Sprintf("/fonts/%d.woff2", pi), ReqHeaders: bh(), Status: 200, Reason: "OK",
				RespHeaders: ok("font/woff2"), RespBody: font}
		default:
			pi, js := g.pick("json")
			e = &Exchange{Method: "GET", Target: fmt.Sprintf("/api/items?page=%d&q=%s", r.IntN(100), g.randToken(6)), ReqHeaders: append(bh()[:2], Header{"Accept", "application/json"}),
				Status: 200, Reason: "OK", RespHeaders: ok("application/json"), RespBody: js, BodyKey: fmt.Sprint("json", pi)}
			if r.IntN(2) == 0 {
				e.RespCoding, e.RespChunked = "gzip", true
			}
		}
		b.Do(c, e, t.Add(time.Duration(r.IntN(2000))*time.Microsecond))
	}
	switch r.IntN(8) {
	case 0: // pipelined API calls
		c := g.conn(cip, srv)
		var es []*Exchange
		for i := 0; i < 2+r.IntN(4); i++ {
			pi, js := g.pick("json")
			es = append(es, &Exchange{Method: "GET", Target: fmt.Sprintf("/api/v1/feed/%d", i), ReqHeaders: []Header{{"Host", host}, {"Accept", "application/json"}, {"User-Agent", "curl/8.5.0"}},
				Status: 200, Reason: "OK", RespHeaders: ok("application/json"), RespBody: js, BodyKey: fmt.Sprint("json", pi)})
		}
		b.Pipeline(c, es, t)
	case 1: // HEAD, then a download
		c := g.conn(cip, srv)
		bi, bin := 0, g.pools["bin"][0]
		if r.IntN(4) == 0 {
			bi, bin = 1, g.pools["bin"][1]
		}
		t2 := b.Do(c, &Exchange{Method: "HEAD", Target: fmt.Sprintf("/downloads/tool-%d.zip", bi), ReqHeaders: bh(), Status: 200, Reason: "OK",
			RespHeaders: ok("application/zip"), RespBody: bin}, t)
		b.Do(c, &Exchange{Method: "GET", Target: fmt.Sprintf("/downloads/tool-%d.zip", bi), ReqHeaders: bh(), Status: 200, Reason: "OK",
			RespHeaders: ok("application/zip"), RespBody: bin}, t2)
	case 2: // upload with Expect: 100-continue
		c := g.conn(cip, srv)
		_, png := g.pick("png")
		b.Do(c, &Exchange{Method: "POST", Target: "/upload", ExpectContinue: true,
			ReqHeaders: []Header{{"Host", host}, {"User-Agent", "curl/8.5.0"}, {"Accept", "*/*"}, {"Content-Type", "image/png"}},
			ReqBody:    png, Status: 201, Reason: "Created", RespHeaders: ok("application/json"), RespBody: []byte(`{"ok":true}`)}, t)
	case 3: // a TLS connection
		g.tlsConn(bt, cip, v6, t)
	case 4: // a non-HTTP protocol
		c := g.conn(cip, netip.AddrPortFrom(g.serverIP(900+n, v6), 5432))
		t2 := bt.Raw(c, true, g.pools["woff2"][0][:300], t)
		bt.Raw(c, false, g.pools["png"][0][:2000], t2)
	case 5: // an old-style server closing the connection after the body
		c := g.conn(cip, srv)
		pi, js := g.pick("json")
		b.Do(c, &Exchange{Method: "GET", Target: "/legacy/report", ReqHeaders: bh(), Status: 200, Reason: "OK",
			RespHeaders: []Header{{"Server", "legacy/0.9"}, {"Content-Type", "application/json"}}, RespBody: js, BodyKey: fmt.Sprint("json", pi), RespUntilClose: true}, t)
	}
	g.udpNoise(bt, start, 1+r.IntN(3))
}

// tlsConn writes a TLS 1.3 connection: a ClientHello with SNI, a server
// flight and application data records of random bytes.
func (g *Generator) tlsConn(bt *Batch, cip netip.Addr, v6 bool, t time.Time) {
	sni := fmt.Sprintf("api%d.example.test", g.rng.IntN(100))
	c := g.conn(cip, netip.AddrPortFrom(g.serverIP(950+g.rng.IntN(40), v6), 443))
	t = bt.Raw(c, true, ClientHello(sni, "h2", g.rng), t)
	flight := tlsRecord(0x16, g.pools["png"][1][:1200])
	flight = append(flight, tlsRecord(0x17, g.pools["png"][2][:3000])...)
	t = bt.Raw(c, false, flight, t.Add(c.RTT))
	t = bt.Raw(c, true, tlsRecord(0x17, g.pools["png"][3][:400]), t.Add(c.RTT))
	bt.Raw(c, false, tlsRecord(0x17, g.pools["png"][4][:5000]), t.Add(c.RTT))
}

func tlsRecord(typ byte, payload []byte) []byte {
	b := []byte{typ, 3, 3, byte(len(payload) >> 8), byte(len(payload))}
	return append(b, payload...)
}

// ClientHello builds a TLS 1.3 ClientHello record with SNI and ALPN.
func ClientHello(sni, alpn string, r *rand.Rand) []byte {
	var ext []byte
	// server_name
	name := []byte(sni)
	sn := []byte{0, 0}
	list := append([]byte{0, byte(len(name) >> 8), byte(len(name))}, name...)
	sn = binary.BigEndian.AppendUint16(sn[:0], 0)
	sn = binary.BigEndian.AppendUint16(sn, uint16(len(list)+2))
	sn = binary.BigEndian.AppendUint16(sn, uint16(len(list)))
	sn = append(sn, list...)
	ext = append(ext, sn...)
	// ALPN
	ap := append([]byte{byte(len(alpn))}, alpn...)
	ext = binary.BigEndian.AppendUint16(ext, 16)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(ap)+2))
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(ap)))
	ext = append(ext, ap...)
	// supported_versions: TLS 1.3
	ext = append(ext, 0, 43, 0, 3, 2, 3, 4)
	var body []byte
	body = append(body, 3, 3)
	random := make([]byte, 32)
	for i := range random {
		random[i] = byte(r.IntN(256))
	}
	body = append(body, random...)
	body = append(body, 32)
	body = append(body, random...)                       // session id
	body = append(body, 0, 6, 0x13, 1, 0x13, 2, 0x13, 3) // cipher suites
	body = append(body, 1, 0)                            // compression: null
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return tlsRecord(0x16, hs)
}

// udpNoise adds DNS-looking datagrams.
func (g *Generator) udpNoise(bt *Batch, t time.Time, n int) {
	for i := 0; i < n; i++ {
		q := make([]byte, 40)
		for j := range q {
			q[j] = byte(g.rng.IntN(256))
		}
		ts := t.Add(time.Duration(g.rng.IntN(5000)) * time.Microsecond)
		bt.UDP(ts, netip.AddrPortFrom(clientIP, 53000+uint16(g.rng.IntN(1000))), netip.AddrPortFrom(netip.MustParseAddr("10.0.0.53"), 53), q)
	}
}
