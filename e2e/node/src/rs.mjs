// The protected resource: an MCP server built with @modelcontextprotocol/sdk
// (streamable HTTP, stateless), guarded by the SDK's bearer middleware, which
// answers 401 with WWW-Authenticate carrying resource_metadata and, when the
// scenario sets a challenge scope, scope="..." (the SDK also enforces those
// scopes: a token without them gets 403 insufficient_scope). The RFC 9728
// metadata comes from the SDK's metadata router, with or without
// scopes_supported.
//
// Config: {
//   host, port, resource: "http://127.0.0.1:3001/mcp",
//   as_metadata_url,                  // where to read the AS metadata at start-up
//   prm_scopes: [..] | null,          // PRM scopes_supported (null: omitted)
//   challenge_scope: [..] | null,     // scope hint in WWW-Authenticate (and required)
//   verify: { kind: "introspect", url } | { kind: "jwt", issuer, jwks_uri },
//   tls?: {cert, key}, ca?
// }

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import express from 'express';
import { Agent } from 'undici';
import { createRemoteJWKSet, jwtVerify, customFetch } from 'jose';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { readConfig, ready, logger, exitOnSignals, listen } from './common.mjs';

const cfg = readConfig();
const log = logger('mcp-server');
const resource = new URL(cfg.resource);
// Server-to-server calls (metadata, introspection, JWKS) never go through a
// capture proxy.
const dispatcher = new Agent({ connect: cfg.ca ? { ca: readFileSync(cfg.ca) } : {} });
const direct = (url, init = {}) => fetch(url, { ...init, dispatcher });

// The AS was checked to be up, but its listener may still drop the first
// connections: a few tries before giving up.
const asMetadata = await (async () => {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await direct(cfg.as_metadata_url);
      if (!res.ok) throw new Error(`status ${res.status}`);
      return await res.json();
    } catch (err) {
      if (attempt === 10) throw new Error(`AS metadata ${cfg.as_metadata_url}: ${err.cause?.code ?? err.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
})();

const verifier = { verifyAccessToken: null };
if (cfg.verify.kind === 'introspect') {
  verifier.verifyAccessToken = async (token) => {
    const res = await direct(cfg.verify.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    const info = await res.json();
    if (!res.ok || !info.active) throw new InvalidTokenError('Token is not active');
    return {
      token,
      clientId: info.client_id,
      scopes: info.scope ? info.scope.split(' ') : [],
      expiresAt: info.exp,
    };
  };
} else if (cfg.verify.kind === 'jwt') {
  const jwks = createRemoteJWKSet(new URL(cfg.verify.jwks_uri), { [customFetch]: (url, init) => direct(url, init) });
  // Fetch the keys now, before any client runs: a capture of the client's
  // traffic on lo then holds no server-to-server JWKS request.
  await jwks.reload();
  verifier.verifyAccessToken = async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: cfg.verify.issuer, audience: cfg.resource });
      return {
        token,
        clientId: payload.client_id,
        scopes: typeof payload.scope === 'string' && payload.scope ? payload.scope.split(' ') : [],
        expiresAt: payload.exp,
        resource: new URL(cfg.resource),
      };
    } catch (err) {
      throw new InvalidTokenError(`Token rejected: ${err.code ?? err.message}`);
    }
  };
} else {
  throw new Error(`unknown verify.kind ${cfg.verify.kind}`);
}

function buildServer() {
  const server = new McpServer({ name: 'oauthlint-e2e', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo the text back', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const app = express();
app.use(express.json());
app.use((req, _res, next) => {
  log(`${req.method} ${req.path}`);
  next();
});
app.use(
  mcpAuthMetadataRouter({
    oauthMetadata: asMetadata,
    resourceServerUrl: resource,
    scopesSupported: cfg.prm_scopes ?? undefined,
    resourceName: 'oauthlint e2e MCP server',
  }),
);
const bearer = requireBearerAuth({
  verifier,
  requiredScopes: cfg.challenge_scope ?? [],
  resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resource),
});
app.post(resource.pathname, bearer, async (req, res) => {
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
// Stateless server: no standalone SSE stream and no sessions to delete.
const notAllowed = (_req, res) =>
  res.status(405).set('allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
app.get(resource.pathname, bearer, notAllowed);
app.delete(resource.pathname, bearer, notAllowed);

const server = cfg.tls
  ? https.createServer({ cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) }, app)
  : http.createServer(app);
const port = await listen(server, cfg.host, cfg.port);
exitOnSignals(() => server.close());
ready({ role: 'mcp-server', port, resource: cfg.resource });
