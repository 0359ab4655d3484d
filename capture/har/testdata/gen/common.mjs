// Shared values for the HAR corpus generators: one MCP Inspector style OAuth
// login (discovery, dynamic registration, authorization code + PKCE, token,
// MCP initialize) with fixed, fake secrets so the output is deterministic.
import { createHash } from 'node:crypto';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkce(verifier) {
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

// A JWT-shaped token (not signed by anything real).
export function jwt(payload, sig) {
  const h = b64url(JSON.stringify({ alg: 'RS256', kid: 'k-2025-01', typ: 'at+jwt' }));
  return `${h}.${b64url(JSON.stringify(payload))}.${sig}`;
}

// 1x1 transparent PNG.
export const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64');

export function query(url) {
  // Raw name/value split, as Chrome's NetworkRequest.queryParameters does.
  const q = url.split('?')[1];
  if (!q) return [];
  return q.split('#')[0].split('&').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? { name: p, value: '' } : { name: p.slice(0, i), value: p.slice(i + 1) };
  });
}

export function decodedQuery(url) {
  // Decoded pairs, as Firefox's parseQueryString returns them.
  return query(url).map(({ name, value }) => ({
    name: decodeURIComponent(name.replace(/\+/g, ' ')),
    value: decodeURIComponent(value.replace(/\+/g, ' ')),
  }));
}

export const hdrs = (list) => list.map(([name, value]) => ({ name, value }));

export function form(pairs) {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`).join('&');
}

export const utf8len = (s) => Buffer.byteLength(s, 'utf8');
