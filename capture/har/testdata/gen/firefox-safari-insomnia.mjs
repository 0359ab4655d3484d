// Writes firefox-130.har, safari-18.har and insomnia-10.har.
//
// Firefox 130: devtools/client/netmonitor/src/har/har-builder.js + har-exporter
//   (JSON.stringify(har, null, "  ")); local-time startedDateTime with offset
//   ("2025-02-11T09:15:04.512+01:00"); request keys bodySize first; decoded
//   queryString/params; content {mimeType, size, [encoding], text}; response
//   cookies as name/value only; integer timings; X-Firefox-Spdy header;
//   aborted requests with status 0, empty headers and content {size: -1}.
// Safari 18: Source/WebInspectorUI/UserInterface/Controllers/HARBuilder.js
//   (JSON.stringify(har, null, 2)); creator "WebKit Web Inspector"; _fetchType,
//   _transferSize and _error custom fields; failed loads with status 0.
// Insomnia 10: packages/insomnia/src/common/har.ts (JSON.stringify(.., '\t'));
//   every entry carries the export time as startedDateTime, the request name
//   as comment, form bodies as params only, and a request that was never
//   sent gets the placeholder response {status: 0, httpVersion: 'HTTP/1.1',
//   headers: [], content: {size: 0, mimeType: ''}}.
import { writeFileSync } from 'node:fs';
import { PNG_1x1, decodedQuery, form, hdrs, jwt, pkce, utf8len } from './common.mjs';

const out = (f, obj, indent) => writeFileSync(new URL(`../${f}`, import.meta.url), JSON.stringify(obj, null, indent));
const INSPECTOR = 'http://localhost:6274';

