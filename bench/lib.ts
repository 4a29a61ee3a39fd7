// Shared helpers of the benchmark: databases, Skein in-process and as child processes, GraphQL,
// percentiles, peak RSS. Local addresses only; every loop here is bounded by a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startApp, type App } from '../server/src/app.js';
import { parseConfig } from '../server/src/config.js';
import { quoteIdent } from '../server/src/db/sequelize.js';
import { createLogger } from '../server/src/logger.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PG_BASE = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';
/**
 * Worker concurrency used for Skein and for the BullMQ worker alike (`--concurrency=N`). Default
 * 10, Skein's own default (`WORKER_CONCURRENCY`): a worker turn carries at most this many results
 * and claims, so it bounds (b) and (c) — see bench/README.md for a sweep.
 */
export const CONCURRENCY = Number(process.argv.find((a) => a.startsWith('--concurrency='))?.slice(14) ?? 10);

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- statistics

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

// ---------------------------------------------------------------- databases

/** A fresh database name; every database the bench creates starts with `skein_bench_`. */
export function benchDatabaseUrl(label: string): string {
  return `${PG_BASE}/skein_bench_${label}_${randomBytes(4).toString('hex')}`;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Poll the runs table until every run has ended; returns their final statuses. */
export async function waitRunsDone(c: pg.Client, runIds: string[], timeoutMs: number, everyMs = 20): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await c.query<{ id: string; status: string }>(`SELECT id, status FROM runs WHERE id = ANY($1::uuid[])`, [runIds]);
    const done = rows.filter((r) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status));
    if (done.length === runIds.length) return new Map(done.map((r) => [r.id, r.status]));
    if (Date.now() > deadline) throw new Error(`runs not done after ${timeoutMs} ms: ${runIds.length - done.length} of ${runIds.length} still live`);
    await sleep(everyMs);
  }
}

export function assertAllSucceeded(statuses: Map<string, string>, what: string): void {
  const bad = [...statuses.values()].filter((s) => s !== 'SUCCEEDED');
  if (bad.length) throw new Error(`${what}: ${bad.length} run(s) did not succeed (${bad.join(', ')})`);
}

/** Wall time of runs from stored events: first RUN_CREATED to last RUN_SUCCEEDED (`at` is clock_timestamp()). */
export async function storedWallMs(c: pg.Client, runIds: string[]): Promise<number> {
  const { rows } = await c.query<{ ms: number }>(
    `SELECT EXTRACT(EPOCH FROM (max(at) FILTER (WHERE type = 'RUN_SUCCEEDED') - min(at) FILTER (WHERE type = 'RUN_CREATED'))) * 1000 AS ms
     FROM run_events WHERE run_id = ANY($1::uuid[]) AND type IN ('RUN_CREATED', 'RUN_SUCCEEDED')`,
    [runIds],
  );
  return Number(rows[0].ms);
}

// ---------------------------------------------------------------- Skein

export interface Skein {
  app: App;
  url: string;
  databaseUrl: string;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export function skeinEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    WORKFLOWS_DIR: '/nonexistent',
    WORKER_CONCURRENCY: String(CONCURRENCY),
    ...extra,
  };
}

/** Skein role `all` in this process, on a fresh database that `stop()` drops. */
export async function startSkein(label: string): Promise<Skein> {
  const databaseUrl = benchDatabaseUrl(label);
  const config = parseConfig(skeinEnv(databaseUrl, { PORT: '0' }));
  const app = await startApp(config, 'all', createLogger('silent'));
  const url = `http://127.0.0.1:${app.port}/graphql`;
  return {
    app,
    url,
    databaseUrl,
    gql: (query, variables) => gql(url, query, variables),
    stop: async () => {
      await app.stop();
      await dropDatabase(databaseUrl);
    },
  };
}

export async function gql<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data as T;
}

export const REGISTER = `mutation($d: JSON!) { registerWorkflow(definition: $d) { name version } }`;
export const START = `mutation($w: String!, $i: JSON) { startRun(workflow: $w, input: $i) { id } }`;

// ---------------------------------------------------------------- child processes

export interface Child {
  proc: ChildProcess;
  output(): string;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** `node server/bin/skein.mjs <role>` as a child process. */
export function spawnSkein(role: 'server' | 'worker' | 'all', env: Record<string, string>): Child {
  let out = '';
  const proc = spawn(process.execPath, [path.join(ROOT, 'server/bin/skein.mjs'), role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return {
    proc,
    output: () => out,
    peakRssMb: () => peakRssMb(proc.pid!),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export async function waitHttp(url: string, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (child && child.proc.exitCode !== null) throw new Error(`process exited: ${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${url} not up after ${timeoutMs} ms${child ? `: ${child.output()}` : ''}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- machine

export async function machineInfo(): Promise<Record<string, unknown>> {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  const postgres = await withClient(`${PG_BASE}/postgres`, async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version);
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    pgBoss: version('pg-boss'),
    bullmq: (() => {
      try {
        return (createRequire(new URL('./peers/package.json', import.meta.url))('bullmq/package.json') as { version: string }).version;
      } catch {
        return 'not installed';
      }
    })(),
    /** Other work on the machine skews every figure: the 1-minute load average at the start. */
    loadAvg1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** Log a progress line to stderr, so stdout keeps only the table. */
export function note(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
