import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../src/app.js';
import { parseConfig, type Config } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';
import { getRun, register, runEvents, ROOT, runSkein, start, stepOf, waitForRun, waitForStep, withClient, type TestApp } from './support.js';

/**
 * The zero-service mode: no DATABASE_URL (an embedded Postgres, PGlite in a worker thread) and no
 * REDIS_URL (an in-process bus). The same lifecycle as engine.test.ts, then a restart on the same
 * data. The config is parsed here, never through testConfig, which names a Redis.
 */
let dataDir: string;
let app: TestApp;

function embeddedConfig(): Config {
  return parseConfig({
    SKEIN_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKFLOWS_DIR: path.join(ROOT, 'server/test/fixtures/none'),
    WORKER_CONCURRENCY: '8',
    WORKER_POLL_MS: '500',
    HEARTBEAT_MS: '500',
    CANCEL_GRACE_MS: '1000',
    SHUTDOWN_GRACE_MS: '2000',
  });
}

async function startEmbeddedApp(): Promise<TestApp> {
  const config = embeddedConfig();
  expect(config.DATABASE_URL).toBeUndefined();
  expect(config.REDIS_URL).toBeUndefined();
  return withClient(await startApp(config, 'all', createLogger(config.LOG_LEVEL)), config);
}

const sleep = (id: string, ms: number, needs: string[] = [], extra: Record<string, unknown> = {}) => ({ id, type: 'sleep', needs, with: { ms }, ...extra });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skein-embedded-'));
  app = await startEmbeddedApp();
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('zero-service mode (embedded Postgres, in-process bus)', () => {
  it('runs on the embedded Postgres and the local bus, with its data under SKEIN_DATA_DIR', async () => {
    expect(app.embedded).toBeDefined();
    expect(app.embedded!.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(app.embedded!.dataDir).toBe(path.join(dataDir, 'pg'));
    expect(app.embedded!.fresh).toBe(true);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(app.bus.kind).toBe('local');
    const [[row]] = (await app.db.sequelize.query('SELECT version() AS v')) as unknown as [{ v: string }[]];
    expect(row.v).toMatch(/PGlite/);
    const health = (await (await fetch(`http://127.0.0.1:${app.port}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ ok: true, db: true, bus: 'local' });
  });

  it('refuses a second process on the same data directory', async () => {
    expect((await readFile(path.join(dataDir, 'pg.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/in use by process/);
  });

  it('runs a diamond with outputs flowing from needs to dependents', async () => {
    await register(app, {
      name: 'diamond',
      steps: [
        { id: 'a', type: 'transform', with: { expression: '{ "n": input.n }' } },
        { id: 'b', type: 'transform', needs: ['a'], with: { expression: 'steps.a.output.n * 2' } },
        { id: 'c', type: 'transform', needs: ['a'], with: { expression: 'steps.a.output.n + 1' } },
        { id: 'd', type: 'transform', needs: ['b', 'c'], with: { expression: 'steps.b.output + steps.c.output' } },
      ],
    });
    const id = await start(app, 'diamond', { n: 5 });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run, 'd').output).toBe(16);
    expect(run.output).toEqual({ d: 16 });
    const events = await runEvents(app, id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe('RUN_SUCCEEDED');
  });

  it('runs independent branches at the same time and joins after both', async () => {
    await register(app, { name: 'parallel', steps: [sleep('left', 600), sleep('right', 600), { id: 'join', type: 'noop', needs: ['left', 'right'] }] });
    const run = await waitForRun(app, await start(app, 'parallel'), ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    const [l, r, j] = ['left', 'right', 'join'].map((s) => stepOf(run, s));
    const t = (x: string | null) => new Date(x!).getTime();
    expect(t(l.startedAt)).toBeLessThan(t(r.finishedAt));
    expect(t(r.startedAt)).toBeLessThan(t(l.finishedAt));
    expect(t(j.startedAt)).toBeGreaterThanOrEqual(Math.max(t(l.finishedAt), t(r.finishedAt)));
  });

  it('retries a transient failure to success', async () => {
    await register(app, { name: 'flaky', steps: [{ id: 'f', type: 'fail', with: { times: 1 }, retry: { limit: 2, delayMs: 50 } }] });
    const run = await waitForRun(app, await start(app, 'flaky'), ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run, 'f').attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
  });

  it('pauses mid-run, then resumes with no step run twice', async () => {
    await register(app, { name: 'pausable', steps: [sleep('one', 700), sleep('two', 200, ['one']), sleep('three', 200, ['two'])] });
    const id = await start(app, 'pausable');
    await waitForStep(app, id, 'one', ['RUNNING']);
    const paused = await app.ok<{ pauseRun: { status: string } }>(`mutation($id: ID!) { pauseRun(id: $id) { status } }`, { id });
    expect(paused.pauseRun.status).toBe('PAUSING');
    const held = await waitForRun(app, id, ['PAUSED']);
    expect(stepOf(held, 'one').status).toBe('SUCCEEDED');
    expect(stepOf(held, 'two').status).toBe('PENDING');
    await new Promise((r) => setTimeout(r, 500));
    expect(stepOf(await getRun(app, id), 'two').status).toBe('PENDING');
    await app.ok(`mutation($id: ID!) { resumeRun(id: $id) { status } }`, { id });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.steps.map((s) => s.attempts.length)).toEqual([1, 1, 1]);
  });

  it('cancels a running sleep through its abort signal', async () => {
    await register(app, { name: 'cancellable', steps: [sleep('long', 30_000), sleep('after', 10, ['long'])] });
    const id = await start(app, 'cancellable');
    await waitForStep(app, id, 'long', ['RUNNING']);
    const res = await app.ok<{ cancelRun: { status: string } }>(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id });
    expect(res.cancelRun.status).toBe('CANCELLING');
    const run = await waitForRun(app, id, ['CANCELLED'], 10_000);
    expect(stepOf(run, 'long').attempts[0].error?.code).toBe('CANCELLED');
    expect(stepOf(run, 'after').status).toBe('CANCELLED');
    expect(stepOf(run, 'after').attempts).toHaveLength(0);
  });

  it('retryRun re-runs what did not succeed after a failure', async () => {
    await register(app, {
      name: 'retry-run',
      steps: [
        { id: 'first', type: 'noop' },
        { id: 'flaky', type: 'fail', needs: ['first'], with: { times: 1 } },
        { id: 'last', type: 'noop', needs: ['flaky'] },
      ],
    });
    const id = await start(app, 'retry-run');
    const failed = await waitForRun(app, id, ['FAILED']);
    expect(stepOf(failed, 'last').status).toBe('SKIPPED');
    await app.ok(`mutation($id: ID!) { retryRun(id: $id) { status } }`, { id });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run, 'first').attempts).toHaveLength(1);
    expect(stepOf(run, 'flaky').attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('approves a waiting approval step', async () => {
    await register(app, {
      name: 'approvals',
      steps: [{ id: 'review', type: 'approval', with: { prompt: 'Ship it?' } }, { id: 'ship', type: 'noop', needs: ['review'] }],
    });
    const id = await start(app, 'approvals');
    await waitForStep(app, id, 'review', ['WAITING']);
    const approved = await app.ok<{ approveStep: { status: string; output: unknown } }>(
      `mutation($r: ID!) { approveStep(runId: $r, stepId: "review", approved: true, comment: "lgtm") { status output } }`,
      { r: id },
    );
    expect(approved.approveStep).toEqual({ status: 'SUCCEEDED', output: { approved: true, comment: 'lgtm', by: 'anonymous' } });
    expect((await waitForRun(app, id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
  });

  it('keeps workflows and runs across a restart on the same data directory, and runs again', async () => {
    const before = await app.ok<{ runs: { totalCount: number; nodes: { id: string; status: string }[] } }>(`{ runs(first: 100) { totalCount nodes { id status } } }`);
    const names = (await app.ok<{ workflows: { name: string }[] }>(`{ workflows { name } }`)).workflows.map((w) => w.name).sort();
    expect(names).toEqual(['approvals', 'cancellable', 'diamond', 'flaky', 'parallel', 'pausable', 'retry-run']);

    await app.stop();
    expect(existsSync(path.join(dataDir, 'pg.lock'))).toBe(false);
    app = await startEmbeddedApp();
    expect(app.embedded!.fresh).toBe(false);

    const after = await app.ok<{ runs: { totalCount: number; nodes: { id: string; status: string }[] } }>(`{ runs(first: 100) { totalCount nodes { id status } } }`);
    expect(after).toEqual(before);
    expect((await app.ok<{ workflows: { name: string }[] }>(`{ workflows { name } }`)).workflows.map((w) => w.name).sort()).toEqual(names);

    const id = await start(app, 'diamond', { n: 2 });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ d: 7 });
  }, 120_000);
});

describe('roles that need a shared bus', () => {
  it.each(['server', 'worker'])('`skein %s` without REDIS_URL exits 1 with one clear line', async (role) => {
    const { code, stdout, stderr } = await runSkein([role], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', LOG_LEVEL: 'info' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^skein: "skein ${role}" needs REDIS_URL: .*skein all`));
  });

  it('`skein worker` without DATABASE_URL (but with REDIS_URL) exits 1 too: the embedded Postgres serves one process', async () => {
    const { code, stderr } = await runSkein(['worker'], { REDIS_URL: 'redis://127.0.0.1:6379', SKEIN_DATA_DIR: path.join(tmpdir(), 'skein-never-created') });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^skein: "skein worker" needs DATABASE_URL: /);
    expect(existsSync(path.join(tmpdir(), 'skein-never-created'))).toBe(false);
  });
});
