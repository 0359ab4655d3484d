package har

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture"
)

// The fixtures in testdata are written the way each tool writes HAR files
// (testdata/README.md and testdata/gen describe how). These tests pin what
// the reader makes of every entry.

var png1x1, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// want describes one exchange. status 0 means "no response".
type want struct {
	entry  int
	method string
	url    string
	status int
	start  string // ex.Start formatted as RFC 3339 with its zone
	gaps   []capture.GapKind
	check  func(t *testing.T, ex *capture.Exchange)
}

type wantFile struct {
	file      string
	creator   Creator
	browser   Creator
	entries   int
	sanitized bool
	warnings  []string // substrings, one per warning, in order
	exchanges []want
}

const (
	chromeInit = `{"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":{},"elicitation":{},"roots":{"listChanged":true}},"clientInfo":{"name":"mcp-inspector","version":"0.16.2"}},"jsonrpc":"2.0","id":0}`
	err401     = `{"error":"invalid_token","error_description":"Missing Authorization header"}`
	chromeUA   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	secCHUA    = `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`
	sanitized  = capture.GapSanitized
	noResp     = capture.GapNoResponse
)

func chromeSanitizedWant() wantFile {
	S := []capture.GapKind{sanitized}
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15&code_challenge=Oe8M4nsascEErhMlycNgxVt7AGAdYsIFgac93_qpsP0&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&state=b7e0c5a9f3d2418e9c6a1f0d8e7b2a4c&scope=mcp%3Aread+mcp%3Awrite&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	callback := "http://localhost:6274/oauth/callback?code=ac_Zx81nQ4rTf0sLm2WvB7pK&state=b7e0c5a9f3d2418e9c6a1f0d8e7b2a4c"
	return wantFile{
		file: "chrome-131-sanitized.har", creator: Creator{Name: "WebInspector", Version: "537.36"}, entries: 14, sanitized: true,
		exchanges: []want{
			{entry: 0, method: "OPTIONS", url: "https://mcp.example.com/mcp", status: 204, start: "2025-01-06T10:41:12.345Z", gaps: S},
			{entry: 1, method: "POST", url: "https://mcp.example.com/mcp", status: 401, start: "2025-01-06T10:41:12.346Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				// HTTP/2 pseudo-headers first, order as exported, no
				// credentials (the export removed them).
				headersEqual(t, "request", ex.Request.Headers, []string{
					":authority: mcp.example.com", ":method: POST", ":path: /mcp", ":scheme: https",
					"accept: application/json, text/event-stream", "accept-encoding: gzip, deflate, br, zstd",
					"accept-language: en-US,en;q=0.9", "content-length: 222", "content-type: application/json",
					"origin: http://localhost:6274", "priority: u=1, i", "referer: http://localhost:6274/",
					"sec-ch-ua: " + secCHUA, "sec-ch-ua-mobile: ?0", `sec-ch-ua-platform: "macOS"`,
					"sec-fetch-dest: empty", "sec-fetch-mode: cors", "sec-fetch-site: cross-site", "user-agent: " + chromeUA,
				})
				bodyEqual(t, "request", ex.Request.Body, chromeInit)
				bodyEqual(t, "response", ex.Response.Body, err401)
				eq(t, "WWW-Authenticate", ex.Response.Headers.Get("WWW-Authenticate"), `Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
				eq(t, "request proto", ex.Request.Proto, "http/2.0")
				eq(t, "server", ex.ServerAddr, "203.0.113.10")
				eq(t, "duration", ex.Duration, 93435999*time.Nanosecond)
			}},
			{entry: 2, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", status: 200, start: "2025-01-06T10:41:12.512Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "response", ex.Response.Body, `{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["mcp:read","mcp:write"],"bearer_methods_supported":["header"],"resource_name":"Example MCP"}`)
			}},
			{entry: 3, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: "2025-01-06T10:41:12.601Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				// Chrome stores the decoded body and keeps the header: the
				// body must be left alone (no decode attempt, no gap).
				eq(t, "Content-Encoding", ex.Response.Headers.Get("Content-Encoding"), "br")
				jsonField(t, ex.Response.Body, "issuer", "https://auth.example.com")
				jsonField(t, ex.Response.Body, "code_challenge_methods_supported", []any{"S256"})
			}},
			{entry: 4, method: "OPTIONS", url: "https://auth.example.com/register", status: 204, start: "2025-01-06T10:41:12.688Z", gaps: S},
			{entry: 5, method: "POST", url: "https://auth.example.com/register", status: 201, start: "2025-01-06T10:41:12.689Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				jsonField(t, ex.Request.Body, "client_name", "MCP Inspector")
				jsonField(t, ex.Response.Body, "client_id", "3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15")
			}},
			{entry: 6, method: "GET", url: authorize, status: 302, start: "2025-01-06T10:41:12.905Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Location", ex.Response.Headers.Get("Location"), callback)
				eq(t, "Location count", len(ex.Response.Headers.Values("Location")), 1)
				eq(t, "Cookie removed", ex.Request.Headers.Has("Cookie"), false)
				eq(t, "Set-Cookie removed", ex.Response.Headers.Has("Set-Cookie"), false)
				eq(t, "body", len(ex.Response.Body), 0)
				pkceMatches(t, ex.Request.URL.Query().Get("code_challenge"), "Qk3m9V8x2LpZr7TnYw4Hc6Jd1Fs5Gb0Ne8Ua3Oi2Ky7")
			}},
			{entry: 7, method: "GET", url: callback, status: 200, start: "2025-01-06T10:41:13.201Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "proto", ex.Response.Proto, "HTTP/1.1")
				eq(t, "status text", ex.Response.StatusText, "OK")
				eq(t, "server", ex.ServerAddr, "[::1]")
				if !bytes.HasPrefix(ex.Response.Body, []byte("<!doctype html>\n")) || len(ex.Response.Body) != 247 || !bytes.HasSuffix(ex.Response.Body, []byte("</html>\n")) {
					t.Errorf("callback body = %q", ex.Response.Body)
				}
			}},
			{entry: 8, method: "GET", url: "http://localhost:6274/mcp.png", status: 200, start: "2025-01-06T10:41:13.48Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "response (base64)", ex.Response.Body, string(png1x1))
			}},
			{entry: 9, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-01-06T10:41:13.502Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Zx81nQ4rTf0sLm2WvB7pK&code_verifier=Qk3m9V8x2LpZr7TnYw4Hc6Jd1Fs5Gb0Ne8Ua3Oi2Ky7&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&client_id=3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
				// Two Vary headers stay two, in order.
				eq(t, "Vary", ex.Response.Headers.Values("vary"), []string{"Origin", "Accept-Encoding"})
				jsonField(t, ex.Response.Body, "refresh_token", "rt_5Nq2Lw8Xc1Vb7Mz3")
			}},
			{entry: 10, method: "OPTIONS", url: "https://mcp.example.com/mcp", status: 204, start: "2025-01-06T10:41:13.69Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "preflight", ex.Request.Headers.Get("access-control-request-headers"), "authorization,content-type")
			}},
			{entry: 11, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-01-06T10:41:13.691Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Authorization removed", ex.Request.Headers.Has("Authorization"), false)
				eq(t, "session", ex.Response.Headers.Get("Mcp-Session-Id"), "2f0b6a51-8c1e-4b7a-9d3f-5e6c7a8b9c0d")
				if !bytes.HasPrefix(ex.Response.Body, []byte("event: message\nid: 1\ndata: {\"result\"")) {
					t.Errorf("SSE body = %q", ex.Response.Body)
				}
			}},
			{entry: 12, method: "GET", url: "https://www.googletagmanager.com/gtag/js?id=G-8JQ0X1Y2Z3", status: 0, start: "2025-01-06T10:41:13.702Z", gaps: []capture.GapKind{noResp, sanitized}, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "error", ex.Error, "net::ERR_BLOCKED_BY_CLIENT")
				eq(t, "duration", ex.Duration, 561999*time.Nanosecond)
				eq(t, "proto", ex.Request.Proto, "")
			}},
			{entry: 13, method: "GET", url: "ws://localhost:6274/?token=kX9wQ2mN4bV7", status: 101, start: "2025-01-06T10:41:13.75Z", gaps: S, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Upgrade", ex.Response.Headers.Get("Upgrade"), "websocket")
			}},
		},
	}
}

func chromeSensitiveWant() wantFile {
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15&code_challenge=MAEsLxgk4htSzOQuj-PUhdZNS4sYGqn1gsWczNSMASQ&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&state=0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a&scope=mcp%3Aread&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	callback := "http://localhost:6274/oauth/callback?code=ac_Pq73LmX0vB2nC8zT5yW1k&state=0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a"
	return wantFile{
		file: "chrome-131-sensitive.har", creator: Creator{Name: "WebInspector", Version: "537.36"}, entries: 6,
		exchanges: []want{
			{entry: 0, method: "GET", url: authorize, status: 302, start: "2025-01-06T13:50:01.118Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Cookie", ex.Request.Headers.Get("Cookie"), "as_session=s%3A1f2e3d4c.Rt8")
				eq(t, "Set-Cookie", ex.Response.Headers.Values("Set-Cookie"), []string{
					"as_session=s%3A1f2e3d4c.Rt9; Path=/; Expires=Tue, 07 Jan 2025 13:50:01 GMT; HttpOnly; Secure; SameSite=Lax",
					"as_csrf=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure",
				})
				eq(t, "Location", ex.Response.Headers.Get("Location"), callback)
				pkceMatches(t, ex.Request.URL.Query().Get("code_challenge"), "Zr4kN0pQx7Wm2Yb9Tc5Lv8Hd3Gs6Jf1Ke0Ua7Oi4Py2")
			}},
			{entry: 1, method: "GET", url: callback, status: 200, start: "2025-01-06T13:50:01.204Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "body", len(ex.Response.Body), 0)
				eq(t, "server", ex.ServerAddr, "127.0.0.1")
			}},
			{entry: 2, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-01-06T13:50:01.377Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Pq73LmX0vB2nC8zT5yW1k&code_verifier=Zr4kN0pQx7Wm2Yb9Tc5Lv8Hd3Gs6Jf1Ke0Ua7Oi4Py2&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&client_id=3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
				eq(t, "Cookie", ex.Request.Headers.Get("cookie"), "as_session=s%3A1f2e3d4c.Rt9")
			}},
			{entry: 3, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-01-06T13:50:01.512Z", check: func(t *testing.T, ex *capture.Exchange) {
				auth := ex.Request.Headers.Get("Authorization")
				if !strings.HasPrefix(auth, "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImstMjAyNS0wMSIsInR5cCI6ImF0K2p3dCJ9.") || !strings.HasSuffix(auth, ".c2lnbmF0dXJlLXR3bw") {
					t.Errorf("Authorization = %q", auth)
				}
				eq(t, "duration", ex.Duration, 104100*time.Microsecond)
			}},
			{entry: 4, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: "2025-01-06T13:50:01.64Z", check: func(t *testing.T, ex *capture.Exchange) {
				// _fromCache: "disk" entry: headers and body as cached.
				jsonField(t, ex.Response.Body, "issuer", "https://auth.example.com")
				eq(t, "body size", ex.Response.BodySize, int64(0))
			}},
			{entry: 5, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-01-06T13:50:02.003Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, `{"method":"tools/list","params":{},"jsonrpc":"2.0","id":1}`)
				jsonField(t, ex.Response.Body, "result", map[string]any{"tools": []any{map[string]any{
					"name": "search", "description": "Search the catalogue — “quoted” & <tagged>",
					"inputSchema": map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}, "required": []any{"q"}},
				}}})
				eq(t, "session", ex.Request.Headers.Get("mcp-session-id"), "5e2d4c1b-7a9f-4e3d-8c2b-1a0f9e8d7c6b")
			}},
		},
	}
}

func firefoxWant() wantFile {
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=8b0e2f4c-6a1d-4c3e-9f7b-2d5a8c1e0f36&code_challenge=h4_QqkeUToZZelf-M3_QS_O2DrvhL456RN-VvP_CqBo&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&state=f1e2d3c4b5a69788796a5b4c3d2e1f00&scope=mcp%3Aread+mcp%3Awrite&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	callback := "http://localhost:6274/oauth/callback?code=ac_Ff9Gh2Jk5Lm8Np1Qr4St&state=f1e2d3c4b5a69788796a5b4c3d2e1f00"
	return wantFile{
		file: "firefox-130.har", creator: Creator{Name: "Firefox", Version: "130.0"}, browser: Creator{Name: "Firefox", Version: "130.0"}, entries: 10,
		exchanges: []want{
			{entry: 0, method: "POST", url: "https://mcp.example.com/mcp", status: 401, start: "2025-02-11T09:15:04.512+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, chromeInit)
				eq(t, "proto", ex.Request.Proto, "HTTP/2")
				eq(t, "X-Firefox-Spdy", ex.Response.Headers.Get("X-Firefox-Spdy"), "h2")
				eq(t, "duration", ex.Duration, 131*time.Millisecond)
				eq(t, "server", ex.ServerAddr, "203.0.113.10")
			}},
			{entry: 1, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", status: 200, start: "2025-02-11T09:15:04.641+01:00"},
			{entry: 2, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: "2025-02-11T09:15:04.702+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Content-Encoding", ex.Response.Headers.Get("content-encoding"), "gzip")
				jsonField(t, ex.Response.Body, "registration_endpoint", "https://auth.example.com/register")
			}},
			{entry: 3, method: "POST", url: "https://auth.example.com/register", status: 201, start: "2025-02-11T09:15:04.79+01:00"},
			{entry: 4, method: "GET", url: authorize, status: 302, start: "2025-02-11T09:15:05.004+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Location", ex.Response.Headers.Get("location"), callback)
				eq(t, "Cookie", ex.Request.Headers.Get("Cookie"), "as_session=s%3A7a6b5c4d.Qw1")
				pkceMatches(t, ex.Request.URL.Query().Get("code_challenge"), "Fx130pQ8mZ2vN5rT0wY7cK3hL6jB9dS1gA4eU7iO2uy")
			}},
			{entry: 5, method: "GET", url: callback, status: 200, start: "2025-02-11T09:15:05.097+01:00"},
			{entry: 6, method: "GET", url: "http://localhost:6274/mcp.png", status: 200, start: "2025-02-11T09:15:05.24+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "response (base64)", ex.Response.Body, string(png1x1))
			}},
			{entry: 7, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-02-11T09:15:05.318+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				// text wins over the (decoded) params.
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Ff9Gh2Jk5Lm8Np1Qr4St&code_verifier=Fx130pQ8mZ2vN5rT0wY7cK3hL6jB9dS1gA4eU7iO2uy&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&client_id=8b0e2f4c-6a1d-4c3e-9f7b-2d5a8c1e0f36&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
			}},
			{entry: 8, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-02-11T09:15:05.455+01:00", check: func(t *testing.T, ex *capture.Exchange) {
				if !strings.HasPrefix(ex.Request.Headers.Get("Authorization"), "Bearer eyJ") {
					t.Errorf("Authorization = %q", ex.Request.Headers.Get("Authorization"))
				}
			}},
			{entry: 9, method: "GET", url: "https://telemetry.example.net/v1/events?app=inspector&ev=login", status: 0, start: "2025-02-11T09:15:05.47+01:00", gaps: []capture.GapKind{noResp}, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "error", ex.Error, "")
				eq(t, "duration", ex.Duration, time.Duration(0))
			}},
		},
	}
}

func safariWant() wantFile {
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=d2c4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f&code_challenge=NCXK42WaCZBefekpftUJTZe7lmBgnVBXdJpNv3b8oww&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&state=4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e&scope=mcp%3Aread&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	callback := "http://localhost:6274/oauth/callback?code=ac_Sa7Fr1Ix3Bq6Wn0Zk4Mc&state=4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e"
	return wantFile{
		file: "safari-18.har", creator: Creator{Name: "WebKit Web Inspector", Version: "20620.1.16.11.8"}, entries: 8,
		exchanges: []want{
			{entry: 0, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", status: 200, start: "2025-03-05T13:20:01.1Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "duration", ex.Duration, 75016*time.Microsecond)
			}},
			{entry: 1, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: "2025-03-05T13:20:01.178Z"},
			{entry: 2, method: "POST", url: "https://auth.example.com/register", status: 201, start: "2025-03-05T13:20:01.262Z"},
			{entry: 3, method: "GET", url: authorize, status: 302, start: "2025-03-05T13:20:02.409Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Location", ex.Response.Headers.Get("Location"), callback)
				eq(t, "Set-Cookie", ex.Response.Headers.Get("Set-Cookie"), "as_session=s%3A0b1c2d3e.Pz6; Path=/; HttpOnly; Secure; SameSite=Lax")
			}},
			{entry: 4, method: "GET", url: callback, status: 200, start: "2025-03-05T13:20:02.493Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "server", ex.ServerAddr, "::1")
			}},
			{entry: 5, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-03-05T13:20:02.711Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Sa7Fr1Ix3Bq6Wn0Zk4Mc&code_verifier=Sf18qW3eR5tY7uI9oP1aS3dF5gH7jK9lZ1xC3vB5nM7&redirect_uri=http%3A%2F%2Flocalhost%3A6274%2Foauth%2Fcallback&client_id=d2c4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
			}},
			{entry: 6, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-03-05T13:20:02.85Z"},
			{entry: 7, method: "GET", url: "https://telemetry.example.net/v1/t?e=oauth_complete", status: 0, start: "2025-03-05T13:20:02.861Z", gaps: []capture.GapKind{noResp}, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "error", ex.Error, "A server with the specified hostname could not be found.")
			}},
		},
	}
}

func mitmproxyWant() wantFile {
	return wantFile{
		file: "mitmproxy-11.har", creator: Creator{Name: "mitmproxy", Version: "11.1.3"}, entries: 11,
		exchanges: []want{
			{entry: 0, method: "POST", url: "https://mcp.example.com/mcp", status: 401, start: "2025-03-14T09:26:53.501293Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "WWW-Authenticate", ex.Response.Headers.Get("www-authenticate"), `Bearer error="invalid_token", error_description="Missing Authorization header", scope="mcp:read mcp:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
				headersEqual(t, "request", ex.Request.Headers, []string{
					"host: mcp.example.com", "connection: keep-alive", "content-type: application/json",
					"accept: application/json, text/event-stream", "accept-language: *", "sec-fetch-mode: cors",
					"user-agent: claude-code/1.0.44", "accept-encoding: gzip, deflate", "content-length: 171",
				})
			}},
			{entry: 1, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", status: 200, start: "2025-03-14T09:26:53.562811Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Content-Encoding", ex.Response.Headers.Get("Content-Encoding"), "gzip")
				bodyEqual(t, "response (decoded by mitmproxy)", ex.Response.Body, `{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["mcp:read","mcp:write"],"bearer_methods_supported":["header"]}`)
			}},
			{entry: 2, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 404, start: "2025-03-14T09:26:53.601245Z"},
			{entry: 3, method: "GET", url: "https://auth.example.com/.well-known/openid-configuration", status: 200, start: "2025-03-14T09:26:53.640002Z", check: func(t *testing.T, ex *capture.Exchange) {
				// \u00e4, \u2013 and the surrogate pair \ud83d\udd10 in the file.
				jsonField(t, ex.Response.Body, "x_display_name", "Exämple ÄS – Anmeldung 🔐")
			}},
			{entry: 4, method: "POST", url: "https://auth.example.com/register", status: 201, start: "2025-03-14T09:26:53.702519Z", check: func(t *testing.T, ex *capture.Exchange) {
				jsonField(t, ex.Request.Body, "client_name", "Claude Code (Müller’s laptop)")
			}},
			{entry: 5, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-03-14T09:26:58.913377Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Mt4Rw7Yz0Bc3Df6Gh9Jk&code_verifier=Mp11xA7sD9fG2hJ4kL6zX8cV0bN3mQ5wE7rT9yU1iO3&redirect_uri=http%3A%2F%2Flocalhost%3A54545%2Fcallback&client_id=cc_7f3a9d2e41b8&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
				jsonField(t, ex.Response.Body, "refresh_token", "rt_Mi2Tm4Pr6Ox8Yq0")
			}},
			{entry: 6, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-03-14T09:26:59.050911Z"},
			{entry: 7, method: "GET", url: "https://mcp.example.com/favicon.ico", status: 200, start: "2025-03-14T09:26:59.120448Z", check: func(t *testing.T, ex *capture.Exchange) {
				// Decoded binary body stored as base64 with the br header
				// kept: not text, so brotli is tried, fails, and the body
				// is taken as already decoded: no gap.
				if len(ex.Response.Body) != 160 || !bytes.HasPrefix(ex.Response.Body, []byte{0, 0, 1, 0, 1, 0, 16, 16}) {
					t.Errorf("favicon body = %x", ex.Response.Body)
				}
			}},
			{entry: 8, method: "GET", url: "https://cdn.example.com/widget.js", status: 200, start: "2025-03-14T09:26:59.201766Z", gaps: []capture.GapKind{capture.GapDecode}, check: func(t *testing.T, ex *capture.Exchange) {
				// mitmproxy stores a body that fails to decode raw: gzip
				// magic, cut short. The gap says so; the raw bytes stay.
				if len(ex.Response.Body) != 48 || !bytes.HasPrefix(ex.Response.Body, []byte{0x1f, 0x8b}) {
					t.Errorf("raw body = %x", ex.Response.Body)
				}
				if d := ex.Gaps[0].Detail; !strings.Contains(d, "Content-Encoding gzip") || !strings.Contains(d, "unexpected EOF") {
					t.Errorf("gap detail = %q", d)
				}
			}},
			{entry: 9, method: "CONNECT", url: "https://telemetry.example.net:443/", status: 0, start: "2025-03-14T09:26:59.3Z", gaps: []capture.GapKind{noResp}, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "error", ex.Error, "Client disconnected.")
				eq(t, "server", ex.ServerAddr, "192.0.2.44")
			}},
			{entry: 10, method: "POST", url: "https://mcp.example.com/mcp", status: 202, start: "2025-03-14T09:27:01Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, `{"method":"notifications/initialized","jsonrpc":"2.0"}`)
				eq(t, "response body", len(ex.Response.Body), 0)
			}},
		},
	}
}

