// Drives Claude Code's MCP commands (the `claude` binary from the npm
// package @anthropic-ai/claude-code, unmodified) as a user would:
//
//   claude mcp add --transport http --callback-port PORT e2e SERVER
//   claude mcp login e2e        (the OAuth flow; its browser is browser.mjs)
//   claude mcp list             (health check: connects with the token)
//
// No Anthropic account or API key is involved: these commands talk only to
// the MCP server and its authorization server. Claude Code runs with a
// fresh HOME and config directory and with its non-essential traffic
// (telemetry, update checks, error reports) off, so nothing leaves the
// machine. `claude mcp login` prints the authorization URL and waits on
// its loopback callback; the driver opens that URL with browser.mjs, which
// walks the authorization server's login and consent to the callback
// ($BROWSER is set to the same walker, but Claude Code did not run it
// under script's terminal).
//
// Usage: node claude-code-driver.mjs CONFIG.json
// Config: { server, callback_port, claude (path of the binary), home,
//           timeout_ms? }
// Exit status: 0 when the login worked and the server lists as connected,
// 1 when not, 3 on a time-out.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig, logger, exitAfterKeylog } from './common.mjs';

const cfg = readConfig();
const log = logger('claude-code-driver');
const deadline = Date.now() + (cfg.timeout_ms ?? 60000);

mkdirSync(cfg.home, { recursive: true });
// $BROWSER is run as a program with the URL as its argument (not split on
// spaces): a script that runs browser.mjs with this node.
const browserJS = fileURLToPath(new URL('./browser.mjs', import.meta.url));
const browserSh = path.join(cfg.home, 'browser.sh');
writeFileSync(browserSh, `#!/bin/sh\nexec '${process.execPath}' '${browserJS}' "$@"\n`);
chmodSync(browserSh, 0o755);

const env = {
  ...process.env,
  HOME: cfg.home,
  CLAUDE_CONFIG_DIR: path.join(cfg.home, '.claude'),
  BROWSER: browserSh,
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
};
for (const k of ['DISPLAY', 'WAYLAND_DISPLAY']) delete env[k];

// claude mcp login wants a terminal: run it under script(1), which gives
// it a pseudo-terminal.
function claude(args, { tty = false } = {}) {
  return new Promise((resolve) => {
    const left = deadline - Date.now();
    if (left <= 0) {
      log(`gave up before claude ${args.join(' ')}`);
      process.exit(3);
    }
    log(`claude ${args.join(' ')}`);
    const quoted = [cfg.claude, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const p = tty
      ? spawn('script', ['-qec', quoted, '/dev/null'], { env, cwd: cfg.home, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(cfg.claude, args, { env, cwd: cfg.home, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let opened = false;
    p.stdout.on('data', (d) => {
      out += d;
      process.stderr.write(d);
      // Claude Code prints the authorization URL ("If the browser didn't
      // open, visit: URL", inside a terminal hyperlink); it does not run
      // $BROWSER under every terminal, so the driver opens it itself.
      const m = /visit:[\s\S]*?(https?:\/\/[^\s\x07\x1b]+)/.exec(out);
      if (tty && m && !opened) {
        opened = true;
        log(`opening ${m[1].slice(0, 60)}…`);
        spawn(browserSh, [m[1]], { env, stdio: ['ignore', 'inherit', 'inherit'] });
      }
    });
    p.stderr.on('data', (d) => process.stderr.write(d));
    const timer = setTimeout(() => { log(`claude ${args[1]} timed out`); p.kill('SIGKILL'); }, left);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

let r = await claude(['mcp', 'add', '--transport', 'http', '--callback-port', String(cfg.callback_port), 'e2e', cfg.server]);
if (r.code !== 0) {
  log(`mcp add exited ${r.code}`);
  await exitAfterKeylog(1);
}
r = await claude(['mcp', 'login', 'e2e'], { tty: true });
log(`mcp login exited ${r.code}`);
const login = r.code;
r = await claude(['mcp', 'list']);
const connected = /e2e:.*(✓|Connected)/.test(r.out);
log(`mcp list exited ${r.code}; connected: ${connected}`);
await exitAfterKeylog(login === 0 && connected ? 0 : 1);
