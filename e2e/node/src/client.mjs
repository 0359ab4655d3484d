// The MCP SDK client (@modelcontextprotocol/sdk) with a headless
// OAuthClientProvider: when the SDK asks to redirect the user, the provider
// walks the authorization URL with the headless browser (browser.mjs) up to
// its own loopback callback listener, then hands the code back to the SDK.
//
// Knobs reproduce bugs seen in real clients. They change what goes on the
// wire — the authorization URL before the browser walks it, and the
// registration and token requests through the fetch the SDK is given — so the
// captured traffic is exactly that of a client with the bug:
//
//   scope=omit         no scope in the registration nor the authorization request
//   scope=outside      the authorization request asks for scopes nobody advertised
//   pkce=none          no code_challenge (and no code_verifier at the token endpoint)
//   pkce=plain         code_challenge_method=plain (challenge = verifier)
//   state=omit         no state parameter
//   resource=omit      no RFC 8707 resource (authorization, token and refresh requests)
//   redirect=mismatch  the token request's redirect_uri differs (localhost for 127.0.0.1)
//
// Usage: node client.mjs CONFIG.json
// Config: { server: "http://127.0.0.1:3001/mcp", callback_port, knobs: [..],
//           client_uri?: bool (send client_uri and contacts in DCR),
//           metadata_scope?: "..." (the client's configured fallback scope),
//           timeout_ms? }
// Exit status: 0 when the MCP session worked, 1 when the flow failed (expected
// for several knobs: the authorization server refuses), 3 on a time-out.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { follow } from './browser.mjs';
import { readConfig, logger, listen, exitAfterKeylog } from './common.mjs';

const cfg = readConfig();
const log = logger('sdk-client');
const knobs = new Set(cfg.knobs ?? []);
const knownKnobs = ['scope=omit', 'scope=outside', 'pkce=none', 'pkce=plain', 'state=omit', 'resource=omit', 'redirect=mismatch'];
for (const k of knobs) {
  if (!knownKnobs.includes(k)) {
    console.error(`client.mjs: unknown knob ${k}; known: ${knownKnobs.join(', ')}`);
    process.exit(2);
  }
}
const OUTSIDE_SCOPES = 'mcp:admin files:read';
const callbackURL = `http://127.0.0.1:${cfg.callback_port}/callback`;

setTimeout(() => {
  log(`gave up after ${cfg.timeout_ms ?? 60000} ms`);
  process.exit(3);
}, cfg.timeout_ms ?? 60000).unref();

// The loopback callback listener: the browser's last hop.
let onCallback = () => {};
const callbackServer = http.createServer((req, res) => {
  const u = new URL(req.url, callbackURL);
  if (u.pathname !== '/callback') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><p>Authorization complete. You can close this window.</p>\n');
  onCallback(u.searchParams);
});
await listen(callbackServer, '127.0.0.1', cfg.callback_port);