func mitmproxy8Want() wantFile {
	// A verbatim excerpt (first 13 entries) of a real mitmproxy 8 capture
	// of the MCP TypeScript SDK example client.
	const mcp, as = "http://localhost:46553", "http://localhost:44333"
	return wantFile{
		file: "mitmproxy-8-labhar.har", creator: Creator{Name: "mitmproxy+lab_har", Version: "mitmproxy-8.1.1"}, entries: 13,
		exchanges: []want{
			{entry: 0, method: "POST", url: mcp + "/mcp", status: 401, start: "2026-11-26T23:56:15.16179Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "client", ex.ClientAddr, "127.0.0.1:43032")
				eq(t, "server", ex.ServerAddr, "127.0.0.1")
			}},
			{entry: 1, method: "GET", url: mcp + "/.well-known/oauth-protected-resource/mcp", status: 200, start: "2026-11-26T23:56:15.198634Z"},
			{entry: 2, method: "GET", url: as + "/.well-known/oauth-authorization-server", status: 200, start: "2026-11-26T23:56:15.214256Z"},
			{entry: 3, method: "POST", url: as + "/register", status: 201, start: "2026-11-26T23:56:15.229955Z"},
			{entry: 4, method: "GET", url: as + "/authorize?response_type=code&client_id=test-client-id&code_challenge=WM4UQ0YUybQFwKxOEWxJXQtoj3HTcPFKTaCRrH4qNGw&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A8090%2Fcallback&resource=http%3A%2F%2Flocalhost%3A46553%2Fmcp", status: 302, start: "2026-11-26T23:56:15.275796Z", check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "Location", ex.Response.Headers.Get("Location"), "http://localhost:8090/callback?code=test-auth-code")
			}},
			{entry: 5, method: "GET", url: "http://localhost:8090/callback?code=test-auth-code", status: 200, start: "2026-11-26T23:56:15.299293Z"},
			{entry: 6, method: "GET", url: mcp + "/.well-known/oauth-protected-resource/mcp", status: 200, start: "2026-11-26T23:56:15.306801Z"},
			{entry: 7, method: "GET", url: as + "/.well-known/oauth-authorization-server", status: 200, start: "2026-11-26T23:56:15.319174Z"},
			{entry: 8, method: "POST", url: as + "/token", status: 200, start: "2026-11-26T23:56:15.326839Z", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "response", ex.Response.Body, `{"access_token":"test-token-1795737375330","token_type":"Bearer","expires_in":3600}`)
			}},
			{entry: 9, method: "POST", url: mcp + "/mcp", status: 200, start: "2026-11-26T23:56:15.337965Z"},
			{entry: 10, method: "POST", url: mcp + "/mcp", status: 202, start: "2026-11-26T23:56:15.36932Z"},
			{entry: 11, method: "GET", url: mcp + "/mcp", status: 404, start: "2026-11-26T23:56:15.385374Z"},
			{entry: 12, method: "POST", url: mcp + "/mcp", status: 200, start: "2026-11-26T23:56:15.405348Z"},
		},
	}
}

