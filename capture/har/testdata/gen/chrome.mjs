// Writes chrome-131-sanitized.har and chrome-131-sensitive.har the way Chrome
// 131 DevTools does (front_end/models/har/Log.ts + HARWriter.ts): entry keys
// in Log.ts order, undefined members dropped by JSON.stringify, 2-space
// indent, response bodies added afterwards as content.text (+ encoding:
// base64 for binary), and with {sanitize: true} the Authorization, Cookie and
// Set-Cookie headers and both cookie arrays emptied.
import { writeFileSync } from 'node:fs';
import { PNG_1x1, form, hdrs, jwt, pkce, query, utf8len } from './common.mjs';

const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SEC_CH_UA = '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"';
const INSPECTOR = 'http://localhost:6274';
const SCRIPT = `${INSPECTOR}/assets/index-DwKj3b1Q.js`;

function timings(t) {
  // Log.ts buildTimings result shape; t gives blocked, dns, ssl, connect,
  // send, wait, receive (ms) and whether detailed timing existed.
  const r = {
    blocked: t.blocked, dns: t.dns ?? -1, ssl: t.ssl ?? -1, connect: t.connect ?? -1,
    send: t.send ?? 0, wait: t.wait ?? 0, receive: t.receive ?? 0,
    _blocked_queueing: t.queueing ?? -1, _blocked_proxy: undefined,
  };
  if (t.detailed !== false) {
    r._workerStart = -1; r._workerReady = -1; r._workerFetchStart = -1; r._workerRespondWithSettled = -1;
  }
  return r;
}

function entry(e, sanitize) {
  const tm = timings(e.timings);
  let time = 0;
  for (const v of [tm.blocked, tm.dns, tm.connect, tm.send, tm.wait, tm.receive]) time += Math.max(v, 0);
  const req = {
    method: e.method, url: e.url, httpVersion: e.httpVersion,
    headers: hdrs(e.reqHeaders), queryString: query(e.url), cookies: e.reqCookies ?? [],
    headersSize: e.reqHeadersSize ?? -1, bodySize: e.postData ? utf8len(e.postData.text) : 0, postData: undefined,
  };
  if (e.postData) req.postData = e.postData; else delete req.postData;
  const content = { size: e.content.size, mimeType: e.content.mimeType ?? 'x-unknown', compression: undefined };
  if (typeof e.content.compression === 'number') content.compression = e.content.compression; else delete content.compression;
  const resp = {
    status: e.status, statusText: e.statusText ?? '', httpVersion: e.respHttpVersion ?? e.httpVersion,
    headers: hdrs(e.respHeaders ?? []), cookies: e.respCookies ?? [], content,
    redirectURL: (e.respHeaders ?? []).find(([n]) => n.toLowerCase() === 'location')?.[1] ?? '',
    headersSize: e.respHeadersSize ?? -1, bodySize: e.respBodySize ?? -1,
    _transferSize: e.transferSize, _error: e.error ?? null, _fetchedViaServiceWorker: false,
    _responseCacheStorageCacheName: undefined, _serviceWorkerResponseSource: undefined,
  };
  const out = {
    _connectionId: e.connId, _fromCache: e.fromCache, _initiator: e.initiator, _priority: e.priority,
    _resourceType: e.resourceType, _webSocketMessages: e.ws, cache: {}, connection: e.port, pageref: e.pageref,
    request: req, response: resp, serverIPAddress: e.ip ?? '', startedDateTime: e.started, time, timings: tm,
  };
  if (sanitize) {
    out.response.cookies = [];
    out.response.headers = out.response.headers.filter(({ name }) => !['set-cookie'].includes(name.toLocaleLowerCase()));
    out.request.cookies = [];
    out.request.headers = out.request.headers.filter(({ name }) => !['authorization', 'cookie'].includes(name.toLocaleLowerCase()));
  }
  if (!e.fromCache) delete out._fromCache;
  if (!e.connId) delete out._connectionId;
  if (!e.pageref) delete out.pageref;
  if (!e.ws) delete out._webSocketMessages;
  // HARWriter.contentLoaded runs after Log.build: text, then encoding.
  if (e.content.text !== undefined) out.response.content.text = e.content.text;
  if (e.content.encoding) out.response.content.encoding = e.content.encoding;
  return out;
}

