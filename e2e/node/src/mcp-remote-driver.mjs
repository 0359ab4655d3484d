// Drives mcp-remote (from npm, unmodified) as an MCP host would: it starts
// `mcp-remote URL PORT` as a stdio server, initializes, lists the tools and
// calls one. mcp-remote does the OAuth flow itself and "opens a browser" via
// the `open` package, whose xdg-open runs $BROWSER: the harness points that at
// browser.mjs, which walks the authorization URL headlessly up to
// mcp-remote's own loopback callback.
//
// Usage: node mcp-remote-driver.mjs CONFIG.json
// Config: { server, callback_port, args?: [..] (extra mcp-remote flags),
//           config_dir (MCP_REMOTE_CONFIG_DIR: token cache, fresh per run),
//           timeout_ms? }
// Exit status: 0 when the tool call worked, 1 when it failed, 3 on a time-out.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readConfig, logger, exitAfterKeylog } from './common.mjs';

const cfg = readConfig();
const log = logger('mcp-remote-driver');
const require = createRequire(import.meta.url);
const proxyJS = path.join(path.dirname(require.resolve('mcp-remote/package.json')), 'dist', 'proxy.js');
const browser = fileURLToPath(new URL('./browser.mjs', import.meta.url));

const timeout = setTimeout(() => {
  log(`gave up after ${cfg.timeout_ms ?? 60000} ms`);
  process.exit(3);
}, cfg.timeout_ms ?? 60000);
timeout.unref();

// The whole environment goes to mcp-remote (the SDK's stdio transport would
// pass only a safe subset, dropping the capture proxy and the preload), with
// no desktop so xdg-open falls back to $BROWSER.
// xdg-open word-splits $BROWSER (after splitting the list on ':'), so "node
// /path/browser.mjs" runs without relying on the file's exec bit.
if (/[\s:]/.test(process.execPath + browser)) {
  console.error(`mcp-remote-driver: the paths ${process.execPath} and ${browser} must not contain spaces or ':' ($BROWSER is split on them)`);
  process.exit(2);
}
const env = { ...process.env, BROWSER: `${process.execPath} ${browser}`, MCP_REMOTE_CONFIG_DIR: cfg.config_dir };
for (const k of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION', 'KDE_FULL_SESSION', 'GNOME_DESKTOP_SESSION_ID']) delete env[k];

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [proxyJS, cfg.server, String(cfg.callback_port), '--host', '127.0.0.1', ...(cfg.args ?? [])],
  env,
  stderr: 'inherit',
});
const client = new Client({ name: 'oauthlint-e2e-host', version: '1.0.0' });
let code = 0;
try {
  await client.connect(transport);
  const tools = await client.listTools();
  const res = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
  log(`tools: ${tools.tools.map((t) => t.name).join(', ')}; echo: ${res.content?.[0]?.text}`);
} catch (err) {
  log(`flow failed: ${err.message}`);
  code = 1;
}
await client.close().catch(() => {});
await exitAfterKeylog(code);