func charlesWant() wantFile {
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=ch5-9a8b7c6d5e4f&code_challenge=2YuprWSCDR6xSwum-ItCM5HEQYb0ZgBZxfkdr4jpCDc&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A3334%2Foauth%2Fcallback&state=QzJ0c0hTbWFkZQ&scope=mcp%3Aread&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	callback := "http://127.0.0.1:3334/oauth/callback?code=ac_Ch9Lq2Wv5Ye8Rt1Ui4Op&state=QzJ0c0hTbWFkZQ"
	return wantFile{
		file: "charles-5.har", creator: Creator{Name: "Charles Proxy", Version: "5.0.1"}, entries: 9,
		exchanges: []want{
			{entry: 0, method: "POST", url: "https://mcp.example.com/mcp", status: 401, start: "2025-03-20T11:04:12.318-07:00"},
			{entry: 1, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", status: 200, start: "2025-03-20T11:04:12.402-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				headersEqual(t, "request", ex.Request.Headers, []string{
					":method: GET", ":authority: mcp.example.com", ":scheme: https", ":path: /.well-known/oauth-protected-resource/mcp",
					"mcp-protocol-version: 2025-06-18", "accept: */*", "accept-language: *", "sec-fetch-mode: cors",
					"user-agent: mcp-remote/0.1.18 node/22.14.0", "accept-encoding: gzip, deflate",
				})
				eq(t, "first response header", ex.Response.Headers[0], capture.Header{Name: ":status", Value: "200"})
				eq(t, "statusText null", ex.Response.StatusText, "")
				eq(t, "proto", ex.Response.Proto, "HTTP/2.0")
			}},
			{entry: 2, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: "2025-03-20T11:04:12.455-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				// org.json escapes U+2000-U+20FF: the file has \u2013,
				// \u201c, \u201d.
				jsonField(t, ex.Response.Body, "service_documentation", "https://auth.example.com/docs – “OAuth” guide")
			}},
			{entry: 3, method: "POST", url: "https://auth.example.com/register", status: 201, start: "2025-03-20T11:04:12.53-07:00"},
			{entry: 4, method: "GET", url: authorize, status: 302, start: "2025-03-20T11:04:13.871-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				// redirectURL is null in Charles exports; the header is there.
				eq(t, "Location", ex.Response.Headers.Values("Location"), []string{callback})
			}},
			{entry: 5, method: "GET", url: callback, status: 200, start: "2025-03-20T11:04:13.99-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				// "<\/title>" in the file.
				if !bytes.Contains(ex.Response.Body, []byte("<title>Authorization complete</title></head>")) {
					t.Errorf("body = %q", ex.Response.Body)
				}
			}},
			{entry: 6, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-03-20T11:04:14.102-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				// Form body written as params only (no text): rebuilt.
				bodyEqual(t, "request (from params)", ex.Request.Body, "grant_type=authorization_code&client_id=ch5-9a8b7c6d5e4f&code=ac_Ch9Lq2Wv5Ye8Rt1Ui4Op&code_verifier=Ch50xZ9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7&redirect_uri=http%3A%2F%2F127.0.0.1%3A3334%2Foauth%2Fcallback&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
				eq(t, "rebuilt length matches content-length", fmt.Sprint(len(ex.Request.Body)), ex.Request.Headers.Get("content-length"))
			}},
			{entry: 7, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-03-20T11:04:14.24-07:00"},
			{entry: 8, method: "GET", url: "https://mcp.example.com/logo.png", status: 200, start: "2025-03-20T11:04:14.301-07:00", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "response (base64)", ex.Response.Body, string(png1x1))
			}},
		},
	}
}