// ---------------------------------------------------------------------------
function firefox() {
  const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:130.0) Gecko/20100101 Firefox/130.0';
  const clientId = '8b0e2f4c-6a1d-4c3e-9f7b-2d5a8c1e0f36';
  const { verifier, challenge } = pkce('Fx130pQ8mZ2vN5rT0wY7cK3hL6jB9dS1gA4eU7iO2uy');
  const state = 'f1e2d3c4b5a69788796a5b4c3d2e1f00';
  const code = 'ac_Ff9Gh2Jk5Lm8Np1Qr4St';
  const redirect = `${INSPECTOR}/oauth/callback`;
  const authorize = 'https://auth.example.com/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirect, state, scope: 'mcp:read mcp:write', resource: 'https://mcp.example.com/mcp',
  }).toString();
  const callback = `${redirect}?code=${code}&state=${state}`;
  const init = JSON.stringify({ method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'mcp-inspector', version: '0.16.2' } }, jsonrpc: '2.0', id: 0 });
  const err401 = JSON.stringify({ error: 'invalid_token', error_description: 'Missing Authorization header' });
  const prm = JSON.stringify({ resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://auth.example.com'], scopes_supported: ['mcp:read', 'mcp:write'], bearer_methods_supported: ['header'] });
  const asm = JSON.stringify({ issuer: 'https://auth.example.com', authorization_endpoint: 'https://auth.example.com/authorize', token_endpoint: 'https://auth.example.com/token', registration_endpoint: 'https://auth.example.com/register', scopes_supported: ['mcp:read', 'mcp:write'], response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] });
  const dcrReq = JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector' });
  const dcrResp = JSON.stringify({ client_id: clientId, client_id_issued_at: 1739261704, redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP Inspector' });
  const tokenBody = form([['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', redirect], ['client_id', clientId], ['resource', 'https://mcp.example.com/mcp']]);
  const at = jwt({ iss: 'https://auth.example.com', sub: 'user-0815', aud: 'https://mcp.example.com/mcp', client_id: clientId, scope: 'mcp:read mcp:write', iat: 1739261706, exp: 1739265306 }, 'c2lnbmF0dXJlLWZ4');
  const tokenResp = JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, scope: 'mcp:read mcp:write' });
  const sse = 'event: message\ndata: ' + JSON.stringify({ result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'example-mcp', version: '1.4.0' } }, jsonrpc: '2.0', id: 0 }) + '\n\n';
  const html = '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <title>MCP Inspector</title>\n  </head>\n  <body>\n    <div id="root"></div>\n  </body>\n</html>\n';
  const base = [['User-Agent', UA], ['Accept-Language', 'en-US,en;q=0.5'], ['Accept-Encoding', 'gzip, deflate, br, zstd']];
  const fetchHdrs = (host, accept, extra) => [['Host', host], ...base.slice(0, 1), ['Accept', accept], ...base.slice(1), ['Referer', `${INSPECTOR}/`], ...extra, ['Origin', INSPECTOR], ['Connection', 'keep-alive'], ['Sec-Fetch-Dest', 'empty'], ['Sec-Fetch-Mode', 'cors'], ['Sec-Fetch-Site', 'cross-site'], ['Priority', 'u=4'], ['TE', 'trailers']];
  const h2resp = (list) => [...list, ['X-Firefox-Spdy', 'h2']];
  const tm = (blocked, dns, connect, ssl, send, wait, receive) => ({ blocked, dns, connect, ssl, send, wait, receive });
  function entry(e) {
    const req = { bodySize: 0, method: e.method, url: e.url, httpVersion: e.httpVersion ?? '', headers: hdrs(e.reqHeaders), cookies: e.reqCookies ?? [], queryString: decodedQuery(e.url), headersSize: e.reqHeadersSize, postData: e.postData };
    if (req.postData?.text) req.bodySize = req.postData.text.length;
    const content = { mimeType: e.mime, size: e.size ?? -1, encoding: e.encoding };
    if (e.text !== undefined) content.text = e.text;
    const resp = { status: e.status, statusText: e.statusText ?? '', httpVersion: e.respVersion ?? e.httpVersion ?? '', headers: hdrs(e.respHeaders ?? []), cookies: e.respCookies ?? [], content, redirectURL: (e.respHeaders ?? []).find(([n]) => n.toLowerCase() === 'location')?.[1] ?? '', headersSize: e.respHeadersSize ?? -1, bodySize: e.transferred ?? (e.status === 304 ? 0 : -1) };
    const o = { startedDateTime: e.started, request: req, response: resp, cache: {}, timings: e.timings ?? {} };
    o.time = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive'].reduce((s, k) => (o.timings[k] !== undefined && o.timings[k] !== -1 ? s + o.timings[k] : s), 0);
    o._securityState = e.security;
    if (e.ip) o.serverIPAddress = e.ip;
    if (e.port) o.connection = e.port + '';
    o.pageref = e.pageref;
    return o;
  }
  const entries = [
    { started: '2025-02-11T09:15:04.512+01:00', method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'HTTP/2', reqHeadersSize: 512,
      reqHeaders: fetchHdrs('mcp.example.com', 'application/json, text/event-stream', [['Content-Type', 'application/json'], ['Content-Length', String(utf8len(init))]]),
      postData: { mimeType: 'application/json', params: [], text: init },
      status: 401, statusText: '', respHeaders: h2resp([['access-control-allow-origin', INSPECTOR], ['access-control-expose-headers', 'mcp-session-id, www-authenticate'], ['content-type', 'application/json; charset=utf-8'], ['www-authenticate', 'Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'], ['vary', 'Origin'], ['content-length', String(utf8len(err401))], ['date', 'Tue, 11 Feb 2025 08:15:04 GMT']]),
      mime: 'application/json; charset=utf-8', size: utf8len(err401), text: err401, respHeadersSize: 402, transferred: 402 + utf8len(err401),
      timings: tm(0, 14, 21, 35, 0, 61, 0), security: 'secure', ip: '203.0.113.10', port: 443, pageref: 'page_1' },
    { started: '2025-02-11T09:15:04.641+01:00', method: 'GET', url: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', httpVersion: 'HTTP/2', reqHeadersSize: 441,
      reqHeaders: fetchHdrs('mcp.example.com', '*/*', [['mcp-protocol-version', '2025-06-18']]),
      status: 200, respHeaders: h2resp([['access-control-allow-origin', '*'], ['cache-control', 'public, max-age=3600'], ['content-type', 'application/json; charset=utf-8'], ['content-length', String(utf8len(prm))], ['date', 'Tue, 11 Feb 2025 08:15:04 GMT']]),
      mime: 'application/json; charset=utf-8', size: utf8len(prm), text: prm, respHeadersSize: 221, transferred: 221 + utf8len(prm),
      timings: tm(0, 0, 0, 0, 0, 43, 0), security: 'secure', ip: '203.0.113.10', port: 443, pageref: 'page_1' },
    { started: '2025-02-11T09:15:04.702+01:00', method: 'GET', url: 'https://auth.example.com/.well-known/oauth-authorization-server', httpVersion: 'HTTP/2', reqHeadersSize: 447,
      reqHeaders: fetchHdrs('auth.example.com', '*/*', [['mcp-protocol-version', '2025-06-18']]),
      status: 200, respHeaders: h2resp([['access-control-allow-origin', '*'], ['cache-control', 'public, max-age=86400'], ['content-encoding', 'gzip'], ['content-type', 'application/json'], ['vary', 'Accept-Encoding'], ['date', 'Tue, 11 Feb 2025 08:15:04 GMT']]),
      mime: 'application/json', size: utf8len(asm), text: asm, respHeadersSize: 240, transferred: 501,
      timings: tm(0, 11, 19, 30, 0, 52, 1), security: 'secure', ip: '203.0.113.20', port: 443, pageref: 'page_1' },
    { started: '2025-02-11T09:15:04.790+01:00', method: 'POST', url: 'https://auth.example.com/register', httpVersion: 'HTTP/2', reqHeadersSize: 486,
      reqHeaders: fetchHdrs('auth.example.com', '*/*', [['Content-Type', 'application/json'], ['Content-Length', String(utf8len(dcrReq))]]),
      postData: { mimeType: 'application/json', params: [], text: dcrReq },
      status: 201, respHeaders: h2resp([['access-control-allow-origin', '*'], ['cache-control', 'no-store'], ['content-type', 'application/json; charset=utf-8'], ['content-length', String(utf8len(dcrResp))], ['date', 'Tue, 11 Feb 2025 08:15:04 GMT']]),
      mime: 'application/json; charset=utf-8', size: utf8len(dcrResp), text: dcrResp, respHeadersSize: 230, transferred: 230 + utf8len(dcrResp),
      timings: tm(0, 0, 0, 0, 0, 70, 0), security: 'secure', ip: '203.0.113.20', port: 443, pageref: 'page_1' },
    { started: '2025-02-11T09:15:05.004+01:00', method: 'GET', url: authorize, httpVersion: 'HTTP/2', reqHeadersSize: 989,
      reqHeaders: [['Host', 'auth.example.com'], ['User-Agent', UA], ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['Accept-Language', 'en-US,en;q=0.5'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Referer', `${INSPECTOR}/`], ['Connection', 'keep-alive'], ['Cookie', 'as_session=s%3A7a6b5c4d.Qw1'], ['Upgrade-Insecure-Requests', '1'], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'cross-site'], ['Priority', 'u=0, i'], ['TE', 'trailers']],
      reqCookies: [{ name: 'as_session', value: 's:7a6b5c4d.Qw1' }],
      status: 302, respHeaders: h2resp([['cache-control', 'no-store'], ['location', callback], ['set-cookie', 'as_session=s%3A7a6b5c4d.Qw2; Path=/; HttpOnly; Secure; SameSite=Lax'], ['content-length', '0'], ['date', 'Tue, 11 Feb 2025 08:15:05 GMT']]),
      respCookies: [{ name: 'as_session', value: 's:7a6b5c4d.Qw2' }],
      mime: 'text/plain', size: 0, text: '', respHeadersSize: 318, transferred: 318,
      timings: tm(0, 0, 0, 0, 0, 84, 0), security: 'secure', ip: '203.0.113.20', port: 443, pageref: 'page_2' },
    { started: '2025-02-11T09:15:05.097+01:00', method: 'GET', url: callback, httpVersion: 'HTTP/1.1', reqHeadersSize: 498,
      reqHeaders: [['Host', 'localhost:6274'], ['User-Agent', UA], ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['Accept-Language', 'en-US,en;q=0.5'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Referer', 'https://auth.example.com/'], ['Connection', 'keep-alive'], ['Upgrade-Insecure-Requests', '1'], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'cross-site'], ['Priority', 'u=0, i']],
      status: 200, statusText: 'OK', respHeaders: [['Access-Control-Allow-Origin', '*'], ['Content-Type', 'text/html'], ['Cache-Control', 'no-cache'], ['Etag', 'W/"b1-1739260000000"'], ['Date', 'Tue, 11 Feb 2025 08:15:05 GMT'], ['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5'], ['Content-Length', String(utf8len(html))]],
      mime: 'text/html', size: utf8len(html), text: html, respHeadersSize: 232, transferred: 232 + utf8len(html),
      timings: tm(0, 0, 0, -1, 0, 6, 0), security: 'insecure', ip: '127.0.0.1', port: 6274, pageref: 'page_3' },
    { started: '2025-02-11T09:15:05.240+01:00', method: 'GET', url: `${INSPECTOR}/mcp.png`, httpVersion: 'HTTP/1.1', reqHeadersSize: 372,
      reqHeaders: [['Host', 'localhost:6274'], ['User-Agent', UA], ['Accept', 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5'], ['Accept-Language', 'en-US,en;q=0.5'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Connection', 'keep-alive'], ['Referer', callback], ['Sec-Fetch-Dest', 'image'], ['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Site', 'same-origin'], ['Priority', 'u=6']],
      status: 200, statusText: 'OK', respHeaders: [['Accept-Ranges', 'bytes'], ['Content-Type', 'image/png'], ['Content-Length', String(PNG_1x1.length)], ['Date', 'Tue, 11 Feb 2025 08:15:05 GMT'], ['Connection', 'keep-alive']],
      mime: 'image/png', size: PNG_1x1.length, encoding: 'base64', text: PNG_1x1.toString('base64'), respHeadersSize: 156, transferred: 156 + PNG_1x1.length,
      timings: tm(0, 0, 0, -1, 0, 2, 0), security: 'insecure', ip: '127.0.0.1', port: 6274, pageref: 'page_3' },
    { started: '2025-02-11T09:15:05.318+01:00', method: 'POST', url: 'https://auth.example.com/token', httpVersion: 'HTTP/2', reqHeadersSize: 520,
      reqHeaders: fetchHdrs('auth.example.com', 'application/json', [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(utf8len(tokenBody))]]),
      postData: { mimeType: 'application/x-www-form-urlencoded', params: decodedQuery('?' + tokenBody), text: tokenBody },
      status: 200, respHeaders: h2resp([['access-control-allow-origin', '*'], ['cache-control', 'no-store'], ['pragma', 'no-cache'], ['content-type', 'application/json; charset=utf-8'], ['content-length', String(utf8len(tokenResp))], ['date', 'Tue, 11 Feb 2025 08:15:05 GMT']]),
      mime: 'application/json; charset=utf-8', size: utf8len(tokenResp), text: tokenResp, respHeadersSize: 244, transferred: 244 + utf8len(tokenResp),
      timings: tm(0, 0, 0, 0, 0, 93, 0), security: 'secure', ip: '203.0.113.20', port: 443, pageref: 'page_3' },
    { started: '2025-02-11T09:15:05.455+01:00', method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'HTTP/2', reqHeadersSize: 1210,
      reqHeaders: fetchHdrs('mcp.example.com', 'application/json, text/event-stream', [['Content-Type', 'application/json'], ['Authorization', `Bearer ${at}`], ['Content-Length', String(utf8len(init))]]),
      postData: { mimeType: 'application/json', params: [], text: init },
      status: 200, respHeaders: h2resp([['access-control-allow-origin', INSPECTOR], ['access-control-expose-headers', 'mcp-session-id'], ['cache-control', 'no-cache'], ['content-type', 'text/event-stream'], ['mcp-session-id', '7c6b5a49-3828-4f1e-8d0c-b9a8f7e6d5c4'], ['date', 'Tue, 11 Feb 2025 08:15:05 GMT']]),
      mime: 'text/event-stream', size: utf8len(sse), text: sse, respHeadersSize: 281, transferred: 281 + utf8len(sse),
      timings: tm(0, 0, 0, 0, 0, 58, 3), security: 'secure', ip: '203.0.113.10', port: 443, pageref: 'page_3' },
    { started: '2025-02-11T09:15:05.470+01:00', method: 'GET', url: 'https://telemetry.example.net/v1/events?app=inspector&ev=login', httpVersion: '', reqHeadersSize: 0,
      reqHeaders: [['Host', 'telemetry.example.net'], ['User-Agent', UA], ['Accept', '*/*'], ['Origin', INSPECTOR]], status: 0, mime: undefined, pageref: 'page_3' },
  ];
  const har = {
    log: {
      version: '1.2', creator: { name: 'Firefox', version: '130.0' }, browser: { name: 'Firefox', version: '130.0' },
      pages: [
        { id: 'page_1', pageTimings: { onContentLoad: 388, onLoad: 612 }, startedDateTime: '2025-02-11T09:15:02.930+01:00', title: `${INSPECTOR}/` },
        { id: 'page_2', pageTimings: { onContentLoad: -1, onLoad: -1 }, startedDateTime: '2025-02-11T09:15:05.004+01:00', title: authorize },
        { id: 'page_3', pageTimings: { onContentLoad: 142, onLoad: 260 }, startedDateTime: '2025-02-11T09:15:05.097+01:00', title: callback },
      ],
      entries: entries.map(entry),
    },
  };
  out('firefox-130.har', har, '  ');
}

// ---------------------------------------------------------------------------
function safari() {
  const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15';
  const clientId = 'd2c4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f';
  const { verifier, challenge } = pkce('Sf18qW3eR5tY7uI9oP1aS3dF5gH7jK9lZ1xC3vB5nM7');
  const state = '4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e';
  const code = 'ac_Sa7Fr1Ix3Bq6Wn0Zk4Mc';
  const redirect = `${INSPECTOR}/oauth/callback`;
  const authorize = 'https://auth.example.com/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirect, state, scope: 'mcp:read', resource: 'https://mcp.example.com/mcp',
  }).toString();
  const callback = `${redirect}?code=${code}&state=${state}`;
  const prm = JSON.stringify({ resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://auth.example.com'], scopes_supported: ['mcp:read', 'mcp:write'] });
  const asm = JSON.stringify({ issuer: 'https://auth.example.com', authorization_endpoint: 'https://auth.example.com/authorize', token_endpoint: 'https://auth.example.com/token', registration_endpoint: 'https://auth.example.com/register', code_challenge_methods_supported: ['S256'] });
  const dcrReq = JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'MCP Inspector' });
  const dcrResp = JSON.stringify({ client_id: clientId, client_id_issued_at: 1741180801, redirect_uris: [redirect], token_endpoint_auth_method: 'none', client_name: 'MCP Inspector' });
  const tokenBody = form([['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', redirect], ['client_id', clientId], ['resource', 'https://mcp.example.com/mcp']]);
  const at = jwt({ iss: 'https://auth.example.com', sub: 'user-1313', aud: 'https://mcp.example.com/mcp', client_id: clientId, scope: 'mcp:read', iat: 1741180803, exp: 1741184403 }, 'c2lnbmF0dXJlLXNm');
  const tokenResp = JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, scope: 'mcp:read' });
  const init = JSON.stringify({ method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-inspector', version: '0.16.2' } }, jsonrpc: '2.0', id: 0 });
  const initResp = JSON.stringify({ result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'example-mcp', version: '1.4.0' } }, jsonrpc: '2.0', id: 0 });
  const html = '<!doctype html><html><head><title>MCP Inspector</title></head><body><div id="root"></div></body></html>';
  const fetchHdrs = (accept, extra) => [['Accept', accept], ...extra, ['Sec-Fetch-Site', 'cross-site'], ['Origin', INSPECTOR], ['Sec-Fetch-Mode', 'cors'], ['User-Agent', UA], ['Referer', `${INSPECTOR}/`], ['Sec-Fetch-Dest', 'empty'], ['Accept-Language', 'en-GB,en;q=0.9'], ['Priority', 'u=3, i'], ['Accept-Encoding', 'gzip, deflate, br']];
  const timings = (t) => ({ blocked: t[0], dns: t[1], connect: t[2], ssl: t[3], send: t[4], wait: t[5], receive: t[6] });
  const noTimings = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 };
  function entry(e) {
    const o = { pageref: 'page_0', startedDateTime: e.started, time: 0 };
    const req = { method: e.method, url: e.url, httpVersion: e.proto, cookies: e.reqCookies ?? [], headers: hdrs(e.reqHeaders), queryString: decodedQuery(e.url), headersSize: e.reqHeadersSize ?? -1, bodySize: e.reqBodySize ?? 0 };
    if (e.postData) req.postData = e.postData;
    o.request = req;
    const content = { size: e.size ?? 0, compression: e.compression ?? 0, mimeType: e.mime ?? 'x-unknown' };
    if (e.text) content.text = e.text;
    if (e.base64) content.encoding = 'base64';
    const resp = { status: e.status, statusText: e.statusText ?? '', httpVersion: e.proto, cookies: e.respCookies ?? [], headers: hdrs(e.respHeaders ?? []), content, redirectURL: (e.respHeaders ?? []).find(([n]) => n.toLowerCase() === 'location')?.[1] ?? '', headersSize: e.respHeadersSize ?? -1, bodySize: e.respBodySize ?? -1 };
    if (e.transfer !== undefined) resp._transferSize = e.transfer;
    if (e.error) resp._error = e.error;
    o.response = resp;
    o.cache = {};
    o.timings = e.timings ? timings(e.timings) : noTimings;
    if (e.timings) o.time = e.total;
    if (e.ip) o.serverIPAddress = e.ip;
    if (e.conn) o.connection = '' + e.conn;
    if (e.fetchType) o._fetchType = e.fetchType;
    return o;
  }
  const entries = [
    { started: '2025-03-05T13:20:01.100Z', method: 'GET', url: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', proto: 'HTTP/2',
      reqHeaders: fetchHdrs('*/*', [['mcp-protocol-version', '2025-06-18']]),
      status: 200, respHeaders: [['Content-Type', 'application/json; charset=utf-8'], ['Access-Control-Allow-Origin', '*'], ['Date', 'Wed, 05 Mar 2025 13:20:01 GMT'], ['Content-Length', String(utf8len(prm))], ['Cache-Control', 'public, max-age=3600']],
      size: utf8len(prm), compression: 0, mime: 'application/json', text: prm, respHeadersSize: 148, respBodySize: utf8len(prm), transfer: 148 + utf8len(prm),
      timings: [0.3160000000000025, 7.0, 25.999, 16.2, 0.23, 41.11, 0.361], total: 75.01600000000001, ip: '203.0.113.10', conn: 31, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:01.178Z', method: 'GET', url: 'https://auth.example.com/.well-known/oauth-authorization-server', proto: 'HTTP/2',
      reqHeaders: fetchHdrs('*/*', [['mcp-protocol-version', '2025-06-18']]),
      status: 200, respHeaders: [['Content-Type', 'application/json'], ['Content-Encoding', 'br'], ['Vary', 'Accept-Encoding'], ['Access-Control-Allow-Origin', '*'], ['Date', 'Wed, 05 Mar 2025 13:20:01 GMT']],
      size: utf8len(asm), compression: utf8len(asm) - 171, mime: 'application/json', text: asm, respHeadersSize: 133, respBodySize: 171, transfer: 304,
      timings: [0.2, 6.4, 27.3, 17.9, 0.2, 45.6, 0.5], total: 80.2, ip: '203.0.113.20', conn: 32, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:01.262Z', method: 'POST', url: 'https://auth.example.com/register', proto: 'HTTP/2',
      reqHeaders: fetchHdrs('*/*', [['Content-Type', 'application/json']]), reqBodySize: utf8len(dcrReq),
      postData: { mimeType: 'application/json', text: dcrReq, params: [] },
      status: 201, respHeaders: [['Content-Type', 'application/json; charset=utf-8'], ['Cache-Control', 'no-store'], ['Access-Control-Allow-Origin', '*'], ['Date', 'Wed, 05 Mar 2025 13:20:01 GMT'], ['Content-Length', String(utf8len(dcrResp))]],
      size: utf8len(dcrResp), mime: 'application/json', text: dcrResp, respHeadersSize: 141, respBodySize: utf8len(dcrResp), transfer: 141 + utf8len(dcrResp),
      timings: [0.25, -1, -1, -1, 0.3, 66.1, 0.4], total: 67.05, ip: '203.0.113.20', conn: 32, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:02.409Z', method: 'GET', url: authorize, proto: 'HTTP/2',
      reqHeaders: [['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['Sec-Fetch-Site', 'cross-site'], ['Cookie', 'as_session=s%3A0b1c2d3e.Pz5'], ['Sec-Fetch-Dest', 'document'], ['Accept-Language', 'en-GB,en;q=0.9'], ['Sec-Fetch-Mode', 'navigate'], ['User-Agent', UA], ['Referer', `${INSPECTOR}/`], ['Accept-Encoding', 'gzip, deflate, br'], ['Priority', 'u=0, i']],
      reqCookies: [{ name: 'as_session', value: 's%3A0b1c2d3e.Pz5' }],
      status: 302, respHeaders: [['Location', callback], ['Set-Cookie', 'as_session=s%3A0b1c2d3e.Pz6; Path=/; HttpOnly; Secure; SameSite=Lax'], ['Cache-Control', 'no-store'], ['Date', 'Wed, 05 Mar 2025 13:20:02 GMT'], ['Content-Length', '0']],
      respCookies: [{ name: 'as_session', value: 's%3A0b1c2d3e.Pz6', path: '/', expires: '', httpOnly: true, secure: true, sameSite: 'Lax' }],
      size: 0, mime: 'text/plain', respHeadersSize: 210, respBodySize: 0, transfer: 210,
      timings: [0.4, -1, -1, -1, 0.2, 79.3, 0.1], total: 80.0, ip: '203.0.113.20', conn: 32, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:02.493Z', method: 'GET', url: callback, proto: 'HTTP/1.1',
      reqHeaders: [['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['Upgrade-Insecure-Requests', '1'], ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Dest', 'document'], ['Accept-Language', 'en-GB,en;q=0.9'], ['Sec-Fetch-Mode', 'navigate'], ['Host', 'localhost:6274'], ['User-Agent', UA], ['Referer', 'https://auth.example.com/'], ['Accept-Encoding', 'gzip, deflate'], ['Connection', 'keep-alive'], ['Priority', 'u=0, i']],
      reqHeadersSize: 531,
      status: 200, statusText: 'OK', respHeaders: [['Content-Type', 'text/html'], ['Access-Control-Allow-Origin', '*'], ['Date', 'Wed, 05 Mar 2025 13:20:02 GMT'], ['Content-Length', String(utf8len(html))], ['Keep-Alive', 'timeout=5'], ['Connection', 'keep-alive']],
      size: utf8len(html), mime: 'text/html', text: html, respHeadersSize: 173, respBodySize: utf8len(html), transfer: 173 + utf8len(html),
      timings: [0.12, 0.04, 0.5, -1, 0.09, 5.2, 0.3], total: 6.25, ip: '::1', conn: 40, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:02.711Z', method: 'POST', url: 'https://auth.example.com/token', proto: 'HTTP/2',
      reqHeaders: fetchHdrs('application/json', [['Content-Type', 'application/x-www-form-urlencoded']]), reqBodySize: utf8len(tokenBody),
      postData: { mimeType: 'application/x-www-form-urlencoded', text: tokenBody, params: decodedQuery('?' + tokenBody) },
      status: 200, respHeaders: [['Content-Type', 'application/json; charset=utf-8'], ['Cache-Control', 'no-store'], ['Pragma', 'no-cache'], ['Access-Control-Allow-Origin', '*'], ['Date', 'Wed, 05 Mar 2025 13:20:02 GMT'], ['Content-Length', String(utf8len(tokenResp))]],
      size: utf8len(tokenResp), mime: 'application/json', text: tokenResp, respHeadersSize: 160, respBodySize: utf8len(tokenResp), transfer: 160 + utf8len(tokenResp),
      timings: [0.3, -1, -1, -1, 0.2, 88.8, 0.4], total: 89.7, ip: '203.0.113.20', conn: 32, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:02.850Z', method: 'POST', url: 'https://mcp.example.com/mcp', proto: 'HTTP/2',
      reqHeaders: fetchHdrs('application/json, text/event-stream', [['Content-Type', 'application/json'], ['Authorization', `Bearer ${at}`]]), reqBodySize: utf8len(init),
      postData: { mimeType: 'application/json', text: init, params: [] },
      status: 200, respHeaders: [['Content-Type', 'application/json'], ['Mcp-Session-Id', 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'], ['Access-Control-Allow-Origin', INSPECTOR], ['Access-Control-Expose-Headers', 'Mcp-Session-Id'], ['Date', 'Wed, 05 Mar 2025 13:20:02 GMT'], ['Content-Length', String(utf8len(initResp))]],
      size: utf8len(initResp), mime: 'application/json', text: initResp, respHeadersSize: 201, respBodySize: utf8len(initResp), transfer: 201 + utf8len(initResp),
      timings: [0.3, -1, -1, -1, 0.2, 51.0, 0.3], total: 51.8, ip: '203.0.113.10', conn: 31, fetchType: 'Network Load' },
    { started: '2025-03-05T13:20:02.861Z', method: 'GET', url: 'https://telemetry.example.net/v1/t?e=oauth_complete', proto: '',
      reqHeaders: [['Accept', '*/*'], ['Origin', INSPECTOR], ['User-Agent', UA], ['Referer', `${INSPECTOR}/`]],
      status: 0, error: 'A server with the specified hostname could not be found.' },
  ];
  const har = {
    log: {
      version: '1.2', creator: { name: 'WebKit Web Inspector', version: '20620.1.16.11.8' },
      pages: [{ startedDateTime: '2025-03-05T13:19:59.870Z', id: 'page_0', title: `${INSPECTOR}/`, pageTimings: { onContentLoad: 301.05, onLoad: 498.11 } }],
      entries: entries.map(entry),
    },
  };
  out('safari-18.har', har, 2);
}

// ---------------------------------------------------------------------------
function insomnia() {
  const started = '2025-03-03T16:20:45.118Z';
  const clientId = 'svc-reporting';
  const at = jwt({ iss: 'https://auth.example.com', sub: clientId, aud: 'https://mcp.example.com/mcp', client_id: clientId, scope: 'mcp:read', iat: 1741018840, exp: 1741022440 }, 'c2lnbmF0dXJlLWlu');
  const asm = JSON.stringify({ issuer: 'https://auth.example.com', token_endpoint: 'https://auth.example.com/token', introspection_endpoint: 'https://auth.example.com/introspect', grant_types_supported: ['client_credentials'] });
  const tokenResp = JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, scope: 'mcp:read' });
  const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
  const listResp = 'event: message\ndata: {"result":{"tools":[]},"jsonrpc":"2.0","id":1}\n\n';
  const ua = ['User-Agent', 'insomnia/10.3.1'];
  const entry = (e) => ({
    startedDateTime: started, time: e.time,
    request: { method: e.method, url: e.url, httpVersion: 'HTTP/1.1', cookies: [], headers: hdrs(e.reqHeaders), queryString: [], postData: e.postData, headersSize: -1, bodySize: -1 },
    response: e.response,
    cache: {}, timings: { blocked: -1, dns: -1, connect: -1, send: 0, wait: e.time, receive: 0, ssl: -1 },
    comment: e.name,
  });
  const resp = (status, statusText, headers, mime, text) => ({ status, statusText, httpVersion: 'HTTP/1.1', cookies: [], headers: hdrs(headers), content: { size: utf8len(text), mimeType: mime, text }, redirectURL: '', headersSize: -1, bodySize: -1 });
  const entries = [
    { name: 'AS metadata', time: 143.614, method: 'GET', url: 'https://auth.example.com/.well-known/oauth-authorization-server', reqHeaders: [ua], postData: { mimeType: '', text: '' },
      response: resp(200, 'OK', [['content-type', 'application/json'], ['content-length', String(utf8len(asm))], ['date', 'Mon, 03 Mar 2025 16:20:31 GMT'], ['connection', 'keep-alive']], 'application/json', asm) },
    { name: 'Token (client credentials)', time: 212.80900000000003, method: 'POST', url: 'https://auth.example.com/token',
      reqHeaders: [['Content-Type', 'application/x-www-form-urlencoded'], ua, ['Authorization', 'Basic c3ZjLXJlcG9ydGluZzpzM2NyM3QtdjRsdWUhJg==']],
      postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'grant_type', value: 'client_credentials' }, { name: 'scope', value: 'mcp:read' }, { name: 'resource', value: 'https://mcp.example.com/mcp' }] },
      response: resp(200, 'OK', [['content-type', 'application/json; charset=utf-8'], ['cache-control', 'no-store'], ['pragma', 'no-cache'], ['content-length', String(utf8len(tokenResp))], ['date', 'Mon, 03 Mar 2025 16:20:38 GMT']], 'application/json; charset=utf-8', tokenResp) },
    { name: 'MCP tools/list', time: 98.41, method: 'POST', url: 'https://mcp.example.com/mcp',
      reqHeaders: [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'], ['MCP-Protocol-Version', '2025-06-18'], ua, ['Authorization', `Bearer ${at}`]],
      postData: { mimeType: 'application/json', text: list },
      response: resp(200, 'OK', [['content-type', 'text/event-stream'], ['cache-control', 'no-cache'], ['date', 'Mon, 03 Mar 2025 16:20:41 GMT'], ['transfer-encoding', 'chunked']], 'text/event-stream', listResp) },
    { name: 'Introspect (not sent)', time: 0, method: 'POST', url: 'https://auth.example.com/introspect',
      reqHeaders: [['Content-Type', 'application/x-www-form-urlencoded'], ua, ['Authorization', 'Basic c3ZjLXJlcG9ydGluZzpzM2NyM3QtdjRsdWUhJg==']],
      postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'token', value: at }, { name: 'token_type_hint', value: 'access_token' }] },
      response: { status: 0, statusText: '', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: -1 } },
  ];
  const har = { log: { version: '1.2', creator: { name: 'Insomnia REST Client', version: 'insomnia.desktop.app:v10.3.1' }, entries: entries.map(entry) } };
  out('insomnia-10.har', har, '\t');
}

firefox();
safari();
insomnia();
