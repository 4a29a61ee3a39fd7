import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startApp, type App, type Role } from '../src/app.js';
import { parseConfig, type Config } from '../src/config.js';
import { quoteIdent } from '../src/db/sequelize.js';
import { createLogger } from '../src/logger.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PG_BASE = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A fresh database name per test file: tests are isolated by database, never by mocks. */
export function testDatabaseUrl(label: string): string {
  return `${PG_BASE}/skein_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** What every test app's environment has: a free port, quiet logs, no workflow files, short timers. */
function testEnv(): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKFLOWS_DIR: path.join(ROOT, 'server/test/fixtures/none'),
    WORKER_POLL_MS: '500',
    HEARTBEAT_MS: '500',
    CANCEL_GRACE_MS: '1000',
    SHUTDOWN_GRACE_MS: '2000',
  };
}

/**
 * The zero-service mode's config: no DATABASE_URL (an embedded Postgres under `dataDir`) and no
 * REDIS_URL (an in-process bus); never through testConfig, which names a Redis.
 */
export function embeddedConfig(dataDir: string, overrides: Record<string, string> = {}): Config {
  return parseConfig({ ...testEnv(), SKEIN_DATA_DIR: dataDir, ...overrides });
}

/** Skein (role `all`) in the zero-service mode, with its data under `dataDir`. */
export async function startEmbeddedApp(dataDir: string, overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = embeddedConfig(dataDir, overrides);
  if (config.DATABASE_URL || config.REDIS_URL) throw new Error('the zero-service mode names no DATABASE_URL or REDIS_URL');
  return withClient(await startApp(config, 'all', createLogger(config.LOG_LEVEL)), config);
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({ ...testEnv(), REDIS_URL, ...overrides });
}

export interface TestApp extends App {
  url: string;
  config: Config;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql, but throws when the response has errors. */
  ok<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> & { code?: string } }[];
}

/** Give a started app a GraphQL client for its HTTP endpoint. */
export function withClient(app: App, config: Config): TestApp {
  const url = `http://127.0.0.1:${app.port}/graphql`;
  const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as GqlResult<T>;
  };
  const ok = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const r = await gql<T>(query, variables);
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as T;
  };
  return Object.assign(app, { url, config, gql, ok });
}

/** Start Skein in this process (API on a free port; a worker too for role `all`). */
export async function startTestApp(opts: { databaseUrl: string; role?: Role; env?: Record<string, string> }): Promise<TestApp> {
  const config = testConfig({ DATABASE_URL: opts.databaseUrl, ...opts.env });
  return withClient(await startApp(config, opts.role ?? 'all', createLogger(config.LOG_LEVEL)), config);
}

/** Run the `skein` CLI to its exit and collect its exit code and output. */
export function runSkein(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'server/bin/skein.mjs'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`skein ${args.join(' ')} did not exit; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Poll until `fn` returns a truthy value; fail with the last value after the deadline. */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 30_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A worker in its own OS process, for crash and cross-process tests. */
export function spawnWorker(databaseUrl: string, env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [path.join(ROOT, 'server/bin/skein.mjs'), 'worker'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      LOG_LEVEL: 'info',
      WORKER_POLL_MS: '500',
      HEARTBEAT_MS: '500',
      CANCEL_GRACE_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

export async function waitForExit(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('process did not exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export const RUN_FIELDS = `id status progress error { message code stepId } output
  steps { stepId status attempt maxAttempts output skipReason error { message code } attempts { attempt status error { code message } } startedAt finishedAt workerId }`;

export interface RunView {
  id: string;
  status: string;
  progress: number;
  error: { message: string; code: string; stepId: string } | null;
  output: unknown;
  steps: {
    stepId: string;
    status: string;
    attempt: number;
    maxAttempts: number;
    output: unknown;
    skipReason: string | null;
    error: { message: string; code: string } | null;
    attempts: { attempt: number; status: string; error: { code: string; message: string } | null }[];
    startedAt: string | null;
    finishedAt: string | null;
    workerId: string | null;
  }[];
}

export function stepOf(run: RunView, id: string) {
  const s = run.steps.find((x) => x.stepId === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}

export async function getRun(app: TestApp, id: string): Promise<RunView> {
  return (await app.ok<{ run: RunView }>(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id })).run;
}

export async function register(app: TestApp, definition: unknown): Promise<{ name: string; version: number }> {
  return (await app.ok<{ registerWorkflow: { name: string; version: number } }>(
    `mutation($d: JSON!) { registerWorkflow(definition: $d) { name version } }`,
    { d: definition },
  )).registerWorkflow;
}

export async function start(app: TestApp, workflow: string, input?: unknown, idempotencyKey?: string): Promise<string> {
  return (await app.ok<{ startRun: { id: string } }>(
    `mutation($w: String!, $i: JSON, $k: String) { startRun(workflow: $w, input: $i, idempotencyKey: $k) { id } }`,
    { w: workflow, i: input, k: idempotencyKey },
  )).startRun.id;
}

export async function waitForRun(app: TestApp, id: string, statuses: string[], timeoutMs = 30_000): Promise<RunView> {
  return waitFor(async () => {
    const run = await getRun(app, id);
    return statuses.includes(run.status) ? run : null;
  }, `run ${id} to be ${statuses.join('|')}`, timeoutMs);
}

export async function waitForStep(app: TestApp, id: string, stepId: string, statuses: string[], timeoutMs = 30_000): Promise<RunView> {
  return waitFor(async () => {
    const run = await getRun(app, id);
    return statuses.includes(stepOf(run, stepId).status) ? run : null;
  }, `step ${stepId} of ${id} to be ${statuses.join('|')}`, timeoutMs);
}

export async function runEvents(app: TestApp, id: string): Promise<{ seq: number; type: string; stepId: string | null; status: string | null; attempt: number | null; actor: string | null; message: string | null }[]> {
  return (await app.ok<{ run: { events: never[] } }>(`query($id: ID!) { run(id: $id) { events(first: 10000) { seq type stepId status attempt actor message } } }`, { id })).run.events;
}