func burpWant() wantFile {
	authorize := "https://auth.example.com/authorize?response_type=code&client_id=bp-4c5d6e7f8a9b&code_challenge=GXjGOvGf1QPkBhMx5EGkstHAUgo8sRcOodHga9eQk7E&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fapp.example.org%2Foauth%2Fcallback&state=St8_p1Q%27x%3D%26y&scope=openid+mcp%3Aread&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
	return wantFile{
		file: "burp-loggerplusplus.har", creator: Creator{Name: "LoggerPlusPlus", Version: "3.20.0"}, entries: 4,
		exchanges: []want{
			{entry: 0, method: "GET", url: authorize, status: 302, start: "2025-04-02T15:42:07.091+02:00", check: func(t *testing.T, ex *capture.Exchange) {
				// Gson wrote = & ' as \u003d \u0026 \u0027.
				eq(t, "state", ex.Request.URL.Query().Get("state"), "St8_p1Q'x=&y")
				eq(t, "Location", ex.Response.Headers.Get("Location"), "https://app.example.org/oauth/callback?code=ac_Bp3Xm6Qn9Rv2Sw5Tz8Ua&state=St8_p1Q%27x%3D%26y")
			}},
			{entry: 1, method: "POST", url: "https://auth.example.com/token", status: 200, start: "2025-04-02T15:42:08.46+02:00", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, "grant_type=authorization_code&code=ac_Bp3Xm6Qn9Rv2Sw5Tz8Ua&redirect_uri=https%3A%2F%2Fapp.example.org%2Foauth%2Fcallback&code_verifier=Bp20xQ1wE2rT3yU4iO5pA6sD7fG8hJ9kL0zX1cV2bN3&client_id=bp-4c5d6e7f8a9b")
				// The gzip body was stored as one character per byte; the
				// reader recovers the bytes and decodes them.
				jsonField(t, ex.Response.Body, "id_token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQwMDQifQ.c2ln")
				jsonField(t, ex.Response.Body, "scope", "openid mcp:read")
			}},
			{entry: 2, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: "2025-04-02T15:42:09.002+02:00", check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request", ex.Request.Body, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search","arguments":{"q":"a<b & c='d'"}}}`)
				bodyEqual(t, "response", ex.Response.Body, `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"no results for a<b & c='d'"}],"isError":false}}`)
				eq(t, "no Location from redirectURL \"null\"", ex.Response.Headers.Has("Location"), false)
			}},
			{entry: 3, method: "GET", url: "https://mcp.example.com/.well-known/oauth-protected-resource", status: 0, start: "2025-04-02T15:42:09.777+02:00", gaps: []capture.GapKind{noResp}},
		},
	}
}

func insomniaWant() wantFile {
	const started = "2025-03-03T16:20:45.118Z" // the export time, on every entry
	return wantFile{
		file: "insomnia-10.har", creator: Creator{Name: "Insomnia REST Client", Version: "insomnia.desktop.app:v10.3.1"}, entries: 4,
		exchanges: []want{
			{entry: 0, method: "GET", url: "https://auth.example.com/.well-known/oauth-authorization-server", status: 200, start: started, check: func(t *testing.T, ex *capture.Exchange) {
				// postData {mimeType: "", text: ""}: no body, no header added.
				headersEqual(t, "request", ex.Request.Headers, []string{"User-Agent: insomnia/10.3.1"})
				eq(t, "body", len(ex.Request.Body), 0)
				eq(t, "comment", ex.Comment, "AS metadata")
			}},
			{entry: 1, method: "POST", url: "https://auth.example.com/token", status: 200, start: started, check: func(t *testing.T, ex *capture.Exchange) {
				bodyEqual(t, "request (from params)", ex.Request.Body, "grant_type=client_credentials&scope=mcp%3Aread&resource=https%3A%2F%2Fmcp.example.com%2Fmcp")
				eq(t, "Authorization", ex.Request.Headers.Get("Authorization"), "Basic c3ZjLXJlcG9ydGluZzpzM2NyM3QtdjRsdWUhJg==")
				eq(t, "comment", ex.Comment, "Token (client credentials)")
				eq(t, "duration", ex.Duration, 212809*time.Microsecond)
			}},
			{entry: 2, method: "POST", url: "https://mcp.example.com/mcp", status: 200, start: started},
			{entry: 3, method: "POST", url: "https://auth.example.com/introspect", status: 0, start: started, gaps: []capture.GapKind{noResp}, check: func(t *testing.T, ex *capture.Exchange) {
				eq(t, "comment", ex.Comment, "Introspect (not sent)")
				if !bytes.HasPrefix(ex.Request.Body, []byte("token=eyJ")) || !bytes.HasSuffix(ex.Request.Body, []byte("&token_type_hint=access_token")) {
					t.Errorf("body = %q", ex.Request.Body)
				}
			}},
		},
	}
}

func TestFixtures(t *testing.T) {
	for _, wf := range []wantFile{
		chromeSanitizedWant(), chromeSensitiveWant(), firefoxWant(), safariWant(),
		mitmproxyWant(), mitmproxy8Want(), charlesWant(), burpWant(), insomniaWant(),
	} {
		t.Run(wf.file, func(t *testing.T) {
			path := filepath.Join("testdata", wf.file)
			exs, info, err := ReadFile(path, Options{})
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			eq(t, "creator", info.Creator, wf.creator)
			eq(t, "browser", info.Browser, wf.browser)
			eq(t, "version", info.Version, "1.2")
			eq(t, "entries", info.Entries, wf.entries)
			eq(t, "exchanges", info.Exchanges, len(wf.exchanges))
			eq(t, "truncated", info.Truncated, false)
			eq(t, "sanitized", info.Sanitized, wf.sanitized)
			eq(t, "file", info.File, path)
			if len(info.Warnings) != len(wf.warnings) {
				t.Errorf("warnings = %v, want %d", info.Warnings, len(wf.warnings))
			}
			if len(exs) != len(wf.exchanges) {
				t.Fatalf("got %d exchanges, want %d", len(exs), len(wf.exchanges))
			}
			for i, w := range wf.exchanges {
				ex := exs[i]
				t.Run(fmt.Sprintf("entry%d", w.entry), func(t *testing.T) {
					eq(t, "ref.File", ex.Ref.File, path)
					eq(t, "ref.Entry", ex.Ref.Entry, w.entry)
					eq(t, "method", ex.Request.Method, w.method)
					eq(t, "url", ex.Request.URL.String(), w.url)
					if !ex.Request.URL.IsAbs() || ex.Request.URL.Host == "" {
						t.Errorf("URL %v is not absolute", ex.Request.URL)
					}
					eq(t, "start", ex.Start.Format(time.RFC3339Nano), w.start)
					if w.status == 0 {
						if ex.Response != nil {
							t.Errorf("response = %+v, want none", ex.Response)
						}
					} else if ex.Response == nil {
						t.Errorf("no response, want status %d", w.status)
					} else {
						eq(t, "status", ex.Response.Status, w.status)
					}
					eq(t, "gaps", gapKinds(ex), w.gaps)
					if w.check != nil && (w.status == 0 || ex.Response != nil) {
						w.check(t, ex)
					}
				})
			}
		})
	}
}

// TestRefsPointAtEntries proves every Ref by slicing the file: the bytes at
// [Offset, Offset+Length) must be exactly log.entries[Entry] as a complete
// JSON decode of the file sees it, and decode to the same request.
func TestRefsPointAtEntries(t *testing.T) {
	files, err := filepath.Glob("testdata/*.har")
	if err != nil || len(files) < 9 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, variant := range []struct {
			name string
			data []byte
		}{
			{"plain", data},
			{"bom", append([]byte{0xEF, 0xBB, 0xBF}, data...)},
			{"crlf-indented", crlf(data)},
		} {
			t.Run(filepath.Base(path)+"/"+variant.name, func(t *testing.T) {
				checkRefs(t, variant.data, path)
			})
		}
	}
}

// crlf rewrites the file with CRLF line ends, shifting every offset.
func crlf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

func checkRefs(t *testing.T, data []byte, name string) {
	t.Helper()
	exs, info, err := Read(bytes.NewReader(data), name, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var doc struct {
		Log struct {
			Entries []json.RawMessage `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF}), &doc); err != nil {
		t.Fatalf("fixture is not JSON: %v", err)
	}
	eq(t, "entries", info.Entries, len(doc.Log.Entries))
	seen := map[int]bool{}
	for _, ex := range exs {
		r := ex.Ref
		if seen[r.Entry] {
			t.Errorf("entry %d twice", r.Entry)
		}
		seen[r.Entry] = true
		if r.Offset < 0 || r.Length <= 0 || r.Offset+r.Length > int64(len(data)) {
			t.Fatalf("entry %d: ref %d+%d outside the file (%d bytes)", r.Entry, r.Offset, r.Length, len(data))
		}
		got := data[r.Offset : r.Offset+r.Length]
		if !bytes.Equal(got, doc.Log.Entries[r.Entry]) {
			t.Errorf("entry %d: bytes at %d+%d are not log.entries[%d]:\n%.120q", r.Entry, r.Offset, r.Length, r.Entry, got)
			continue
		}
		var e struct {
			Request struct{ Method, URL string }
		}
		if err := json.Unmarshal(got, &e); err != nil {
			t.Errorf("entry %d: slice does not decode: %v", r.Entry, err)
			continue
		}
		eq(t, fmt.Sprintf("entry %d method", r.Entry), strings.ToUpper(e.Request.Method), ex.Request.Method)
		if e.Request.Method != "CONNECT" {
			u, err := url.Parse(strings.TrimSpace(e.Request.URL))
			if err != nil {
				t.Errorf("entry %d: %v", r.Entry, err)
			} else {
				eq(t, fmt.Sprintf("entry %d url", r.Entry), u.String(), ex.Request.URL.String())
			}
		}
		eq(t, fmt.Sprintf("entry %d Ref.String", r.Entry), r.String(), fmt.Sprintf("%s#entries[%d]@%d", name, r.Entry, r.Offset))
	}
}

func TestHeaderOrderAndDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name      string
		headers   string
		want      []string
		get, gets string
		values    []string
	}{
		{"order kept, case kept", `[{"name":"X-B","value":"2"},{"name":"x-a","value":"1"},{"name":"X-C","value":"3"}]`, []string{"X-B: 2", "x-a: 1", "X-C: 3"}, "X-A", "1", []string{"1"}},
		{"duplicates kept in order", `[{"name":"Set-Cookie","value":"a=1"},{"name":"Vary","value":"Origin"},{"name":"set-cookie","value":"b=2"}]`, []string{"Set-Cookie: a=1", "Vary: Origin", "set-cookie: b=2"}, "SET-COOKIE", "a=1", []string{"a=1", "b=2"}},
		{"pseudo-headers kept", `[{"name":":authority","value":"as.example"},{"name":":method","value":"POST"},{"name":"content-type","value":"application/json"}]`, []string{":authority: as.example", ":method: POST", "content-type: application/json"}, ":authority", "as.example", []string{"as.example"}},
		{"empty value kept", `[{"name":"X-Empty","value":""},{"name":"Accept","value":"*/*"}]`, []string{"X-Empty: ", "Accept: */*"}, "x-empty", "", []string{""}},
		{"null and numeric values", `[{"name":"Content-Length","value":42},{"name":"X-Null","value":null}]`, []string{"Content-Length: 42", "X-Null: "}, "content-length", "42", []string{"42"}},
		{"no headers", `[]`, []string{}, "Host", "", nil},
		{"headers null", `null`, []string{}, "Host", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := one(t, entry(`"method":"GET","url":"https://as.example/x","headers":`+tc.headers, `"status":200,"headers":`+tc.headers))
			headersEqual(t, "request", ex.Request.Headers, tc.want)
			headersEqual(t, "response", ex.Response.Headers, tc.want)
			eq(t, "Get", ex.Request.Headers.Get(tc.get), tc.gets)
			eq(t, "Values", ex.Request.Headers.Values(tc.get), tc.values)
		})
	}
}

func TestRequestBodies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		req      string // request members after method/url
		body     string
		ctype    string // Content-Type after reading
		gap      string // detail substring of a request-body gap, "" for none
		warnings int
	}{
		{"text", `"postData":{"mimeType":"application/json","text":"{\"a\":1}"}`, `{"a":1}`, "application/json", "", 0},
		{"text wins over params", `"postData":{"mimeType":"application/x-www-form-urlencoded","text":"a=1&b=%2F","params":[{"name":"a","value":"other"}]}`, "a=1&b=%2F", "application/x-www-form-urlencoded", "", 0},
		{"params, text absent (Charles)", `"postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"grant_type","value":"authorization_code"},{"name":"redirect_uri","value":"http://127.0.0.1:3334/cb"},{"name":"scope","value":"mcp:read mcp:write"}]}`, "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A3334%2Fcb&scope=mcp%3Aread+mcp%3Awrite", "application/x-www-form-urlencoded", "", 0},
		{"params, text empty", `"postData":{"mimeType":"application/x-www-form-urlencoded; charset=UTF-8","text":"","params":[{"name":"a b","value":"c&d=é"},{"name":"empty"}]}`, "a+b=c%26d%3D%C3%A9&empty=", "application/x-www-form-urlencoded; charset=UTF-8", "", 0},
		{"params, mimeType missing", `"postData":{"params":[{"name":"k","value":"v"}]}`, "k=v", "", "", 0},
		{"params of a multipart body", `"postData":{"mimeType":"multipart/form-data; boundary=x","params":[{"name":"file","fileName":"a.txt","contentType":"text/plain"}]}`, "", "multipart/form-data; boundary=x", "multipart/form-data body was saved only as postData.params", 1},
		{"base64 text", `"postData":{"mimeType":"application/octet-stream","text":"AAEC/w==","encoding":"base64"}`, "\x00\x01\x02\xff", "application/octet-stream", "", 0},
		{"base64 url alphabet unpadded", `"postData":{"mimeType":"application/octet-stream","text":"AAEC_w","encoding":"base64"}`, "\x00\x01\x02\xff", "application/octet-stream", "", 0},
		{"base64 wrapped at 76", `"postData":{"mimeType":"text/plain","text":"aGVs\nbG8=","encoding":"base64"}`, "hello", "text/plain", "", 0},
		{"base64 invalid", `"postData":{"mimeType":"text/plain","text":"%%%","encoding":"base64"}`, "%%%", "text/plain", "not valid base64", 1},
		{"body not saved (postData without text)", `"bodySize":120,"postData":{"mimeType":"application/json","text":"","comment":"Request bodies are not included."}`, "", "application/json", "request body of 120 bytes not saved", 0},
		{"body not saved (no postData)", `"bodySize":57`, "", "", "request body of 57 bytes not saved", 0},
		{"no body", `"bodySize":0`, "", "", "", 0},
		{"header Content-Type kept over mimeType", `"headers":[{"name":"content-type","value":"application/json; charset=utf-8"}],"postData":{"mimeType":"application/json","text":"{}"}`, "{}", "application/json; charset=utf-8", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, info := read(t, har("Charles Proxy", entry(`"method":"POST","url":"https://as.example/token",`+tc.req, `"status":200`)), Options{})
			ex := exs[0]
			bodyEqual(t, "body", ex.Request.Body, tc.body)
			eq(t, "Content-Type", ex.Request.Headers.Get("Content-Type"), tc.ctype)
			gapDetail(t, ex, capture.GapRequestBody, tc.gap)
			eq(t, "warnings", len(info.Warnings), tc.warnings)
		})
	}
}

