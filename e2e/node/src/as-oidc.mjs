// node oidc-provider 9 as the authorization server: dynamic client
// registration, PKCE (S256 only, required for public clients), RFC 8707
// resource indicators with JWT access tokens for the MCP resource, and an
// interaction endpoint that logs the test user in and grants what was asked
// without showing a page.
//
// Config: { host, port, issuer, resource, scopes: [...], tls?: {cert, key} }

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';
import { readConfig, ready, logger, exitOnSignals, listen } from './common.mjs';

const cfg = readConfig();
const log = logger('oidc-provider');
const scopes = cfg.scopes ?? ['openid', 'offline_access', 'mcp:read', 'mcp:write', 'mcp:search'];
const resourceScopes = scopes.filter((s) => s !== 'openid' && s !== 'offline_access').join(' ');

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'e2e-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(cfg.issuer, {
  jwks: { keys: [jwk] },
  cookies: { keys: ['oauthlint-e2e-cookie-key'] },
  scopes,
  claims: { openid: ['sub'] },
  clientBasedCORS: () => true,
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A request without `resource` gets the MCP resource anyway: the AS is
      // lenient, so a client that forgets `resource` still completes its flow
      // and oauthlint judges the request, not the outcome.
      defaultResource: async () => cfg.resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== cfg.resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return {
          scope: resourceScopes,
          audience: indicator,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err}`));
provider.on('grant.error', (_ctx, err) => log(`grant.error: ${err.message} ${err.error_description ?? ''}`));
provider.on('authorization.error', (_ctx, err) => log(`authorization.error: ${err.message} ${err.error_description ?? ''}`));
provider.on('registration_create.error', (_ctx, err) => log(`registration error: ${err.message} ${err.error_description ?? ''}`));

// interaction logs in and consents in two round trips, as a user clicking
// "sign in" and then "allow" would.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    log('login accepted');
    await provider.interactionFinished(req, res, { login: { accountId: 'e2e-user' } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, s] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, s.join(' '));
    const grantId = await grant.save();
    log(`consent accepted: scope=${JSON.stringify(params.scope ?? '')}`);
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.writeHead(400, { 'content-type': 'text/plain' }).end(`unexpected prompt ${prompt.name}\n`);
}

const callback = provider.callback();
async function handle(req, res) {
  if (req.url.startsWith('/interaction/')) {
    try {
      await interaction(req, res);
    } catch (err) {
      log(`interaction error: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`interaction error: ${err.message}\n`);
    }
    return;
  }
  callback(req, res);
}

const server = cfg.tls
  ? https.createServer({ cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) }, handle)
  : http.createServer(handle);
const port = await listen(server, cfg.host, cfg.port);
exitOnSignals(() => server.close());
ready({ role: 'oidc-provider', port, issuer: cfg.issuer });
