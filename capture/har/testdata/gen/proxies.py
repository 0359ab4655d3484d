"""Writes mitmproxy-11.har, charles-5.har and burp-loggerplusplus.har.

mitmproxy 11: mitmproxy/addons/savehar.py (json.dumps(indent=4), so
  ensure_ascii: non-ASCII as \\uXXXX and surrogate pairs); startedDateTime from
  datetime.isoformat() ("+00:00", six fraction digits, none at all when the
  microseconds are 0); bodies decoded, binary ones base64 with
  encoding: base64, a body that fails to decode stored raw; postData with
  text and params for every POST/PUT/PATCH; failed flows with status 0,
  content {} and _error; CONNECT flows as https://host:port/.
Charles 5: 4-space pretty JSON in the org.json style (only "</" escaped as
  "<\\/", U+2000-U+20FF escaped, other non-ASCII raw); _charlesStatus first in
  the response; statusText and redirectURL null; HTTP/2 pseudo-headers in the
  header lists; form bodies as params with no text; integer timings.
Burp Suite + Logger++ 3 ("Export as HAR"): Gson, compact, HTML-safe escaping
  (= & < > ' as \\u003d \\u0026 ...); startedDateTime as
  yyyy-MM-dd'T'HH:mm:ss.SSSZ ("+0200"); a non-standard "origin" request
  field; redirectURL "null" when there is no Location; response bodies as
  Burp's byte-per-char string (so a gzip body ends up as Latin-1 text); a
  request without response gets status -1.
"""
import base64
import datetime
import gzip
import hashlib
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def pkce(verifier):
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def jwt(payload, sig):
    h = b64url(json.dumps({"alg": "RS256", "kid": "k-2025-01", "typ": "at+jwt"}, separators=(",", ":")).encode())
    return f"{h}.{b64url(json.dumps(payload, separators=(',', ':')).encode())}.{sig}"


def form(pairs):
    from urllib.parse import urlencode
    return urlencode(pairs)


def nv(pairs):
    return [{"name": k, "value": v} for k, v in pairs]


