#!/usr/bin/env node
// `npm run dev`: the API server + worker (`skein all`) and Vite's dev server side by side.
// Output of each is prefixed with its name; SIGINT/SIGTERM go to both; when either exits,
// the other is stopped and this script exits with the first one's status.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const specs = [
  { name: 'api', color: 36, cmd: process.execPath, args: ['server/bin/skein.mjs', 'all'] },
  { name: 'web', color: 35, cmd: npm, args: ['run', 'dev', '-w', 'web', '--silent'] },
];
const width = Math.max(...specs.map((s) => s.name.length));

const children = [];
let exiting = false;
let exitCode = 0;

function prefixLines(stream, out, prefix) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    out.write(`${prefix} ${line}\n`);
  });
}

const running = (child) =>
  child.pid !== undefined && child.exitCode === null && child.signalCode === null;

// Each child leads its own process group (so a terminal's Ctrl-C reaches it once, through us),
// and a signal goes to the whole group: `npm run dev` -> sh -> vite stops as one.
function signalChild(child, signal) {
  if (!running(child) || child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function stopAll(signal) {
  for (const child of children) signalChild(child, signal);
}

function shutdown(code, signal = 'SIGTERM') {
  if (exiting) return;
  exiting = true;
  exitCode = code;
  stopAll(signal);
  // Give children time to stop cleanly, then force them.
  setTimeout(() => stopAll('SIGKILL'), 10_000).unref();
}

for (const spec of specs) {
  const prefix = paint(spec.color, `[${spec.name.padEnd(width)}]`);
  const child = spawn(spec.cmd, spec.args, {
    cwd: root,
    env: color ? { ...process.env, FORCE_COLOR: '1' } : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
  });
  children.push(child);
  prefixLines(child.stdout, process.stdout, prefix);
  prefixLines(child.stderr, process.stderr, prefix);
  child.on('error', (err) => {
    process.stderr.write(`${prefix} failed to start: ${err.message}\n`);
    shutdown(1);
    if (!children.some(running)) process.exit(exitCode);
  });
  child.on('exit', (code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    process.stderr.write(`${prefix} exited with ${how}\n`);
    shutdown(code ?? (signal ? 1 : 0));
    if (!children.some(running)) {
      process.exit(exitCode);
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (exiting) {
      // A second Ctrl-C: stop waiting.
      stopAll('SIGKILL');
      process.exit(130);
    }
    shutdown(signal === 'SIGINT' ? 130 : 143, signal);
  });
}

// Should this script die some other way, do not leave the servers holding their ports.
process.on('exit', () => stopAll('SIGKILL'));