class HeadlessProvider {
  constructor() {
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._state = undefined;
    this._pending = undefined;
    if (!knobs.has('state=omit')) {
      this.state = () => (this._state = randomBytes(16).toString('base64url'));
    }
  }
  get redirectUrl() {
    return callbackURL;
  }
  get clientMetadata() {
    const m = {
      client_name: 'oauthlint e2e SDK client',
      redirect_uris: [callbackURL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    // Hydra echoes absent URLs as "" and contacts as null, which the SDK's
    // response schema rejects; a client that sends them gets them back.
    if (cfg.client_uri) {
      m.client_uri = 'https://oauthlint.example/e2e-client';
      m.contacts = ['e2e@oauthlint.example'];
    }
    if (cfg.metadata_scope) m.scope = cfg.metadata_scope;
    return m;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(t) {
    this._tokens = t;
  }
  saveCodeVerifier(v) {
    this._verifier = v;
  }
  codeVerifier() {
    return this._verifier;
  }
  async redirectToAuthorization(url) {
    const u = new URL(url);
    const p = u.searchParams;
    if (knobs.has('scope=omit')) {
      p.delete('scope');
      p.delete('prompt');
    }
    if (knobs.has('scope=outside')) p.set('scope', OUTSIDE_SCOPES);
    if (knobs.has('pkce=none')) {
      p.delete('code_challenge');
      p.delete('code_challenge_method');
    }
    if (knobs.has('pkce=plain')) {
      p.set('code_challenge', this._verifier);
      p.set('code_challenge_method', 'plain');
    }
    if (knobs.has('resource=omit')) p.delete('resource');
    log(`authorization request to ${u.origin}${u.pathname} (${[...p.keys()].join(', ')})`);
    const expectedState = p.get('state');
    this._pending = new Promise((resolve, reject) => {
      onCallback = (params) => resolve(params);
      follow(u.href, { log: (m) => log(`browser: ${m}`) }).then(
        (walk) => {
          // Reached something other than the callback: an error page of the AS.
          if (new URL(walk.url).pathname !== '/callback') {
            reject(new Error(`the browser stopped at ${walk.url} (${walk.status}) without reaching the callback`));
          }
        },
        reject,
      );
    }).then((params) => {
      if (params.get('error')) {
        throw new Error(`authorization failed: ${params.get('error')}: ${params.get('error_description') ?? ''}`);
      }
      if (expectedState !== null && params.get('state') !== expectedState) {
        throw new Error(`callback state ${params.get('state')} does not match the request's`);
      }
      return params.get('code');
    });
    // Awaited by authorizationCode(); never an unhandled rejection meanwhile.
    this._pending.catch(() => {});
  }
  async authorizationCode() {
    const p = this._pending;
    this._pending = undefined;
    if (!p) throw new Error('the SDK reported an authorization was needed but never redirected');
    return p;
  }
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') this._client = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
  }
}

// knobFetch edits the registration and token requests the SDK sends.
async function knobFetch(input, init = {}) {
  const method = (init.method ?? 'GET').toUpperCase();
  if (method === 'POST' && init.body !== undefined) {
    const ctype = new Headers(init.headers).get('content-type') ?? '';
    if (ctype.includes('application/json') && typeof init.body === 'string') {
      const body = JSON.parse(init.body);
      if (Array.isArray(body.redirect_uris) && knobs.has('scope=omit')) {
        delete body.scope;
        init = { ...init, body: JSON.stringify(body) };
      }
    } else if (ctype.includes('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(init.body.toString());
      const grant = form.get('grant_type');
      if (grant === 'authorization_code') {
        if (knobs.has('pkce=none')) form.delete('code_verifier');
        if (knobs.has('redirect=mismatch')) form.set('redirect_uri', callbackURL.replace('127.0.0.1', 'localhost'));
      }
      if ((grant === 'authorization_code' || grant === 'refresh_token') && knobs.has('resource=omit')) form.delete('resource');
      if (grant) init = { ...init, body: form };
    }
  }
  return fetch(input, init);
}

const provider = new HeadlessProvider();
const serverURL = new URL(cfg.server);

async function session() {
  const transport = new StreamableHTTPClientTransport(serverURL, { authProvider: provider, fetch: knobFetch });
  const client = new Client({ name: 'oauthlint-e2e-client', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = await client.listTools();
    const res = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    log(`tools: ${tools.tools.map((t) => t.name).join(', ')}; echo: ${res.content?.[0]?.text}`);
    return { ok: true, transport };
  } catch (err) {
    if (err instanceof UnauthorizedError) return { ok: false, transport };
    throw err;
  } finally {
    await client.close().catch(() => {});
  }
}

let code = 0;
try {
  // One authorization, plus one more when the server asks for more scope
  // (403 insufficient_scope): a real client gives up after that.
  for (let attempt = 1; ; attempt++) {
    const { ok, transport } = await session();
    if (ok) break;
    if (attempt > 2) throw new Error('still unauthorized after two authorizations');
    const authCode = await provider.authorizationCode();
    await transport.finishAuth(authCode);
    log(`authorization ${attempt} complete`);
  }
} catch (err) {
  log(`flow failed: ${err.message}`);
  code = 1;
}
callbackServer.close();
callbackServer.closeAllConnections?.();
await exitAfterKeylog(code);