def compact(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
# A 16x16 ICO header + bitmap start: binary enough for is_mostly_bin.
ICO = bytes([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 104, 4, 0, 0, 22, 0, 0, 0, 40, 0, 0, 0, 16, 0, 0, 0, 32, 0, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]) + bytes(range(200, 256)) * 2


# ---------------------------------------------------------------------------
def mitmproxy():
    UA = "claude-code/1.0.44"
    client_id = "cc_7f3a9d2e41b8"
    verifier, challenge = pkce("Mp11xA7sD9fG2hJ4kL6zX8cV0bN3mQ5wE7rT9yU1iO3")
    state = "mitm-state-5c2e7a9b1d3f"
    code = "ac_Mt4Rw7Yz0Bc3Df6Gh9Jk"
    redirect = "http://localhost:54545/callback"
    at = jwt({"iss": "https://auth.example.com", "sub": "user-2001", "aud": "https://mcp.example.com/mcp", "client_id": client_id, "scope": "mcp:read mcp:write", "iat": 1741944415, "exp": 1741948015}, "c2lnbmF0dXJlLW1p")
    init = compact({"method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {"roots": {}}, "clientInfo": {"name": "claude-code", "version": "1.0.44"}}, "jsonrpc": "2.0", "id": 0})
    err401 = compact({"error": "invalid_token", "error_description": "Missing Authorization header"})
    prm = compact({"resource": "https://mcp.example.com/mcp", "authorization_servers": ["https://auth.example.com"], "scopes_supported": ["mcp:read", "mcp:write"], "bearer_methods_supported": ["header"]})
    oidc = compact({"issuer": "https://auth.example.com", "authorization_endpoint": "https://auth.example.com/authorize", "token_endpoint": "https://auth.example.com/token", "registration_endpoint": "https://auth.example.com/register", "jwks_uri": "https://auth.example.com/jwks", "scopes_supported": ["openid", "mcp:read", "mcp:write"], "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"], "ui_locales_supported": ["de-DE", "fr-FR"], "x_display_name": "Exämple ÄS – Anmeldung 🔐"})
    dcr_req = compact({"redirect_uris": [redirect], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "client_name": "Claude Code (Müller’s laptop)"})
    dcr_resp = compact({"client_id": client_id, "client_id_issued_at": 1741944413, "redirect_uris": [redirect], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "client_name": "Claude Code (Müller’s laptop)"})
    token_pairs = [("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier), ("redirect_uri", redirect), ("client_id", client_id), ("resource", "https://mcp.example.com/mcp")]
    token_body = form(token_pairs)
    token_resp = compact({"access_token": at, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt_Mi2Tm4Pr6Ox8Yq0", "scope": "mcp:read mcp:write"})
    sse = "event: message\ndata: " + compact({"result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {"listChanged": True}}, "serverInfo": {"name": "example-mcp", "version": "1.4.0"}}, "jsonrpc": "2.0", "id": 0}) + "\n\n"
    notif = compact({"method": "notifications/initialized", "jsonrpc": "2.0"})
    broken_gzip = gzip.compress(b"window.__widget = {version: '3.1.0', endpoint: 'https://cdn.example.com/v3'};\n" * 4, mtime=0)[:48]

    def hdr_size(h):
        return len("".join(f"{k}: {v}\r\n" for k, v in h))

    def ts(s):
        return datetime.datetime.fromisoformat(s).timestamp()

    def req_headers(host, extra, length=None, ctype=None, accept="application/json, text/event-stream"):
        h = [("host", host), ("connection", "keep-alive")]
        if ctype:
            h.append(("content-type", ctype))
        h += [("accept", accept)] + extra + [("accept-language", "*"), ("sec-fetch-mode", "cors"), ("user-agent", UA), ("accept-encoding", "gzip, deflate")]
        if length is not None:
            h.append(("content-length", str(length)))
        return h

    entries = []

    def add(started, method, url, reqh, status=None, reason="", resph=(), body=None, raw_size=None, binary=False, post=None, post_mime="", params=(), timings=(-1.0, -1.0, 0.5, 1.2, 30.0), ip="203.0.113.10", error=None, cookies=(), resp_cookies=()):
        connect, ssl, send, receive, wait = timings
        t = {"connect": connect, "ssl": ssl, "send": send, "receive": receive, "wait": wait}
        if status is None:
            response = {"status": 0, "statusText": "", "httpVersion": "", "headers": [], "cookies": [], "content": {}, "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 0, "_error": error}
        else:
            content_bytes = body if isinstance(body, bytes) else (body or "").encode()
            size = raw_size if raw_size is not None else len(content_bytes)
            response = {
                "status": status, "statusText": reason, "httpVersion": "HTTP/1.1", "cookies": list(resp_cookies), "headers": nv(resph),
                "content": {"size": size, "compression": len(content_bytes) - size if raw_size is not None and not binary == "raw" else 0, "mimeType": dict((k.lower(), v) for k, v in resph).get("content-type", "")},
                "redirectURL": dict((k.lower(), v) for k, v in resph).get("location", ""), "headersSize": hdr_size(resph), "bodySize": size,
            }
            if binary:
                response["content"]["text"] = base64.b64encode(content_bytes).decode()
                response["content"]["encoding"] = "base64"
            else:
                response["content"]["text"] = content_bytes.decode()
        u = url
        from urllib.parse import urlsplit, parse_qsl
        e = {
            "startedDateTime": datetime.datetime.fromtimestamp(ts(started), datetime.timezone.utc).isoformat(),
            "time": sum(v for v in t.values() if v is not None and v >= 0),
            "request": {"method": method, "url": u, "httpVersion": "HTTP/1.1", "cookies": nv(cookies), "headers": nv(reqh), "queryString": nv(parse_qsl(urlsplit(u).query, keep_blank_values=True)), "headersSize": hdr_size(reqh), "bodySize": len(post.encode()) if post else 0},
            "response": response, "cache": {}, "timings": t,
        }
        if method in ("POST", "PUT", "PATCH"):
            e["request"]["postData"] = {"mimeType": post_mime, "text": post or "", "params": nv(params)}
        if ip:
            e["serverIPAddress"] = ip
        entries.append(e)

    J = "application/json"
    add("2025-03-14T09:26:53.501293+00:00", "POST", "https://mcp.example.com/mcp", req_headers("mcp.example.com", [], len(init), J), 401, "Unauthorized",
        [("x-powered-by", "Express"), ("www-authenticate", 'Bearer error="invalid_token", error_description="Missing Authorization header", scope="mcp:read mcp:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'), ("content-type", "application/json; charset=utf-8"), ("content-length", str(len(err401))), ("date", "Fri, 14 Mar 2025 09:26:53 GMT"), ("connection", "keep-alive"), ("keep-alive", "timeout=5")],
        err401, post=init, post_mime=J, timings=(12.501, 18.220, 0.41, 0.62, 21.4))
    add("2025-03-14T09:26:53.562811+00:00", "GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", req_headers("mcp.example.com", [("mcp-protocol-version", "2025-06-18")], accept="*/*"), 200, "OK",
        [("content-type", "application/json; charset=utf-8"), ("content-encoding", "gzip"), ("vary", "Accept-Encoding"), ("date", "Fri, 14 Mar 2025 09:26:53 GMT"), ("connection", "keep-alive"), ("transfer-encoding", "chunked")],
        prm, raw_size=len(gzip.compress(prm.encode(), mtime=0)), timings=(-1.0, -1.0, 0.2, 0.5, 14.9))
    add("2025-03-14T09:26:53.601245+00:00", "GET", "https://auth.example.com/.well-known/oauth-authorization-server", req_headers("auth.example.com", [("mcp-protocol-version", "2025-06-18")], accept="*/*"), 404, "Not Found",
        [("content-type", "text/html; charset=utf-8"), ("content-length", "171"), ("content-security-policy", "default-src 'none'"), ("x-content-type-options", "nosniff"), ("date", "Fri, 14 Mar 2025 09:26:53 GMT")],
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /.well-known/oauth-authorization-server</pre>\n</body>\n</html>\n'[:171],
        timings=(10.9, 16.3, 0.2, 0.3, 11.0), ip="203.0.113.20")
    add("2025-03-14T09:26:53.640002+00:00", "GET", "https://auth.example.com/.well-known/openid-configuration", req_headers("auth.example.com", [("mcp-protocol-version", "2025-06-18")], accept="*/*"), 200, "OK",
        [("content-type", "application/json; charset=utf-8"), ("content-length", str(len(oidc.encode()))), ("cache-control", "public, max-age=3600"), ("date", "Fri, 14 Mar 2025 09:26:53 GMT")],
        oidc, timings=(-1.0, -1.0, 0.2, 0.4, 9.7), ip="203.0.113.20")
    add("2025-03-14T09:26:53.702519+00:00", "POST", "https://auth.example.com/register", req_headers("auth.example.com", [], len(dcr_req.encode()), J, accept="application/json"), 201, "Created",
        [("content-type", "application/json; charset=utf-8"), ("cache-control", "no-store"), ("pragma", "no-cache"), ("content-length", str(len(dcr_resp.encode()))), ("date", "Fri, 14 Mar 2025 09:26:53 GMT")],
        dcr_resp, post=dcr_req, post_mime=J, timings=(-1.0, -1.0, 0.3, 0.4, 33.3), ip="203.0.113.20")
    add("2025-03-14T09:26:58.913377+00:00", "POST", "https://auth.example.com/token", req_headers("auth.example.com", [], len(token_body), "application/x-www-form-urlencoded", accept="application/json"), 200, "OK",
        [("content-type", "application/json; charset=utf-8"), ("cache-control", "no-store"), ("pragma", "no-cache"), ("content-length", str(len(token_resp))), ("date", "Fri, 14 Mar 2025 09:26:58 GMT")],
        token_resp, post=token_body, post_mime="application/x-www-form-urlencoded", params=token_pairs, timings=(-1.0, -1.0, 0.3, 0.5, 61.2), ip="203.0.113.20")
    add("2025-03-14T09:26:59.050911+00:00", "POST", "https://mcp.example.com/mcp", req_headers("mcp.example.com", [("authorization", f"Bearer {at}")], len(init), J), 200, "OK",
        [("x-powered-by", "Express"), ("content-type", "text/event-stream"), ("cache-control", "no-cache"), ("connection", "keep-alive"), ("mcp-session-id", "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b"), ("date", "Fri, 14 Mar 2025 09:26:59 GMT"), ("transfer-encoding", "chunked")],
        sse, post=init, post_mime=J, timings=(-1.0, -1.0, 0.3, 2.1, 40.7))
    add("2025-03-14T09:26:59.120448+00:00", "GET", "https://mcp.example.com/favicon.ico", req_headers("mcp.example.com", [], accept="*/*"), 200, "OK",
        [("content-type", "image/x-icon"), ("content-encoding", "br"), ("vary", "Accept-Encoding"), ("cache-control", "public, max-age=604800"), ("date", "Fri, 14 Mar 2025 09:26:59 GMT")],
        ICO, raw_size=97, binary=True, timings=(-1.0, -1.0, 0.1, 0.3, 8.8))
    add("2025-03-14T09:26:59.201766+00:00", "GET", "https://cdn.example.com/widget.js", req_headers("cdn.example.com", [], accept="*/*"), 200, "OK",
        [("content-type", "application/javascript"), ("content-encoding", "gzip"), ("content-length", "48"), ("date", "Fri, 14 Mar 2025 09:26:59 GMT")],
        broken_gzip, binary=True, timings=(9.1, 14.2, 0.1, 0.2, 12.5), ip="198.51.100.7")
    entries[-1]["response"]["content"]["compression"] = 0
    add("2025-03-14T09:26:59.300000+00:00", "CONNECT", "https://telemetry.example.net:443/", [("host", "telemetry.example.net:443"), ("user-agent", UA)],
        error="Client disconnected.", timings=(21.7, -1.0, 0, 0, 0), ip="192.0.2.44")
    entries[-1]["request"]["queryString"] = []
    add("2025-03-14T09:27:01+00:00", "POST", "https://mcp.example.com/mcp", req_headers("mcp.example.com", [("authorization", f"Bearer {at}"), ("mcp-protocol-version", "2025-06-18"), ("mcp-session-id", "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b")], len(notif), J), 202, "Accepted",
        [("x-powered-by", "Express"), ("date", "Fri, 14 Mar 2025 09:27:01 GMT"), ("connection", "keep-alive"), ("keep-alive", "timeout=5"), ("content-length", "0")],
        "", post=notif, post_mime=J, timings=(-1.0, -1.0, 0.2, 0.1, 3.9))
    har = {"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.1.3", "comment": ""}, "pages": [], "entries": entries}}
    (OUT / "mitmproxy-11.har").write_bytes(json.dumps(har, indent=4).encode())


# ---------------------------------------------------------------------------
def orgjson_escape(text):
    # org.json JSONObject.quote: "</" -> "<\/", control chars and
    # U+0080-U+009F, U+2000-U+20FF as \uXXXX.
    out = []
    prev = ""
    for c in text:
        if c == "/" and prev == "<":
            out.append("\\/")
        elif c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\b":
            out.append("\\b")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\f":
            out.append("\\f")
        elif c == "\r":
            out.append("\\r")
        elif c < " " or "\u0080" <= c < "\u00a0" or "\u2000" <= c < "\u2100":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
        prev = c
    return '"' + "".join(out) + '"'


def pretty(o, ind, level=0, esc=orgjson_escape):
    pad = " " * (ind * (level + 1))
    end = " " * (ind * level)
    if isinstance(o, dict):
        if not o:
            return "{}"
        return "{\n" + ",\n".join(f"{pad}{esc(k)}: {pretty(v, ind, level + 1, esc)}" for k, v in o.items()) + "\n" + end + "}"
    if isinstance(o, list):
        if not o:
            return "[]"
        return "[\n" + ",\n".join(pad + pretty(v, ind, level + 1, esc) for v in o) + "\n" + end + "]"
    if isinstance(o, str):
        return esc(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    return str(o)


def charles():
    UA = "mcp-remote/0.1.18 node/22.14.0"
    client_id = "ch5-9a8b7c6d5e4f"
    verifier, challenge = pkce("Ch50xZ9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7")
    state = "QzJ0c0hTbWFkZQ"
    code = "ac_Ch9Lq2Wv5Ye8Rt1Ui4Op"
    redirect = "http://127.0.0.1:3334/oauth/callback"
    from urllib.parse import urlencode
    authorize = "https://auth.example.com/authorize?" + urlencode({"response_type": "code", "client_id": client_id, "code_challenge": challenge, "code_challenge_method": "S256", "redirect_uri": redirect, "state": state, "scope": "mcp:read", "resource": "https://mcp.example.com/mcp"})
    callback = f"{redirect}?code={code}&state={state}"
    at = jwt({"iss": "https://auth.example.com", "sub": "user-3003", "aud": "https://mcp.example.com/mcp", "client_id": client_id, "scope": "mcp:read", "iat": 1742493860, "exp": 1742497460}, "c2lnbmF0dXJlLWNo")
    init = compact({"method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "mcp-remote", "version": "0.1.18"}}, "jsonrpc": "2.0", "id": 0})
    err401 = compact({"error": "invalid_token", "error_description": "Missing Authorization header"})
    prm = compact({"resource": "https://mcp.example.com/mcp", "authorization_servers": ["https://auth.example.com"], "scopes_supported": ["mcp:read"]})
    asm = compact({"issuer": "https://auth.example.com", "authorization_endpoint": "https://auth.example.com/authorize", "token_endpoint": "https://auth.example.com/token", "registration_endpoint": "https://auth.example.com/register", "code_challenge_methods_supported": ["S256"], "service_documentation": "https://auth.example.com/docs – “OAuth” guide"})
    dcr_req = compact({"redirect_uris": [redirect], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "client_name": "MCP CLI Proxy", "client_uri": "https://github.com/modelcontextprotocol/mcp-cli", "software_id": "2e6dc280-f3c3-4e01-99a7-8181dbd1d23d", "software_version": "0.1.18"})
    dcr_resp = compact({"client_id": client_id, "client_id_issued_at": 1742493852, "redirect_uris": [redirect], "token_endpoint_auth_method": "none", "client_name": "MCP CLI Proxy"})
    token_pairs = [("grant_type", "authorization_code"), ("client_id", client_id), ("code", code), ("code_verifier", verifier), ("redirect_uri", redirect), ("resource", "https://mcp.example.com/mcp")]
    token_resp = compact({"access_token": at, "token_type": "Bearer", "expires_in": 3600, "scope": "mcp:read"})
    sse = "event: message\ndata: " + compact({"result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "example-mcp", "version": "1.4.0"}}, "jsonrpc": "2.0", "id": 0}) + "\n\n"
    html = "<!DOCTYPE html>\n<html>\n<head><title>Authorization complete</title></head>\n<body>\n<h1>Authorization successful</h1>\n<p>You can close this window and return to the terminal.</p>\n<script>setTimeout(() => window.close(), 1000);</script>\n</body>\n</html>\n"

    def entry(started, time, method, url, proto, reqh, status, statusText, resph, content, post=None, bodySize=0, headersSize=0, respHeadersSize=0, respBodySize=0, ip="203.0.113.10", timings=(-1, -1, -1, 1, 30, 1), cookies=()):
        from urllib.parse import urlsplit, parse_qsl
        req = {"method": method, "url": url, "httpVersion": proto, "cookies": nv(cookies), "headers": nv(reqh), "queryString": nv(parse_qsl(urlsplit(url).query, keep_blank_values=True))}
        if post is not None:
            req["postData"] = post
        req["headersSize"] = headersSize
        req["bodySize"] = bodySize
        resp = {"_charlesStatus": "COMPLETE", "status": status, "statusText": statusText, "httpVersion": proto, "cookies": [], "headers": nv(resph), "content": content, "redirectURL": None, "headersSize": respHeadersSize, "bodySize": respBodySize}
        dns, connect, ssl, send, wait, receive = timings
        return {"startedDateTime": started, "time": time, "request": req, "response": resp, "serverIPAddress": ip, "cache": {}, "timings": {"dns": dns, "connect": connect, "ssl": ssl, "send": send, "wait": wait, "receive": receive}}

    def h2(method, url, extra):
        from urllib.parse import urlsplit
        u = urlsplit(url)
        return [(":method", method), (":authority", u.netloc), (":scheme", "https"), (":path", u.path + ("?" + u.query if u.query else ""))] + extra

    node = [("accept-language", "*"), ("sec-fetch-mode", "cors"), ("user-agent", UA), ("accept-encoding", "gzip, deflate")]
    entries = [
        entry("2025-03-20T11:04:12.318-07:00", 57, "POST", "https://mcp.example.com/mcp", "HTTP/1.1",
              [("Host", "mcp.example.com"), ("Connection", "keep-alive"), ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")] + [(k.title() if k != "user-agent" else "User-Agent", v) for k, v in node] + [("Content-Length", str(len(init)))],
              401, "Unauthorized",
              [("X-Powered-By", "Express"), ("WWW-Authenticate", 'Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'), ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(err401))), ("Date", "Thu, 20 Mar 2025 18:04:12 GMT"), ("Connection", "keep-alive")],
              {"size": len(err401), "mimeType": "application/json; charset=utf-8", "text": err401},
              post={"mimeType": "application/json", "text": init}, bodySize=len(init), headersSize=268, respHeadersSize=377, respBodySize=len(err401), timings=(11, 19, 27, 1, 17, 1)),
        entry("2025-03-20T11:04:12.402-07:00", 41, "GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", "HTTP/2.0",
              h2("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", [("mcp-protocol-version", "2025-06-18"), ("accept", "*/*")] + node),
              200, None,
              [(":status", "200"), ("content-type", "application/json; charset=utf-8"), ("content-length", str(len(prm))), ("cache-control", "public, max-age=3600"), ("date", "Thu, 20 Mar 2025 18:04:12 GMT")],
              {"size": len(prm), "mimeType": "application/json; charset=utf-8", "text": prm}, headersSize=64, respHeadersSize=48, respBodySize=len(prm), timings=(-1, -1, -1, 0, 40, 1)),
        entry("2025-03-20T11:04:12.455-07:00", 73, "GET", "https://auth.example.com/.well-known/oauth-authorization-server", "HTTP/2.0",
              h2("GET", "https://auth.example.com/.well-known/oauth-authorization-server", [("mcp-protocol-version", "2025-06-18"), ("accept", "*/*")] + node),
              200, None,
              [(":status", "200"), ("content-type", "application/json"), ("content-encoding", "gzip"), ("vary", "Accept-Encoding"), ("date", "Thu, 20 Mar 2025 18:04:12 GMT")],
              {"size": len(asm.encode()), "compression": len(asm.encode()) - 221, "mimeType": "application/json", "text": asm}, headersSize=71, respHeadersSize=39, respBodySize=221, ip="203.0.113.20", timings=(9, 18, 25, 0, 20, 1)),
        entry("2025-03-20T11:04:12.530-07:00", 66, "POST", "https://auth.example.com/register", "HTTP/2.0",
              h2("POST", "https://auth.example.com/register", [("content-type", "application/json"), ("accept", "application/json")] + node + [("content-length", str(len(dcr_req)))]),
              201, None,
              [(":status", "201"), ("content-type", "application/json; charset=utf-8"), ("cache-control", "no-store"), ("content-length", str(len(dcr_resp))), ("date", "Thu, 20 Mar 2025 18:04:12 GMT")],
              {"size": len(dcr_resp), "mimeType": "application/json; charset=utf-8", "text": dcr_resp},
              post={"mimeType": "application/json", "text": dcr_req}, bodySize=len(dcr_req), headersSize=88, respHeadersSize=52, respBodySize=len(dcr_resp), ip="203.0.113.20", timings=(-1, -1, -1, 1, 64, 1)),
        entry("2025-03-20T11:04:13.871-07:00", 94, "GET", authorize, "HTTP/2.0",
              h2("GET", authorize, [("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), ("cookie", "as_session=s%3A3c4d5e6f.Lk2"), ("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15"), ("accept-language", "en-GB,en;q=0.9"), ("accept-encoding", "gzip, deflate, br")]),
              302, None,
              [(":status", "302"), ("location", callback), ("cache-control", "no-store"), ("set-cookie", "as_session=s%3A3c4d5e6f.Lk3; Path=/; HttpOnly; Secure; SameSite=Lax"), ("content-length", "0"), ("date", "Thu, 20 Mar 2025 18:04:13 GMT")],
              {"size": 0, "mimeType": None}, headersSize=402, respHeadersSize=198, respBodySize=0, ip="203.0.113.20", timings=(-1, -1, -1, 0, 93, 1), cookies=[("as_session", "s%3A3c4d5e6f.Lk2")]),
        entry("2025-03-20T11:04:13.990-07:00", 3, "GET", callback, "HTTP/1.1",
              [("Host", "127.0.0.1:3334"), ("Upgrade-Insecure-Requests", "1"), ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15"), ("Accept-Language", "en-GB,en;q=0.9"), ("Accept-Encoding", "gzip, deflate"), ("Connection", "keep-alive")],
              200, "OK",
              [("Content-Type", "text/html"), ("Date", "Thu, 20 Mar 2025 18:04:13 GMT"), ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Content-Length", str(len(html)))],
              {"size": len(html), "mimeType": "text/html", "text": html}, headersSize=390, respHeadersSize=135, respBodySize=len(html), ip="127.0.0.1", timings=(-1, 0, -1, 0, 3, 0)),
        entry("2025-03-20T11:04:14.102-07:00", 88, "POST", "https://auth.example.com/token", "HTTP/2.0",
              h2("POST", "https://auth.example.com/token", [("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json")] + node + [("content-length", str(len(form(token_pairs))))]),
              200, None,
              [(":status", "200"), ("content-type", "application/json; charset=utf-8"), ("cache-control", "no-store"), ("pragma", "no-cache"), ("content-length", str(len(token_resp))), ("date", "Thu, 20 Mar 2025 18:04:14 GMT")],
              {"size": len(token_resp), "mimeType": "application/json; charset=utf-8", "text": token_resp},
              post={"mimeType": "application/x-www-form-urlencoded", "params": nv(token_pairs)}, bodySize=len(form(token_pairs)), headersSize=95, respHeadersSize=61, respBodySize=len(token_resp), ip="203.0.113.20", timings=(-1, -1, -1, 1, 86, 1)),
        entry("2025-03-20T11:04:14.240-07:00", 52, "POST", "https://mcp.example.com/mcp", "HTTP/1.1",
              [("Host", "mcp.example.com"), ("Connection", "keep-alive"), ("Authorization", f"Bearer {at}"), ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"), ("Accept-Language", "*"), ("Sec-Fetch-Mode", "cors"), ("User-Agent", UA), ("Accept-Encoding", "gzip, deflate"), ("Content-Length", str(len(init)))],
              200, "OK",
              [("X-Powered-By", "Express"), ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("Connection", "keep-alive"), ("mcp-session-id", "c0ffee00-1234-4abc-8def-0123456789ab"), ("Date", "Thu, 20 Mar 2025 18:04:14 GMT"), ("Transfer-Encoding", "chunked")],
              {"size": len(sse), "mimeType": "text/event-stream", "text": sse},
              post={"mimeType": "application/json", "text": init}, bodySize=len(init), headersSize=910, respHeadersSize=232, respBodySize=len(sse), timings=(-1, -1, -1, 0, 50, 2)),
        entry("2025-03-20T11:04:14.301-07:00", 12, "GET", "https://mcp.example.com/logo.png", "HTTP/1.1",
              [("Host", "mcp.example.com"), ("Connection", "keep-alive"), ("Accept", "*/*"), ("User-Agent", UA), ("Accept-Encoding", "gzip, deflate")],
              200, "OK",
              [("Content-Type", "image/png"), ("Content-Length", str(len(PNG))), ("Cache-Control", "public, max-age=86400"), ("Date", "Thu, 20 Mar 2025 18:04:14 GMT")],
              {"size": len(PNG), "mimeType": "image/png", "text": base64.b64encode(PNG).decode(), "encoding": "base64"}, headersSize=120, respHeadersSize=141, respBodySize=len(PNG), timings=(-1, -1, -1, 0, 11, 1)),
    ]
    har = {"log": {"version": "1.2", "creator": {"name": "Charles Proxy", "version": "5.0.1"}, "entries": entries}}
    (OUT / "charles-5.har").write_bytes(pretty(har, 4).encode())


# ---------------------------------------------------------------------------
def gson_escape(s):
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\b":
            out.append("\\b")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\f":
            out.append("\\f")
        elif c < " " or c in "<>&='" or c in "\u2028\u2029":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def gson(o):
    if isinstance(o, dict):
        # Gson with serializeNulls off drops members whose value is null.
        return "{" + ",".join(f"{gson_escape(k)}:{gson(v)}" for k, v in o.items() if v is not None) + "}"
    if isinstance(o, list):
        return "[" + ",".join(gson(v) for v in o) + "]"
    if isinstance(o, str):
        return gson_escape(o)
    if o is True:
        return "true"
    if o is False:
        return "false"
    return str(o)


def burp():
    UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
    client_id = "bp-4c5d6e7f8a9b"
    verifier, challenge = pkce("Bp20xQ1wE2rT3yU4iO5pA6sD7fG8hJ9kL0zX1cV2bN3")
    state = "St8_p1Q'x=&y"
    code = "ac_Bp3Xm6Qn9Rv2Sw5Tz8Ua"
    redirect = "https://app.example.org/oauth/callback"
    from urllib.parse import urlencode, quote
    authorize = "https://auth.example.com/authorize?" + urlencode({"response_type": "code", "client_id": client_id, "code_challenge": challenge, "code_challenge_method": "S256", "redirect_uri": redirect, "state": state, "scope": "openid mcp:read", "resource": "https://mcp.example.com/mcp"})
    callback = f"{redirect}?code={code}&state={quote(state, safe='')}"
    at = jwt({"iss": "https://auth.example.com", "sub": "user-4004", "aud": "https://mcp.example.com/mcp", "client_id": client_id, "scope": "openid mcp:read", "iat": 1743601329, "exp": 1743604929}, "c2lnbmF0dXJlLWJw")
    token_pairs = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect), ("code_verifier", verifier), ("client_id", client_id)]
    token_body = urlencode(token_pairs)
    token_resp = compact({"access_token": at, "token_type": "Bearer", "expires_in": 3600, "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQwMDQifQ.c2ln", "scope": "openid mcp:read"})
    token_gz = gzip.compress(token_resp.encode(), mtime=0)
    tools = compact({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "a<b & c='d'"}}})
    tools_resp = compact({"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "no results for a<b & c='d'"}], "isError": False}})

    def e(started, time, method, url, origin, reqh, cookies, post, status, status_text, resph, body, mime, redirect_url, wait):
        req_body_len = len(post["text"].encode("latin-1", "replace")) if post else 0
        req_bytes = len(f"{method} {url} HTTP/2\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in reqh) + 2 + req_body_len
        ent = {"startedDateTime": started, "time": time,
               "request": {"method": method, "url": url, "httpVersion": "HTTP/2", "origin": origin, "cookies": nv(cookies), "headers": nv(reqh), "queryString": nv([p.split("=", 1) for p in url.split("?", 1)[1].split("&")] if "?" in url else [])}}
        if post:
            ent["request"]["postData"] = post
        ent["request"]["headersSize"] = req_bytes - req_body_len
        ent["request"]["bodySize"] = req_body_len
        if status is None:
            ent["response"] = {"status": -1, "statusText": "", "httpVersion": "", "cookies": [], "headers": [], "redirectURL": "null", "headersSize": 1, "bodySize": -1, "content": {"size": -1, "mimeType": "", "text": ""}}
        else:
            resp_bytes = len(f"HTTP/2 {status} {status_text}\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in resph) + 2 + len(body)
            ent["response"] = {"status": status, "statusText": status_text, "httpVersion": "HTTP/2", "cookies": [], "headers": nv(resph), "redirectURL": redirect_url,
                               "headersSize": resp_bytes - len(body), "bodySize": len(body), "content": {"size": len(body), "mimeType": mime, "text": body.decode("latin-1")}}
        ent["cache"] = {}
        ent["timings"] = {"send": 0, "wait": wait, "receive": 0}
        return ent

    common = [("Sec-Ch-Ua", '"Not(A:Brand";v="99", "Google Chrome";v="133", "Chromium";v="133"'), ("Sec-Ch-Ua-Mobile", "?0"), ("Sec-Ch-Ua-Platform", '"Windows"'), ("Accept-Language", "en-US,en;q=0.9"), ("User-Agent", UA)]
    entries = [
        e("2025-04-02T15:42:07.091+0200", 118, "GET", authorize, "",
          [("Host", "auth.example.com"), ("Cookie", "as_session=s%3A8e9f0a1b.Mn4")] + common + [("Upgrade-Insecure-Requests", "1"), ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"), ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"), ("Referer", "https://app.example.org/"), ("Accept-Encoding", "gzip, deflate, br"), ("Priority", "u=0, i")],
          [("as_session", "s%3A8e9f0a1b.Mn4")], None,
          302, "Found", [("Location", callback), ("Cache-Control", "no-store"), ("Set-Cookie", "as_session=s%3A8e9f0a1b.Mn5; Path=/; HttpOnly; Secure; SameSite=Lax"), ("Content-Length", "0"), ("Date", "Wed, 02 Apr 2025 13:42:07 GMT")],
          b"", "", callback, 117),
        e("2025-04-02T15:42:08.460+0200", 95, "POST", "https://auth.example.com/token", "https://app.example.org",
          [("Host", "auth.example.com"), ("Content-Length", str(len(token_body)))] + common + [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"), ("Origin", "https://app.example.org"), ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty"), ("Referer", "https://app.example.org/"), ("Accept-Encoding", "gzip, deflate, br"), ("Priority", "u=1, i")],
          [], {"mimeType": "application/x-www-form-urlencoded", "params": nv([p.split("=", 1) for p in token_body.split("&")]), "text": token_body},
          200, "OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Encoding", "gzip"), ("Cache-Control", "no-store"), ("Pragma", "no-cache"), ("Vary", "Origin, Accept-Encoding"), ("Access-Control-Allow-Origin", "https://app.example.org"), ("Date", "Wed, 02 Apr 2025 13:42:08 GMT")],
          token_gz, "application/json; charset=utf-8", "null", 94),
        e("2025-04-02T15:42:09.002+0200", 61, "POST", "https://mcp.example.com/mcp", "https://app.example.org",
          [("Host", "mcp.example.com"), ("Content-Length", str(len(tools))), ("Authorization", f"Bearer {at}"), ("Mcp-Protocol-Version", "2025-06-18"), ("Mcp-Session-Id", "b0b0cafe-0000-4000-8000-000000000001")] + common + [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"), ("Origin", "https://app.example.org"), ("Accept-Encoding", "gzip, deflate, br")],
          [], {"mimeType": "application/json", "params": [], "text": tools},
          200, "OK", [("Content-Type", "application/json"), ("Content-Length", str(len(tools_resp))), ("Access-Control-Allow-Origin", "https://app.example.org"), ("Date", "Wed, 02 Apr 2025 13:42:09 GMT")],
          tools_resp.encode(), "application/json", "null", 60),
        e("2025-04-02T15:42:09.777+0200", 0, "GET", "https://mcp.example.com/.well-known/oauth-protected-resource", "",
          [("Host", "mcp.example.com")] + common + [("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate, br")],
          [], None, None, None, None, None, None, None, -1),
    ]
    har = {"log": {"version": "1.2", "creator": {"name": "LoggerPlusPlus", "version": "3.20.0"}, "pages": [], "entries": entries}}
    (OUT / "burp-loggerplusplus.har").write_bytes(gson(har).encode())


mitmproxy()
charles()
burp()