func TestResponseBodies(t *testing.T) {
	const text = `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	for _, tc := range []struct {
		name    string
		ce      string // Content-Encoding header ("" for none)
		content string // content object
		body    string
		gap     capture.GapKind
		detail  string
	}{
		{"text", "", `{"size":63,"mimeType":"application/json","text":` + jsonString(text) + `}`, text, "", ""},
		{"base64", "", `{"size":63,"mimeType":"application/json","text":"` + b64([]byte(text)) + `","encoding":"base64"}`, text, "", ""},
		{"decoded, header kept (gzip)", "gzip", `{"size":63,"mimeType":"application/json","text":` + jsonString(text) + `}`, text, "", ""},
		{"decoded, header kept (br)", "br", `{"size":63,"mimeType":"application/json","text":` + jsonString(text) + `}`, text, "", ""},
		{"decoded binary, header kept (br)", "br", `{"size":4,"mimeType":"image/png","text":"` + b64([]byte{0x89, 'P', 'N', 'G', 0, 1, 2, 3}) + `","encoding":"base64"}`, "\x89PNG\x00\x01\x02\x03", "", ""},
		{"still encoded gzip (base64)", "gzip", `{"size":99,"mimeType":"application/json","text":"` + b64(gzipBytes(t, text)) + `","encoding":"base64"}`, text, "", ""},
		{"still encoded deflate (base64)", "deflate", `{"size":99,"mimeType":"application/json","text":"` + b64(zlibBytes(t, text)) + `","encoding":"base64"}`, text, "", ""},
		{"still encoded zstd (base64)", "zstd", `{"size":99,"mimeType":"application/json","text":"` + b64(zstdBytes(t, text)) + `","encoding":"base64"}`, text, "", ""},
		{"still encoded br (base64)", "br", `{"size":99,"mimeType":"application/json","text":"` + b64(brBytes(t, text)) + `","encoding":"base64"}`, text, "", ""},
		{"still encoded, two codings", "gzip, br", `{"size":99,"mimeType":"application/json","text":"` + b64(brBytes(t, string(gzipBytes(t, text)))) + `","encoding":"base64"}`, text, "", ""},
		{"gzip stored as latin-1 text (Burp)", "gzip", `{"size":99,"mimeType":"application/json","text":` + jsonString(latin1(gzipBytes(t, text))) + `}`, text, "", ""},
		{"corrupt gzip", "gzip", `{"size":10,"mimeType":"application/json","text":"` + b64(gzipBytes(t, text)[:20]) + `","encoding":"base64"}`, string(gzipBytes(t, text)[:20]), capture.GapDecode, "Content-Encoding gzip"},
		{"unknown coding left alone", "compress", `{"size":5,"mimeType":"text/plain","text":"hello"}`, "hello", "", ""},
		{"invalid base64", "", `{"size":5,"mimeType":"text/plain","text":"#not base64#","encoding":"base64"}`, "#not base64#", capture.GapResponseBody, "not valid base64"},
		{"body not saved", "", `{"size":2048,"mimeType":"text/html","comment":"Response bodies are not included."}`, "", capture.GapResponseBody, "response body of 2048 bytes not saved"},
		{"empty content", "", `{}`, "", "", ""},
		{"content null", "", `null`, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdrs := `[]`
			if tc.ce != "" {
				hdrs = `[{"name":"Content-Encoding","value":"` + tc.ce + `"}]`
			}
			ex := one(t, entry(`"method":"GET","url":"https://as.example/x"`, `"status":200,"headers":`+hdrs+`,"content":`+tc.content))
			bodyEqual(t, "body", ex.Response.Body, tc.body)
			if tc.gap == "" {
				eq(t, "gaps", ex.Gaps, []capture.Gap(nil))
			} else {
				gapDetail(t, ex, tc.gap, tc.detail)
			}
		})
	}
}

func TestContentTypeFromMimeType(t *testing.T) {
	for _, tc := range []struct {
		name, headers, content, want string
	}{
		{"added when missing", `[]`, `{"mimeType":"application/json","text":"{}"}`, "application/json"},
		{"header wins", `[{"name":"content-type","value":"text/plain"}]`, `{"mimeType":"application/json","text":"{}"}`, "text/plain"},
		{"not for x-unknown (Chrome)", `[]`, `{"mimeType":"x-unknown","text":"{}"}`, ""},
		{"not without a body", `[]`, `{"mimeType":"application/json","text":""}`, ""},
		{"not for null (Charles)", `[]`, `{"mimeType":null,"text":"{}"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := one(t, entry(`"method":"GET","url":"https://as.example/x"`, `"status":200,"headers":`+tc.headers+`,"content":`+tc.content))
			eq(t, "Content-Type", ex.Response.Headers.Get("Content-Type"), tc.want)
			eq(t, "Content-Type count", len(ex.Response.Headers.Values("Content-Type")) <= 1, true)
		})
	}
}

func TestRedirectURL(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		headers  string
		redirect string
		want     []string // Location values
	}{
		{"added when the header is absent", 302, `[]`, `"https://app.example/cb?code=x&state=y"`, []string{"https://app.example/cb?code=x&state=y"}},
		{"relative kept as is", 303, `[]`, `"/login?next=%2F"`, []string{"/login?next=%2F"}},
		{"header wins", 302, `[{"name":"location","value":"https://a.example/"}]`, `"https://b.example/"`, []string{"https://a.example/"}},
		{"not for 200", 200, `[]`, `"https://app.example/cb"`, nil},
		{"empty", 302, `[]`, `""`, nil},
		{"null (Charles)", 302, `[]`, `null`, nil},
		{"\"null\" (Burp Logger++)", 302, `[]`, `"null"`, nil},
		{"308 with 307 semantics", 308, `[]`, `"https://app.example/new"`, []string{"https://app.example/new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := one(t, entry(`"method":"GET","url":"https://as.example/authorize"`, fmt.Sprintf(`"status":%d,"headers":%s,"redirectURL":%s`, tc.status, tc.headers, tc.redirect)))
			eq(t, "Location", ex.Response.Headers.Values("Location"), tc.want)
		})
	}
}

func TestNoResponse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		response string // JSON value of "response", or "" for none
		err      string
		warning  string
	}{
		{"absent", "", "", ""},
		{"null", `,"response":null`, "", ""},
		{"empty object", `,"response":{}`, "", ""},
		{"status 0 with _error (Chrome)", `,"response":{"status":0,"statusText":"","httpVersion":"","headers":[],"cookies":[],"content":{"size":0,"mimeType":"x-unknown"},"redirectURL":"","headersSize":-1,"bodySize":-1,"_transferSize":0,"_error":"net::ERR_CONNECTION_REFUSED"}`, "net::ERR_CONNECTION_REFUSED", ""},
		{"status 0 placeholder (Insomnia)", `,"response":{"status":0,"statusText":"","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":-1}`, "", ""},
		{"status 0 with content {} and _error null (mitmproxy)", `,"response":{"status":0,"headers":[],"content":{},"_error":null}`, "", ""},
		{"status -1 (Burp Logger++)", `,"response":{"status":-1,"headers":[],"redirectURL":"null","content":{"size":-1,"mimeType":"","text":""}}`, "", ""},
		{"status as empty string", `,"response":{"status":"","headers":[]}`, "", ""},
		{"status 42", `,"response":{"status":42,"headers":[{"name":"a","value":"b"}]}`, "", "response status 42 is not an HTTP status code"},
		{"status 1000", `,"response":{"status":1000}`, "", "response status 1000 is not an HTTP status code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := har("WebInspector", `{"startedDateTime":"2025-01-06T10:00:00Z","request":{"method":"GET","url":"https://as.example/x","headers":[{"name":"Cookie","value":"a=b"}]}`+tc.response+`}`)
			exs, info := read(t, doc, Options{})
			ex := exs[0]
			if ex.Response != nil {
				t.Fatalf("response = %+v, want none", ex.Response)
			}
			eq(t, "gaps", gapKinds(ex), []capture.GapKind{noResp})
			eq(t, "error", ex.Error, tc.err)
			if tc.warning == "" {
				warningsMatch(t, info)
			} else {
				warningsMatch(t, info, tc.warning)
			}
		})
	}
	t.Run("status as numeric string", func(t *testing.T) {
		ex := one(t, entry(`"method":"GET","url":"https://as.example/x"`, `"status":"201"`))
		eq(t, "status", ex.Response.Status, 201)
	})
	t.Run("status as float", func(t *testing.T) {
		ex := one(t, entry(`"method":"GET","url":"https://as.example/x"`, `"status":2e2`))
		eq(t, "status", ex.Response.Status, 200)
	})
}

// TestSanitized: Chrome's default export drops Authorization, Cookie and
// Set-Cookie and empties the cookie arrays. Only a Chromium export without
// any of them is marked; a Chromium export with any, and any other tool's
// export, is not (those tools never strip credentials, so their absence is
// a fact about the traffic).
func TestSanitized(t *testing.T) {
	plain := entry(`"method":"POST","url":"https://as.example/token","headers":[{"name":"Content-Type","value":"application/x-www-form-urlencoded"}]`, `"status":200,"headers":[]`)
	for _, tc := range []struct {
		name    string
		creator string
		entries []string
		want    bool
	}{
		{"Chrome without credentials", "WebInspector", []string{plain, plain}, true},
		{"Chrome, Authorization in one entry", "WebInspector", []string{plain, entry(`"method":"GET","url":"https://rs.example/mcp","headers":[{"name":"authorization","value":"Bearer x"}]`, `"status":200`)}, false},
		{"Chrome, Cookie header", "WebInspector", []string{plain, entry(`"method":"GET","url":"https://as.example/authorize","headers":[{"name":"cookie","value":"s=1"}]`, `"status":302`)}, false},
		{"Chrome, Set-Cookie header", "WebInspector", []string{plain, entry(`"method":"GET","url":"https://as.example/login"`, `"status":200,"headers":[{"name":"set-cookie","value":"s=1; Path=/"}]`)}, false},
		{"Chrome, cookies array only", "WebInspector", []string{plain, entry(`"method":"GET","url":"https://as.example/login","cookies":[{"name":"s","value":"1"}]`, `"status":200`)}, false},
		{"Chrome, response cookies array only", "WebInspector", []string{plain, entry(`"method":"GET","url":"https://as.example/login"`, `"status":200,"cookies":[{"name":"s","value":"1"}]`)}, false},
		{"Chrome, Proxy-Authorization", "WebInspector", []string{entry(`"method":"GET","url":"https://as.example/x","headers":[{"name":"Proxy-Authorization","value":"Basic eA=="}]`, `"status":200`)}, false},
		{"Firefox", "Firefox", []string{plain}, false},
		{"Safari", "WebKit Web Inspector", []string{plain}, false},
		{"mitmproxy", "mitmproxy", []string{plain}, false},
		{"Charles", "Charles Proxy", []string{plain}, false},
		{"Burp Logger++", "LoggerPlusPlus", []string{plain}, false},
		{"Insomnia", "Insomnia REST Client", []string{plain}, false},
		{"no creator", "", []string{plain}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, info := read(t, har(tc.creator, tc.entries...), Options{})
			eq(t, "Info.Sanitized", info.Sanitized, tc.want)
			for _, ex := range exs {
				eq(t, "GapSanitized", ex.HasGap(capture.GapSanitized), tc.want)
			}
		})
	}
	t.Run("fixtures", func(t *testing.T) {
		for file, want := range map[string]bool{
			"chrome-131-sanitized.har": true, "chrome-131-sensitive.har": false, "firefox-130.har": false,
			"safari-18.har": false, "mitmproxy-11.har": false, "charles-5.har": false,
			"burp-loggerplusplus.har": false, "insomnia-10.har": false, "mitmproxy-8-labhar.har": false,
		} {
			_, info, err := ReadFile(filepath.Join("testdata", file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, file, info.Sanitized, want)
		}
	})
}