function h2req(method, url, extra, site = 'cross-site', dest = 'empty', mode = 'cors') {
  const u = new URL(url);
  return [
    [':authority', u.host], [':method', method], [':path', u.pathname + u.search], [':scheme', 'https'],
    ...extra,
    ['sec-ch-ua', SEC_CH_UA], ['sec-ch-ua-mobile', '?0'], ['sec-ch-ua-platform', '"macOS"'],
    ['sec-fetch-dest', dest], ['sec-fetch-mode', mode], ['sec-fetch-site', site],
    ['user-agent', UA],
  ];
}

const fetchInit = (line) => ({ type: 'script', stack: { callFrames: [{ functionName: '', scriptId: '41', url: SCRIPT, lineNumber: line, columnNumber: 30 }] } });

function page(id, started, title, dcl, load) {
  return { startedDateTime: started, id, title, pageTimings: { onContentLoad: dcl, onLoad: load } };
}

function write(file, pages, entries, sanitize) {
  const log = { version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, pages, entries: entries.map((e) => entry(e, sanitize)) };
  writeFileSync(new URL(`../${file}`, import.meta.url), JSON.stringify({ log }, null, 2));
}

// ---------------------------------------------------------------------------
// Login 1: exported with Chrome's default "Export HAR (sanitized)".
function login1() {
  const clientId = '3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15';
  const { verifier, challenge } = pkce('Qk3m9V8x2LpZr7TnYw4Hc6Jd1Fs5Gb0Ne8Ua3Oi2Ky7');
  const state = 'b7e0c5a9f3d2418e9c6a1f0d8e7b2a4c';
  const code = 'ac_Zx81nQ4rTf0sLm2WvB7pK';
  const redirect = `${INSPECTOR}/oauth/callback`;
  const authorize = 'https://auth.example.com/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirect, state, scope: 'mcp:read mcp:write', resource: 'https://mcp.example.com/mcp',
  }).toString();
  const callback = `${redirect}?code=${code}&state=${state}`;
  const init = JSON.stringify({ method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'mcp-inspector', version: '0.16.2' } }, jsonrpc: '2.0', id: 0 });
  const err401 = JSON.stringify({ error: 'invalid_token', error_description: 'Missing Authorization header' });
  const prm = JSON.stringify({ resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://auth.example.com'], scopes_supported: ['mcp:read', 'mcp:write'], bearer_methods_supported: ['header'], resource_name: 'Example MCP' });
  const asm = JSON.stringify({
    issuer: 'https://auth.example.com', authorization_endpoint: 'https://auth.example.com/authorize', token_endpoint: 'https://auth.example.com/token',
    registration_endpoint: 'https://auth.example.com/register', revocation_endpoint: 'https://auth.example.com/revoke',
    scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'], response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'], token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
  });
  const dcrReq = JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector', scope: 'mcp:read mcp:write' });
  const dcrResp = JSON.stringify({ client_id: clientId, client_id_issued_at: 1736160072, redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector', scope: 'mcp:read mcp:write' });
  const tokenBody = form([['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', redirect], ['client_id', clientId], ['resource', 'https://mcp.example.com/mcp']]);
  const at = jwt({ iss: 'https://auth.example.com', sub: 'user-4711', aud: 'https://mcp.example.com/mcp', client_id: clientId, scope: 'mcp:read mcp:write', iat: 1736160073, exp: 1736163673, jti: '6f1c9b2e' }, 'c2lnbmF0dXJlLW9uZQ');
  const tokenResp = JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt_5Nq2Lw8Xc1Vb7Mz3', scope: 'mcp:read mcp:write' });
  const sse = 'event: message\nid: 1\ndata: ' + JSON.stringify({ result: { protocolVersion: '2025-06-18', capabilities: { tools: { listChanged: true }, logging: {} }, serverInfo: { name: 'example-mcp', version: '1.4.0' } }, jsonrpc: '2.0', id: 0 }) + '\n\n';
  const callbackHtml = '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <title>MCP Inspector</title>\n    <script type="module" crossorigin src="/assets/index-DwKj3b1Q.js"></script>\n  </head>\n  <body>\n    <div id="root"></div>\n  </body>\n</html>\n';
  const cors = [['access-control-allow-origin', INSPECTOR], ['access-control-expose-headers', 'mcp-session-id, www-authenticate']];
  const mcpPre = (started, reqId) => ({
    connId: '1205', initiator: { type: 'preflight', url: 'https://mcp.example.com/mcp', requestId: reqId }, priority: 'High', resourceType: 'preflight', port: '443', pageref: started < '2025-01-06T10:41:13' ? 'page_1' : 'page_3',
    method: 'OPTIONS', url: 'https://mcp.example.com/mcp', httpVersion: 'http/2.0',
    reqHeaders: h2req('OPTIONS', 'https://mcp.example.com/mcp', [['accept', '*/*'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['access-control-request-headers', started < '2025-01-06T10:41:13' ? 'content-type' : 'authorization,content-type'], ['access-control-request-method', 'POST'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
    status: 204, respHeaders: [['access-control-allow-headers', 'authorization,content-type,mcp-protocol-version,mcp-session-id'], ['access-control-allow-methods', 'GET,POST,DELETE'], ['access-control-allow-origin', INSPECTOR], ['access-control-max-age', '600'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['vary', 'Origin']],
    content: { size: 0, mimeType: 'x-unknown' }, transferSize: 153, ip: '203.0.113.10', started,
    timings: { blocked: 0.807, dns: -1, ssl: -1, connect: -1, send: 0.122, wait: 31.467999999999996, receive: 0.5960000000000036, queueing: 0.416 },
  });
  const entries = [
    mcpPre('2025-01-06T10:41:12.345Z', '49412.87'),
    {
      connId: '1205', initiator: fetchInit(6811), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_1',
      method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://mcp.example.com/mcp', [['accept', 'application/json, text/event-stream'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['content-length', String(utf8len(init))], ['content-type', 'application/json'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/json', text: init },
      status: 401, respHeaders: [...cors, ['content-length', String(utf8len(err401))], ['content-type', 'application/json; charset=utf-8'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['vary', 'Origin'], ['www-authenticate', 'Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"']],
      content: { size: utf8len(err401), mimeType: 'application/json', text: err401 }, transferSize: 412, ip: '203.0.113.10', started: '2025-01-06T10:41:12.346Z',
      timings: { blocked: 33.98899998283386, send: 0.215, wait: 58.207000006079674, receive: 1.0249999910593033, queueing: 33.1 },
    },
    {
      connId: '1205', initiator: fetchInit(6850), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_1',
      method: 'GET', url: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', httpVersion: 'http/2.0',
      reqHeaders: h2req('GET', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', [['accept', '*/*'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['mcp-protocol-version', '2025-06-18'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      status: 200, respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'public, max-age=3600'], ['content-length', String(utf8len(prm))], ['content-type', 'application/json; charset=utf-8'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT']],
      content: { size: utf8len(prm), mimeType: 'application/json', text: prm }, transferSize: 389, ip: '203.0.113.10', started: '2025-01-06T10:41:12.512Z',
      timings: { blocked: 1.453, send: 0.11, wait: 44.18, receive: 0.72, queueing: 0.9 },
    },
    {
      connId: '1311', initiator: fetchInit(6872), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_1',
      method: 'GET', url: 'https://auth.example.com/.well-known/oauth-authorization-server', httpVersion: 'http/2.0',
      reqHeaders: h2req('GET', 'https://auth.example.com/.well-known/oauth-authorization-server', [['accept', '*/*'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['mcp-protocol-version', '2025-06-18'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      // Chrome stores the decoded body but keeps the content-encoding header.
      status: 200, respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'public, max-age=86400'], ['content-encoding', 'br'], ['content-type', 'application/json'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['vary', 'Accept-Encoding']],
      content: { size: utf8len(asm), mimeType: 'application/json', text: asm }, transferSize: 402, ip: '203.0.113.20', started: '2025-01-06T10:41:12.601Z',
      timings: { blocked: 0.6, dns: 12.403, ssl: 21.5, connect: 38.711, send: 0.2, wait: 49.96, receive: 0.81, queueing: 0.41 },
    },
    {
      connId: '1311', initiator: { type: 'preflight', url: 'https://auth.example.com/register', requestId: '49412.95' }, priority: 'High', resourceType: 'preflight', port: '443', pageref: 'page_1',
      method: 'OPTIONS', url: 'https://auth.example.com/register', httpVersion: 'http/2.0',
      reqHeaders: h2req('OPTIONS', 'https://auth.example.com/register', [['accept', '*/*'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['access-control-request-headers', 'content-type'], ['access-control-request-method', 'POST'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      status: 204, respHeaders: [['access-control-allow-headers', 'content-type'], ['access-control-allow-methods', 'POST'], ['access-control-allow-origin', '*'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT']],
      content: { size: 0, mimeType: 'x-unknown' }, transferSize: 98, ip: '203.0.113.20', started: '2025-01-06T10:41:12.688Z',
      timings: { blocked: 0.53, send: 0.09, wait: 30.02, receive: 0.33, queueing: 0.3 },
    },
    {
      connId: '1311', initiator: fetchInit(6921), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_1',
      method: 'POST', url: 'https://auth.example.com/register', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://auth.example.com/register', [['accept', '*/*'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['content-length', String(utf8len(dcrReq))], ['content-type', 'application/json'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/json', text: dcrReq },
      status: 201, respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'no-store'], ['content-length', String(utf8len(dcrResp))], ['content-type', 'application/json; charset=utf-8'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['pragma', 'no-cache']],
      content: { size: utf8len(dcrResp), mimeType: 'application/json', text: dcrResp }, transferSize: 611, ip: '203.0.113.20', started: '2025-01-06T10:41:12.689Z',
      timings: { blocked: 31.2, send: 0.18, wait: 71.5, receive: 0.9, queueing: 30.8 },
    },
    {
      connId: '1311', initiator: fetchInit(7004), priority: 'VeryHigh', resourceType: 'document', port: '443', pageref: 'page_2',
      method: 'GET', url: authorize, httpVersion: 'http/2.0',
      reqHeaders: h2req('GET', authorize, [['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['cookie', 'as_session=s%3A9d1e6b0a.Yq3; as_csrf=7c5d'], ['priority', 'u=0, i'], ['referer', `${INSPECTOR}/`], ['upgrade-insecure-requests', '1']], 'cross-site', 'document', 'navigate'),
      reqCookies: [{ name: 'as_session', value: 's%3A9d1e6b0a.Yq3', path: '/', domain: 'auth.example.com', expires: '2025-01-07T10:41:12.000Z', httpOnly: true, secure: true, sameSite: 'Lax' }, { name: 'as_csrf', value: '7c5d', path: '/', domain: 'auth.example.com', expires: '1969-12-31T23:59:59.000Z', httpOnly: false, secure: true }],
      status: 302, respHeaders: [['cache-control', 'no-store'], ['content-length', '0'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['location', callback], ['set-cookie', 'as_session=s%3A9d1e6b0a.Yq4; Path=/; Expires=Tue, 07 Jan 2025 10:41:12 GMT; HttpOnly; Secure; SameSite=Lax']],
      respCookies: [{ name: 'as_session', value: 's%3A9d1e6b0a.Yq4', path: '/', domain: 'auth.example.com', expires: '2025-01-07T10:41:12.000Z', httpOnly: true, secure: true, sameSite: 'Lax' }],
      content: { size: 0, mimeType: 'x-unknown' }, transferSize: 287, ip: '203.0.113.20', started: '2025-01-06T10:41:12.905Z',
      timings: { blocked: 1.9, send: 0.3, wait: 88.1, receive: 0, queueing: 1.1 },
    },
    {
      connId: '1422', initiator: { type: 'other' }, priority: 'VeryHigh', resourceType: 'document', port: '6274', pageref: 'page_3',
      method: 'GET', url: callback, httpVersion: 'HTTP/1.1', reqHeadersSize: 803,
      reqHeaders: [['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Accept-Language', 'en-US,en;q=0.9'], ['Cache-Control', 'max-age=0'], ['Connection', 'keep-alive'], ['Host', 'localhost:6274'], ['Referer', `${INSPECTOR}/`], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'cross-site'], ['Upgrade-Insecure-Requests', '1'], ['User-Agent', UA], ['sec-ch-ua', SEC_CH_UA], ['sec-ch-ua-mobile', '?0'], ['sec-ch-ua-platform', '"macOS"']],
      status: 200, statusText: 'OK', respHeadersSize: 214, respBodySize: 389,
      respHeaders: [['Access-Control-Allow-Origin', '*'], ['Cache-Control', 'no-cache'], ['Connection', 'keep-alive'], ['Content-Type', 'text/html'], ['Date', 'Mon, 06 Jan 2025 10:41:13 GMT'], ['Etag', 'W/"185-1736160000000"'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked']],
      content: { size: utf8len(callbackHtml), mimeType: 'text/html', compression: utf8len(callbackHtml) - 389, text: callbackHtml }, transferSize: 603, ip: '[::1]', started: '2025-01-06T10:41:13.201Z',
      timings: { blocked: 2.0589999989476057, dns: 0.018, ssl: -1, connect: 0.412, send: 0.1, wait: 5.8, receive: 0.9, queueing: 1.2 },
    },
    {
      connId: '1422', initiator: { type: 'parser', url: callback, lineNumber: 5, columnNumber: 0 }, priority: 'High', resourceType: 'image', port: '6274', pageref: 'page_3',
      method: 'GET', url: `${INSPECTOR}/mcp.png`, httpVersion: 'HTTP/1.1', reqHeadersSize: 651,
      reqHeaders: [['Accept', 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Accept-Language', 'en-US,en;q=0.9'], ['Connection', 'keep-alive'], ['Host', 'localhost:6274'], ['Referer', callback], ['Sec-Fetch-Dest', 'image'], ['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Site', 'same-origin'], ['User-Agent', UA], ['sec-ch-ua', SEC_CH_UA], ['sec-ch-ua-mobile', '?0'], ['sec-ch-ua-platform', '"macOS"']],
      status: 200, statusText: 'OK', respHeadersSize: 231, respBodySize: PNG_1x1.length,
      respHeaders: [['Accept-Ranges', 'bytes'], ['Cache-Control', 'no-cache'], ['Connection', 'keep-alive'], ['Content-Length', String(PNG_1x1.length)], ['Content-Type', 'image/png'], ['Date', 'Mon, 06 Jan 2025 10:41:13 GMT'], ['Etag', 'W/"46-1736160000000"'], ['Keep-Alive', 'timeout=5']],
      content: { size: PNG_1x1.length, mimeType: 'image/png', compression: 0, text: PNG_1x1.toString('base64'), encoding: 'base64' }, transferSize: 231 + PNG_1x1.length, ip: '[::1]', started: '2025-01-06T10:41:13.480Z',
      timings: { blocked: 1.1, send: 0.05, wait: 2.4, receive: 0.3, queueing: 0.6 },
    },
    {
      connId: '1311', initiator: fetchInit(7090), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'POST', url: 'https://auth.example.com/token', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://auth.example.com/token', [['accept', 'application/json'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['content-length', String(utf8len(tokenBody))], ['content-type', 'application/x-www-form-urlencoded'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/x-www-form-urlencoded', text: tokenBody, params: query('?' + tokenBody) },
      status: 200, respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'no-store'], ['content-length', String(utf8len(tokenResp))], ['content-type', 'application/json; charset=utf-8'], ['date', 'Mon, 06 Jan 2025 10:41:13 GMT'], ['pragma', 'no-cache'], ['vary', 'Origin'], ['vary', 'Accept-Encoding']],
      content: { size: utf8len(tokenResp), mimeType: 'application/json', text: tokenResp }, transferSize: 788, ip: '203.0.113.20', started: '2025-01-06T10:41:13.502Z',
      timings: { blocked: 0.9, send: 0.2, wait: 97.3, receive: 0.6, queueing: 0.5 },
    },
    mcpPre('2025-01-06T10:41:13.690Z', '49412.112'),
    {
      connId: '1205', initiator: fetchInit(6811), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://mcp.example.com/mcp', [['accept', 'application/json, text/event-stream'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['authorization', `Bearer ${at}`], ['content-length', String(utf8len(init))], ['content-type', 'application/json'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/json', text: init },
      status: 200, respHeaders: [...cors, ['cache-control', 'no-cache'], ['content-type', 'text/event-stream'], ['date', 'Mon, 06 Jan 2025 10:41:13 GMT'], ['mcp-session-id', '2f0b6a51-8c1e-4b7a-9d3f-5e6c7a8b9c0d'], ['vary', 'Origin']],
      content: { size: utf8len(sse), mimeType: 'text/event-stream', text: sse }, transferSize: 498, ip: '203.0.113.10', started: '2025-01-06T10:41:13.691Z',
      timings: { blocked: 35.1, send: 0.2, wait: 61.4, receive: 3.2, queueing: 34.7 },
    },
    {
      initiator: { type: 'parser', url: callback, lineNumber: 3, columnNumber: 4 }, priority: 'Low', resourceType: 'script',
      method: 'GET', url: 'https://www.googletagmanager.com/gtag/js?id=G-8JQ0X1Y2Z3', httpVersion: '',
      reqHeaders: [['Referer', callback], ['User-Agent', UA], ['sec-ch-ua', SEC_CH_UA], ['sec-ch-ua-mobile', '?0'], ['sec-ch-ua-platform', '"macOS"']],
      status: 0, respHttpVersion: '', content: { size: 0, mimeType: 'x-unknown' }, transferSize: 0, error: 'net::ERR_BLOCKED_BY_CLIENT', started: '2025-01-06T10:41:13.702Z',
      timings: { blocked: 0.5619999887049198, detailed: false },
    },
    {
      connId: '1430', initiator: fetchInit(120), priority: 'Low', resourceType: 'websocket', port: '6274', pageref: 'page_3',
      ws: [
        { type: 'receive', time: 1736160073.812331, opcode: 1, data: '{"type":"connected"}' },
        { type: 'send', time: 1736160103.813027, opcode: 1, data: '{"type":"ping"}' },
      ],
      method: 'GET', url: `ws://localhost:6274/?token=kX9wQ2mN4bV7`, httpVersion: 'HTTP/1.1', reqHeadersSize: 512,
      reqHeaders: [['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Accept-Language', 'en-US,en;q=0.9'], ['Cache-Control', 'no-cache'], ['Connection', 'Upgrade'], ['Host', 'localhost:6274'], ['Origin', INSPECTOR], ['Pragma', 'no-cache'], ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Protocol', 'vite-hmr'], ['Sec-WebSocket-Version', '13'], ['Upgrade', 'websocket'], ['User-Agent', UA]],
      status: 101, statusText: 'Switching Protocols', respHeadersSize: 167, respBodySize: 0,
      respHeaders: [['Connection', 'Upgrade'], ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='], ['Sec-WebSocket-Protocol', 'vite-hmr'], ['Upgrade', 'websocket']],
      content: { size: 0, mimeType: 'x-unknown', compression: 0 }, transferSize: 167, ip: '[::1]', started: '2025-01-06T10:41:13.750Z',
      timings: { blocked: 0.9, send: 0, wait: 1.7, receive: 0, queueing: 0.4 },
    },
  ];
  const pages = [
    page('page_1', '2025-01-06T10:41:10.102Z', `${INSPECTOR}/`, 412.2910000011325, 733.5),
    page('page_2', '2025-01-06T10:41:12.905Z', authorize, -1, -1),
    page('page_3', '2025-01-06T10:41:13.201Z', callback, 180.77, 305.4),
  ];
  write('chrome-131-sanitized.har', pages, entries, true);
}

// ---------------------------------------------------------------------------
// Login 2: exported with "Export HAR (with sensitive data)".
function login2() {
  const clientId = '3c1f5a8e-2b7d-4e90-9a61-d4c8b2f07e15';
  const { verifier, challenge } = pkce('Zr4kN0pQx7Wm2Yb9Tc5Lv8Hd3Gs6Jf1Ke0Ua7Oi4Py2');
  const state = '0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a';
  const code = 'ac_Pq73LmX0vB2nC8zT5yW1k';
  const redirect = `${INSPECTOR}/oauth/callback`;
  const authorize = 'https://auth.example.com/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirect, state, scope: 'mcp:read', resource: 'https://mcp.example.com/mcp',
  }).toString();
  const callback = `${redirect}?code=${code}&state=${state}`;
  const at = jwt({ iss: 'https://auth.example.com', sub: 'user-4711', aud: 'https://mcp.example.com/mcp', client_id: clientId, scope: 'mcp:read', iat: 1736171402, exp: 1736175002, jti: '91aa0c3d' }, 'c2lnbmF0dXJlLXR3bw');
  const tokenBody = form([['grant_type', 'authorization_code'], ['code', code], ['code_verifier', verifier], ['redirect_uri', redirect], ['client_id', clientId], ['resource', 'https://mcp.example.com/mcp']]);
  const tokenResp = JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt_8Hw3Kx0Qz5Ly1Nv6', scope: 'mcp:read' });
  const init = JSON.stringify({ method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'mcp-inspector', version: '0.16.2' } }, jsonrpc: '2.0', id: 0 });
  const sse = 'event: message\nid: 1\ndata: ' + JSON.stringify({ result: { protocolVersion: '2025-06-18', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'example-mcp', version: '1.4.0' } }, jsonrpc: '2.0', id: 0 }) + '\n\n';
  const list = JSON.stringify({ method: 'tools/list', params: {}, jsonrpc: '2.0', id: 1 });
  const listResp = JSON.stringify({ result: { tools: [{ name: 'search', description: 'Search the catalogue — “quoted” & <tagged>', inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }] }, jsonrpc: '2.0', id: 1 });
  const asm = JSON.stringify({ issuer: 'https://auth.example.com', authorization_endpoint: 'https://auth.example.com/authorize', token_endpoint: 'https://auth.example.com/token', registration_endpoint: 'https://auth.example.com/register', scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'], response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] });
  const session = '5e2d4c1b-7a9f-4e3d-8c2b-1a0f9e8d7c6b';
  const entries = [
    {
      connId: '2210', initiator: fetchInit(7004), priority: 'VeryHigh', resourceType: 'document', port: '443', pageref: 'page_2',
      method: 'GET', url: authorize, httpVersion: 'http/2.0',
      reqHeaders: h2req('GET', authorize, [['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['cookie', 'as_session=s%3A1f2e3d4c.Rt8'], ['priority', 'u=0, i'], ['referer', `${INSPECTOR}/`], ['upgrade-insecure-requests', '1']], 'cross-site', 'document', 'navigate'),
      reqCookies: [{ name: 'as_session', value: 's%3A1f2e3d4c.Rt8', path: '/', domain: 'auth.example.com', expires: '2025-01-07T13:50:01.000Z', httpOnly: true, secure: true, sameSite: 'Lax' }],
      status: 302, respHeaders: [['cache-control', 'no-store'], ['content-length', '0'], ['date', 'Mon, 06 Jan 2025 13:50:01 GMT'], ['location', callback], ['set-cookie', 'as_session=s%3A1f2e3d4c.Rt9; Path=/; Expires=Tue, 07 Jan 2025 13:50:01 GMT; HttpOnly; Secure; SameSite=Lax'], ['set-cookie', 'as_csrf=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure']],
      respCookies: [{ name: 'as_session', value: 's%3A1f2e3d4c.Rt9', path: '/', domain: 'auth.example.com', expires: '2025-01-07T13:50:01.000Z', httpOnly: true, secure: true, sameSite: 'Lax' }, { name: 'as_csrf', value: '', path: '/', domain: 'auth.example.com', expires: '1970-01-01T00:00:00.000Z', httpOnly: false, secure: true }],
      content: { size: 0, mimeType: 'x-unknown' }, transferSize: 344, ip: '203.0.113.20', started: '2025-01-06T13:50:01.118Z',
      timings: { blocked: 1.2, send: 0.3, wait: 79.9, receive: 0, queueing: 0.8 },
    },
    {
      connId: '2291', initiator: { type: 'other' }, priority: 'VeryHigh', resourceType: 'document', port: '6274', pageref: 'page_3',
      method: 'GET', url: callback, httpVersion: 'HTTP/1.1', reqHeadersSize: 810,
      reqHeaders: [['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Accept-Language', 'en-US,en;q=0.9'], ['Connection', 'keep-alive'], ['Cookie', 'MCP_PROXY_AUTH_TOKEN=4f3e2d1c0b9a'], ['Host', 'localhost:6274'], ['Referer', `${INSPECTOR}/`], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'cross-site'], ['Upgrade-Insecure-Requests', '1'], ['User-Agent', UA]],
      reqCookies: [{ name: 'MCP_PROXY_AUTH_TOKEN', value: '4f3e2d1c0b9a', path: '/', domain: 'localhost', expires: '1969-12-31T23:59:59.000Z', httpOnly: false, secure: false }],
      status: 200, statusText: 'OK', respHeadersSize: 198, respBodySize: 0,
      respHeaders: [['Cache-Control', 'no-cache'], ['Connection', 'keep-alive'], ['Content-Type', 'text/html'], ['Date', 'Mon, 06 Jan 2025 13:50:01 GMT'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked']],
      content: { size: 0, mimeType: 'text/html', compression: 0, text: '' }, transferSize: 198, ip: '127.0.0.1', started: '2025-01-06T13:50:01.204Z',
      timings: { blocked: 1.5, dns: 0.02, connect: 0.3, send: 0.07, wait: 4.2, receive: 0.4, queueing: 0.9 },
    },
    {
      connId: '2210', initiator: fetchInit(7090), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'POST', url: 'https://auth.example.com/token', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://auth.example.com/token', [['accept', 'application/json'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['content-length', String(utf8len(tokenBody))], ['content-type', 'application/x-www-form-urlencoded'], ['cookie', 'as_session=s%3A1f2e3d4c.Rt9'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      reqCookies: [{ name: 'as_session', value: 's%3A1f2e3d4c.Rt9', path: '/', domain: 'auth.example.com', expires: '2025-01-07T13:50:01.000Z', httpOnly: true, secure: true, sameSite: 'Lax' }],
      postData: { mimeType: 'application/x-www-form-urlencoded', text: tokenBody, params: query('?' + tokenBody) },
      status: 200, respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'no-store'], ['content-length', String(utf8len(tokenResp))], ['content-type', 'application/json; charset=utf-8'], ['date', 'Mon, 06 Jan 2025 13:50:01 GMT'], ['pragma', 'no-cache']],
      content: { size: utf8len(tokenResp), mimeType: 'application/json', text: tokenResp }, transferSize: 760, ip: '203.0.113.20', started: '2025-01-06T13:50:01.377Z',
      timings: { blocked: 0.8, send: 0.2, wait: 91.0, receive: 0.5, queueing: 0.4 },
    },
    {
      connId: '2305', initiator: fetchInit(6811), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://mcp.example.com/mcp', [['accept', 'application/json, text/event-stream'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['authorization', `Bearer ${at}`], ['content-length', String(utf8len(init))], ['content-type', 'application/json'], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/json', text: init },
      status: 200, respHeaders: [['access-control-allow-origin', INSPECTOR], ['access-control-expose-headers', 'mcp-session-id'], ['cache-control', 'no-cache'], ['content-type', 'text/event-stream'], ['date', 'Mon, 06 Jan 2025 13:50:01 GMT'], ['mcp-session-id', session]],
      content: { size: utf8len(sse), mimeType: 'text/event-stream', text: sse }, transferSize: 470, ip: '203.0.113.10', started: '2025-01-06T13:50:01.512Z',
      timings: { blocked: 0.7, dns: 9.8, ssl: 18.4, connect: 33.1, send: 0.2, wait: 57.5, receive: 2.8, queueing: 0.5 },
    },
    {
      connId: '2210', fromCache: 'disk', initiator: fetchInit(6872), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'GET', url: 'https://auth.example.com/.well-known/oauth-authorization-server', httpVersion: 'http/2.0',
      reqHeaders: h2req('GET', 'https://auth.example.com/.well-known/oauth-authorization-server', [['accept', '*/*'], ['mcp-protocol-version', '2025-06-18'], ['origin', INSPECTOR], ['referer', `${INSPECTOR}/`]]),
      status: 200, respBodySize: 0,
      respHeaders: [['access-control-allow-origin', '*'], ['cache-control', 'public, max-age=86400'], ['content-encoding', 'br'], ['content-type', 'application/json'], ['date', 'Mon, 06 Jan 2025 10:41:12 GMT'], ['vary', 'Accept-Encoding']],
      content: { size: utf8len(asm), mimeType: 'application/json', text: asm }, transferSize: 0, ip: '203.0.113.20', started: '2025-01-06T13:50:01.640Z',
      timings: { blocked: 0.31, send: 0, wait: 0.4, receive: 0.2, queueing: 0.31 },
    },
    {
      connId: '2305', initiator: fetchInit(6811), priority: 'High', resourceType: 'fetch', port: '443', pageref: 'page_3',
      method: 'POST', url: 'https://mcp.example.com/mcp', httpVersion: 'http/2.0',
      reqHeaders: h2req('POST', 'https://mcp.example.com/mcp', [['accept', 'application/json, text/event-stream'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'], ['authorization', `Bearer ${at}`], ['content-length', String(utf8len(list))], ['content-type', 'application/json'], ['mcp-protocol-version', '2025-06-18'], ['mcp-session-id', session], ['origin', INSPECTOR], ['priority', 'u=1, i'], ['referer', `${INSPECTOR}/`]]),
      postData: { mimeType: 'application/json', text: list },
      status: 200, respHeaders: [['access-control-allow-origin', INSPECTOR], ['content-length', String(utf8len(listResp))], ['content-type', 'application/json'], ['date', 'Mon, 06 Jan 2025 13:50:02 GMT']],
      content: { size: utf8len(listResp), mimeType: 'application/json', text: listResp }, transferSize: 402, ip: '203.0.113.10', started: '2025-01-06T13:50:02.003Z',
      timings: { blocked: 0.6, send: 0.1, wait: 40.2, receive: 0.4, queueing: 0.3 },
    },
  ];
  const pages = [
    page('page_2', '2025-01-06T13:50:01.118Z', authorize, -1, -1),
    page('page_3', '2025-01-06T13:50:01.204Z', callback, 171.3, 290.06),
  ];
  write('chrome-131-sensitive.har', pages, entries, false);
}

login1();
login2();
