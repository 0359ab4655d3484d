// The login and consent app for ORY Hydra: it accepts every login as the
// test user and grants exactly what was requested (scopes and audiences),
// through Hydra's admin API, and sends the browser back to Hydra. No page is
// shown: the headless browser only follows redirects.
//
// Config: { host, port, admin: "http://127.0.0.1:4445", subject, tls?: {cert, key}, ca? }

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { readConfig, ready, logger, exitOnSignals, listen } from './common.mjs';

const cfg = readConfig();
const log = logger('hydra-login');
const subject = cfg.subject ?? 'e2e-user';
// The admin API is called directly, never through a capture proxy: it is
// server-to-server traffic, not the client's.
const dispatcher = new Agent({ connect: cfg.ca ? { ca: readFileSync(cfg.ca) } : {} });

async function admin(method, path, body) {
  const res = await fetch(cfg.admin + path, {
    method,
    dispatcher,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname === '/login') {
      const challenge = url.searchParams.get('login_challenge');
      const q = `?login_challenge=${encodeURIComponent(challenge)}`;
      await admin('GET', `/admin/oauth2/auth/requests/login${q}`);
      const { redirect_to } = await admin('PUT', `/admin/oauth2/auth/requests/login/accept${q}`, { subject, remember: false });
      log('login accepted');
      res.writeHead(302, { location: redirect_to }).end();
      return;
    }
    if (url.pathname === '/consent') {
      const challenge = url.searchParams.get('consent_challenge');
      const q = `?consent_challenge=${encodeURIComponent(challenge)}`;
      const consent = await admin('GET', `/admin/oauth2/auth/requests/consent${q}`);
      const { redirect_to } = await admin('PUT', `/admin/oauth2/auth/requests/consent/accept${q}`, {
        grant_scope: consent.requested_scope ?? [],
        grant_access_token_audience: consent.requested_access_token_audience ?? [],
        remember: false,
        session: { access_token: {}, id_token: {} },
      });
      log(`consent accepted: scope=${JSON.stringify(consent.requested_scope ?? [])}`);
      res.writeHead(302, { location: redirect_to }).end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  } catch (err) {
    log(`error: ${err.message}`);
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`login app error: ${err.message}\n`);
  }
}

const server = cfg.tls
  ? https.createServer({ cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) }, handle)
  : http.createServer(handle);
const port = await listen(server, cfg.host, cfg.port);
exitOnSignals(() => server.close());
ready({ role: 'hydra-login', port });