func TestTimestamps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   string // JSON value of startedDateTime
		want    string // RFC 3339 in UTC, "" for zero time
		warning bool
	}{
		{"Chrome toJSON", `"2025-01-06T10:41:12.345Z"`, "2025-01-06T10:41:12.345Z", false},
		{"Firefox local offset", `"2025-02-11T09:15:04.512+01:00"`, "2025-02-11T08:15:04.512Z", false},
		{"negative offset (Charles)", `"2025-03-20T11:04:12.318-07:00"`, "2025-03-20T18:04:12.318Z", false},
		{"half-hour offset", `"2025-02-26T00:01:46.857+05:30"`, "2025-02-25T18:31:46.857Z", false},
		{"microseconds (mitmproxy)", `"2025-03-14T09:26:53.501293+00:00"`, "2025-03-14T09:26:53.501293Z", false},
		{"no fraction (mitmproxy, whole second)", `"2025-03-14T09:27:01+00:00"`, "2025-03-14T09:27:01Z", false},
		{"nanoseconds", `"2025-01-06T10:41:12.123456789Z"`, "2025-01-06T10:41:12.123456789Z", false},
		{"one fraction digit", `"2025-01-06T10:41:12.5Z"`, "2025-01-06T10:41:12.5Z", false},
		{"offset without colon (Burp Logger++)", `"2025-04-02T15:42:07.091+0200"`, "2025-04-02T13:42:07.091Z", false},
		{"hour-only offset", `"2025-04-02T15:42:07.091+02"`, "2025-04-02T13:42:07.091Z", false},
		{"lower-case t and z", `"2025-01-06t10:41:12z"`, "2025-01-06T10:41:12Z", false},
		{"space separator", `"2025-01-06 10:41:12.5+05:30"`, "2025-01-06T05:11:12.5Z", false},
		{"no zone (read as UTC)", `"2025-01-06T10:41:12.250"`, "2025-01-06T10:41:12.25Z", false},
		{"epoch milliseconds", `1736160072345`, "2025-01-06T10:41:12.345Z", false},
		{"epoch seconds", `1736160072.5`, "2025-01-06T10:41:12.5Z", false},
		{"empty (Safari without requestSentDate)", `""`, "", true},
		{"null", `null`, "", true},
		{"garbage", `"yesterday"`, "", true},
		{"object", `{"t":1}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := har("x", `{"startedDateTime":`+tc.value+`,"request":{"method":"GET","url":"https://as.example/x"},"response":{"status":200}}`)
			exs, info := read(t, doc, Options{})
			got := ""
			if !exs[0].Start.IsZero() {
				got = exs[0].Start.UTC().Format(time.RFC3339Nano)
			}
			eq(t, "start", got, tc.want)
			if tc.warning {
				warningsMatch(t, info, "startedDateTime")
				eq(t, "warning entry", info.Warnings[0].Entry, 0)
			} else {
				warningsMatch(t, info)
			}
		})
	}
}

func TestBOM(t *testing.T) {
	data, err := os.ReadFile("testdata/firefox-130.har")
	if err != nil {
		t.Fatal(err)
	}
	plain, pinfo := read(t, string(data), Options{})
	withBOM, binfo := read(t, "\xEF\xBB\xBF"+string(data), Options{})
	eq(t, "exchanges", len(withBOM), len(plain))
	eq(t, "creator", binfo.Creator, pinfo.Creator)
	for i := range plain {
		eq(t, "offset shifted by the BOM", withBOM[i].Ref.Offset, plain[i].Ref.Offset+3)
		eq(t, "length", withBOM[i].Ref.Length, plain[i].Ref.Length)
		eq(t, "url", withBOM[i].Request.URL.String(), plain[i].Request.URL.String())
	}
	// BOM then whitespace then the object.
	exs, _ := read(t, "\xEF\xBB\xBF \r\n"+har("x", entry(`"method":"GET","url":"https://as.example/x"`, `"status":200`)), Options{})
	eq(t, "exchanges", len(exs), 1)
}

func TestMaxBody(t *testing.T) {
	big := strings.Repeat("a", 300)
	doc := har("mitmproxy",
		entry(`"method":"POST","url":"https://as.example/register","postData":{"mimeType":"application/json","text":"`+big+`"}`, `"status":201,"content":{"size":300,"mimeType":"text/plain","text":"`+big+`"}`),
		entry(`"method":"GET","url":"https://as.example/gz"`, `"status":200,"headers":[{"name":"content-encoding","value":"gzip"}],"content":{"size":300,"mimeType":"text/plain","text":"`+base64.StdEncoding.EncodeToString(gzipBytes(t, big))+`","encoding":"base64"}`),
		entry(`"method":"GET","url":"https://as.example/small"`, `"status":200,"content":{"size":100,"mimeType":"text/plain","text":"`+big[:100]+`"}`),
	)
	exs, _ := read(t, doc, Options{MaxBody: 100})
	bodyEqual(t, "request capped", exs[0].Request.Body, big[:100])
	bodyEqual(t, "response capped", exs[0].Response.Body, big[:100])
	gapDetail(t, exs[0], capture.GapRequestBody, "body truncated to 100 of 300 bytes")
	gapDetail(t, exs[0], capture.GapResponseBody, "body truncated to 100 of 300 bytes")
	bodyEqual(t, "decoded body capped", exs[1].Response.Body, big[:100])
	gapDetail(t, exs[1], capture.GapResponseBody, "decoded body truncated to 100 bytes")
	bodyEqual(t, "exactly at the cap", exs[2].Response.Body, big[:100])
	eq(t, "no gap at the cap", exs[2].Gaps, []capture.Gap(nil))

	exs, _ = read(t, doc, Options{})
	eq(t, "default cap keeps everything", len(exs[0].Response.Body), 300)
	eq(t, "no gaps", exs[0].Gaps, []capture.Gap(nil))
}

func TestProgress(t *testing.T) {
	data, err := os.ReadFile("testdata/mitmproxy-11.har")
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		entries int
		offset  int64
	}
	var calls []call
	exs, _, err := Read(bytes.NewReader(data), "m.har", Options{Progress: func(n int, off int64) { calls = append(calls, call{n, off}) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != len(exs) {
		t.Fatalf("%d progress calls for %d entries", len(calls), len(exs))
	}
	for i, c := range calls {
		eq(t, "entries", c.entries, i+1)
		eq(t, "offset is the end of the entry", c.offset, exs[i].Ref.Offset+exs[i].Ref.Length)
		eq(t, "byte before the offset", data[c.offset-1], byte('}'))
	}
	// Skipped entries count too.
	calls = nil
	_, _ = read(t, har("x", `{"request":{"method":"GET","url":"/relative"}}`, entry(`"method":"GET","url":"https://as.example/x"`, `"status":200`)), Options{Progress: func(n int, off int64) { calls = append(calls, call{n, off}) }})
	eq(t, "progress calls", len(calls), 2)
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		time string
		want time.Duration
	}{
		{`112.58399998769164`, 112583999 * time.Nanosecond},
		{`0`, 0},
		{`-1`, 0},
		{`null`, 0},
		{`"57"`, 57 * time.Millisecond},
		{`1e300`, 0}, // beyond a day: not a duration
		{`1e400`, 0}, // beyond float64
	} {
		t.Run(tc.time, func(t *testing.T) {
			doc := har("x", `{"startedDateTime":"2025-01-06T10:00:00Z","time":`+tc.time+`,"request":{"method":"GET","url":"https://as.example/x"},"response":{"status":200}}`)
			exs, info := read(t, doc, Options{})
			eq(t, "duration", exs[0].Duration, tc.want)
			warningsMatch(t, info)
		})
	}
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        string // "" when the entry must be skipped
		warning     string
	}{
		{"GET", "https://as.example/authorize?scope=a+b&state=%2F", "https://as.example/authorize?scope=a+b&state=%2F", ""},
		{"GET", "  https://as.example/x  ", "https://as.example/x", ""},
		{"GET", "HTTPS://AS.example:8443/X", "https://AS.example:8443/X", ""},
		{"GET", "wss://rs.example/ws", "wss://rs.example/ws", ""},
		{"get", "http://127.0.0.1:3334/cb", "http://127.0.0.1:3334/cb", ""},
		{"GET", "http://[::1]:6274/cb?code=x", "http://[::1]:6274/cb?code=x", ""},
		{"CONNECT", "as.example:443", "https://as.example:443", ""},
		{"CONNECT", "https://as.example:443/", "https://as.example:443/", ""},
		{"CONNECT", "as.example:443/path", "", "is not host:port"},
		{"GET", "/relative/path", "", "is not absolute"},
		{"GET", "../../../https@rs.example/mcp", "", "is not absolute"},
		{"GET", "as.example/x", "", "is not absolute"},
		{"GET", "http:///no-host", "", "is not absolute"},
		{"GET", "http://a b.example/", "", "cannot be parsed"},
		{"GET", "http://[::1/", "", "cannot be parsed"},
		{"GET", "data:text/plain,hi", "", "is not absolute"},
		{"GET", "/callback?code=SECRET-CODE&state=s", "", `request.url "/callback?…" is not absolute`},
		{"GET", "http://a b.example/cb?code=SECRET-CODE", "", `request.url "http://a b.example/cb?…" cannot be parsed`},
		{"GET", "chrome-extension://abcdef/popup.html", "", `is not an HTTP URL (scheme "chrome-extension")`},
		{"GET", "", "", "request.url is empty"},
		{"", "https://as.example/x", "", "request.method is missing"},
		{"GET /x", "https://as.example/x", "", "is not an HTTP method"},
	} {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			doc := har("x", entry(fmt.Sprintf(`"method":%s,"url":%s`, jsonString(tc.method), jsonString(tc.url)), `"status":200`))
			exs, info := read(t, doc, Options{})
			if tc.want == "" {
				eq(t, "exchanges", len(exs), 0)
				warningsMatch(t, info, tc.warning)
				if len(info.Warnings) == 1 && !strings.Contains(info.Warnings[0].Msg, "entry skipped: request.") {
					t.Errorf("warning %q does not say the entry was skipped and which field", info.Warnings[0].Msg)
				}
				if len(info.Warnings) == 1 {
					if strings.Contains(info.Warnings[0].Msg, "SECRET") {
						t.Errorf("warning shows the query: %q", info.Warnings[0].Msg)
					}
					eq(t, "warning entry", info.Warnings[0].Entry, 0)
					eq(t, "warning offset", info.Warnings[0].Offset, int64(strings.Index(doc, `{"startedDateTime"`)))
				}
				return
			}
			warningsMatch(t, info)
			eq(t, "url", exs[0].Request.URL.String(), tc.want)
			eq(t, "method", exs[0].Request.Method, strings.ToUpper(tc.method))
		})
	}
}

func TestLogFields(t *testing.T) {
	doc := `{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36","comment":"c"},"browser":{"name":"Chrome","version":"131"},"comment":"mcp-revision: 2025-06-18","pages":[{"id":"page_1"}],"entries":[]}}`
	exs, info := read(t, doc, Options{})
	eq(t, "exchanges", len(exs), 0)
	eq(t, "creator", info.Creator, Creator{Name: "WebInspector", Version: "537.36", Comment: "c"})
	eq(t, "browser", info.Browser, Creator{Name: "Chrome", Version: "131"})
	eq(t, "comment", info.Comment, "mcp-revision: 2025-06-18")
	eq(t, "sanitized needs exchanges", info.Sanitized, false)

	// Wrong types in log fields are warnings, not errors.
	exs, info = read(t, `{"log":{"version":1.2,"creator":"me","entries":[`+entry(`"method":"GET","url":"https://as.example/x"`, `"status":200`)+`]}}`, Options{})
	eq(t, "exchanges", len(exs), 1)
	warningsMatch(t, info, "log.version has an unexpected type (number)", "log.creator has an unexpected type (string)")

	// Members before "log" and unknown members are skipped; entries may
	// come before creator (key order is free).
	exs, info = read(t, `{"x":[1,{"a":"}"}],"log":{"entries":[`+entry(`"method":"GET","url":"https://as.example/x"`, `"status":200`)+`],"creator":{"name":"Firefox","version":"1"},"_custom":{"deep":[[]]}}}`, Options{})
	eq(t, "exchanges", len(exs), 1)
	eq(t, "creator after entries", info.Creator.Name, "Firefox")
	warningsMatch(t, info)
}

// --- helpers -------------------------------------------------------------

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func headersEqual(t *testing.T, what string, h capture.Headers, want []string) {
	t.Helper()
	got := make([]string, 0, len(h))
	for _, f := range h {
		got = append(got, f.Name+": "+f.Value)
	}
	eq(t, what+" headers", got, want)
}

func bodyEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Errorf("%s body = %q, want %q", what, got, want)
	}
}

func jsonField(t *testing.T, body []byte, field string, want any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("body is not a JSON object (%v): %q", err, body)
		return
	}
	eq(t, "JSON "+field, m[field], want)
}

