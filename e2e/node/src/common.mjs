// Helpers shared by the e2e servers and clients.
//
// Every long-running process of the harness prints exactly one line
// "READY {json}" on stdout once it accepts connections; the Go harness waits
// for that line instead of polling ports, so a server that dies during start-up
// is reported with its own error output rather than as a time-out.

import { readFileSync } from 'node:fs';

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
