// Helpers shared by the e2e servers and clients.
//
// Every long-running process of the harness prints exactly one line
// "READY {json}" on stdout once it accepts connections; the Go harness waits
// for that line instead of polling ports, so a server that dies during start-up
// is reported with its own error output rather than as a time-out.

import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';

// readConfig parses the JSON configuration a process is started with: the
// path of a JSON file in argv[2] (the harness writes one per process so the
// exact settings of a run can be read back after a failure).
export function readConfig() {
  const path = process.argv[2];
  if (!path) {
    console.error(`usage: node ${process.argv[1]} CONFIG.json`);
    process.exit(2);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`${process.argv[1]}: cannot read the configuration ${path}: ${err.message}`);
    process.exit(2);
  }
}

export function ready(info) {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

// log writes to stderr with the process's role, so the harness's combined
// log of a scenario stays readable.
export function logger(role) {
  return (...args) => console.error(`[${role}]`, ...args);
}

// exitOnSignals makes a server stop promptly and quietly when the harness ends
// the scenario.
export function exitOnSignals(close) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      try {
        await close?.();
      } finally {
        process.exit(0);
      }
    });
  }
}

// listen starts an http or https server on the configured loopback address.
export async function listen(server, host, port) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address().port;
}

// readBody reads a whole request body (small: forms and JSON of the test
// servers).
export async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// keylogPath is the file Node's --tls-keylog writes to, or undefined.
function keylogPath() {
  const opts = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (const o of opts) {
    if (o.startsWith('--tls-keylog=')) return o.slice('--tls-keylog='.length);
  }
  return undefined;
}

// exitAfterKeylog exits once the TLS key log has stopped growing. Node
// appends each key line with an asynchronous fs.appendFile, so a client that
// calls process.exit right after its last request can leave the keys of its
// last connection unwritten, and that connection unreadable in the pcap leg
// (seen on a loaded CI machine: a retried token request on a new connection).
export async function exitAfterKeylog(code) {
  const path = keylogPath();
  if (path) {
    const size = async () => (await stat(path).catch(() => ({ size: -1 }))).size;
    // Stable for three polls in a row, at most two seconds.
    let last = await size();
    for (let stable = 0, i = 0; stable < 3 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await size();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
  }
  process.exit(code);
}