func gapKinds(ex *capture.Exchange) []capture.GapKind {
	var out []capture.GapKind
	for _, g := range ex.Gaps {
		out = append(out, g.Kind)
	}
	return out
}

// gapDetail checks that a gap of kind k with detail containing sub exists,
// or, with sub == "", that there is no gap of kind k.
func gapDetail(t *testing.T, ex *capture.Exchange, k capture.GapKind, sub string) {
	t.Helper()
	for _, g := range ex.Gaps {
		if g.Kind == k {
			if sub == "" {
				t.Errorf("unexpected %s gap: %q", k, g.Detail)
			} else if !strings.Contains(g.Detail, sub) {
				t.Errorf("%s gap detail = %q, want it to contain %q", k, g.Detail, sub)
			}
			return
		}
	}
	if sub != "" {
		t.Errorf("no %s gap (gaps %v), want one containing %q", k, ex.Gaps, sub)
	}
}

// warningsMatch checks the warnings one to one against substrings.
func warningsMatch(t *testing.T, info *Info, subs ...string) {
	t.Helper()
	if len(info.Warnings) != len(subs) {
		t.Errorf("warnings = %v, want %d matching %q", info.Warnings, len(subs), subs)
		return
	}
	for i, s := range subs {
		if !strings.Contains(info.Warnings[i].String(), s) {
			t.Errorf("warning %d = %q, want it to contain %q", i, info.Warnings[i], s)
		}
	}
}

func pkceMatches(t *testing.T, challenge, verifier string) {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	eq(t, "code_challenge = S256(code_verifier)", challenge, base64.RawURLEncoding.EncodeToString(sum[:]))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// latin1 turns bytes into a string with one character per byte, as Burp
// does before an extension serializes it.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// entry builds a minimal HAR entry; req and resp are the members of the
// request and response objects (resp "" leaves the response out).
func entry(req, resp string) string {
	s := `{"startedDateTime":"2025-01-06T10:41:12.345Z","time":1,"request":{` + req + `}`
	if resp != "" {
		s += `,"response":{` + resp + `}`
	}
	return s + `}`
}

func har(creator string, entries ...string) string {
	return `{"log":{"version":"1.2","creator":{"name":` + jsonString(creator) + `,"version":"1"},"entries":[` + strings.Join(entries, ",") + `]}}`
}

func read(t *testing.T, doc string, opts Options) ([]*capture.Exchange, *Info) {
	t.Helper()
	exs, info, err := Read(strings.NewReader(doc), "t.har", opts)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return exs, info
}

func one(t *testing.T, e string) *capture.Exchange {
	t.Helper()
	exs, info := read(t, har("mitmproxy", e), Options{})
	if len(exs) != 1 {
		t.Fatalf("got %d exchanges (warnings %v), want 1", len(exs), info.Warnings)
	}
	if exs[0].Response == nil {
		t.Fatalf("no response (gaps %v)", exs[0].Gaps)
	}
	return exs[0]
}

// Warnings are capped per file: the first maxWarnings, then one line
// counting the rest, and the truncation warning is never lost.
func TestWarningsCapped(t *testing.T) {
	bad := `{"request":{"method":"GET","url":"/relative"}}`
	var es []string
	for range maxWarnings + 50 {
		es = append(es, bad)
	}
	es = append(es, entry(`"method":"GET","url":"https://as.example/x"`, `"status":200`))
	doc := har("x", es...)
	exs, info := read(t, doc, Options{})
	eq(t, "exchanges", len(exs), 1)
	eq(t, "warnings kept", len(info.Warnings), maxWarnings+1)
	last := info.Warnings[len(info.Warnings)-1].String()
	if !strings.Contains(last, "50 more warnings not shown") || strings.Contains(last, "byte 0") {
		t.Errorf("last warning %q", last)
	}
	// Truncated after the bad entries: the truncation is still reported.
	cut := doc[:strings.LastIndex(doc, `"status":200`)]
	_, info = read(t, cut, Options{})
	if w := info.Warnings[len(info.Warnings)-1].Msg; !strings.Contains(w, "ends early") {
		t.Errorf("last warning %q, want the truncation", w)
	}
}
