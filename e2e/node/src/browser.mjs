#!/usr/bin/env node
// A headless "browser" for the authorization leg: it follows an authorization
// URL through the authorization server's redirects, the login and consent
// apps (which accept everything), and finally requests the client's loopback
// callback, exactly as a browser following 30x responses would. It keeps a
// cookie jar, because Hydra checks its CSRF cookies when the user comes back
// from the login and consent apps.
//
// Used two ways:
//   - imported by client.mjs (the SDK client drives it in-process);
//   - as the BROWSER program of mcp-remote (xdg-open runs "$BROWSER URL").
//
// It uses the global fetch, so under `oauthlint capture` it goes through the
// capture proxy like the rest of the client (the preload sets the dispatcher).

import { pathToFileURL } from 'node:url';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function follow(startURL, { maxHops = 25, log = () => {} } = {}) {
  // Cookies keyed by host name (browsers ignore the port for cookies).
  const jar = new Map();
  const cookieHeader = (u) => {
    const c = jar.get(u.hostname);
    if (!c || c.size === 0) return undefined;
    return [...c].map(([k, v]) => `${k}=${v}`).join('; ');
  };
  const store = (u, res) => {
    const set = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
    for (const line of set) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (!jar.has(u.hostname)) jar.set(u.hostname, new Map());
      if (expired) jar.get(u.hostname).delete(name);
      else jar.get(u.hostname).set(name, value);
    }
  };

  let url = new URL(startURL);
  const hops = [];
  for (let i = 0; i < maxHops; i++) {
    const headers = { 'user-agent': 'oauthlint-e2e-browser/1', accept: 'text/html,application/json;q=0.9,*/*;q=0.8' };
    const cookie = cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let res;
    try {
      res = await fetch(url, { redirect: 'manual', headers });
    } catch (err) {
      // A closed callback listener (the client gave up) ends the walk.
      log(`GET ${url.origin}${url.pathname} failed: ${err.cause?.code ?? err.message}`);
      return { url: url.href, status: 0, hops, error: String(err.cause?.code ?? err.message) };
    }
    store(url, res);
    hops.push({ url: url.href, status: res.status });
    log(`GET ${url.origin}${url.pathname} -> ${res.status}`);
    if (REDIRECTS.has(res.status) && res.headers.get('location')) {
      await res.arrayBuffer();
      url = new URL(res.headers.get('location'), url);
      continue;
    }
    const body = await res.text();
    return { url: url.href, status: res.status, hops, body };
  }
  throw new Error(`more than ${maxHops} redirects from ${startURL}`);
}

// As a program: follow argv[2] and exit 0 (xdg-open treats a non-zero exit as
// "no browser"), logging the walk on stderr.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: browser.mjs URL');
    process.exit(2);
  }
  const log = (m) => console.error(`[browser] ${m}`);
  follow(target, { log })
    .then((r) => log(`done at ${new URL(r.url).pathname} (${r.status})`))
    .catch((err) => {
      log(`error: ${err.message}`);
      process.exitCode = 1;
    });
}
