import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { lifecycleSuite } from './lifecycle.js';
import { runSkein, start, startEmbeddedApp, waitForRun, type TestApp } from './support.js';

/**
 * The zero-service mode: no DATABASE_URL (an embedded Postgres, PGlite in a worker thread) and no
 * REDIS_URL (an in-process bus). The same lifecycle suite as engine.test.ts, then a restart on the
 * same data. The config is parsed here, never through testConfig, which names a Redis.
 */
let dataDir: string;
let app: TestApp;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skein-embedded-'));
  app = await startEmbeddedApp(dataDir, { WORKER_CONCURRENCY: '8' });
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

  lifecycleSuite(() => app);

  it('keeps workflows and runs across a restart on the same data directory, and runs again', async () => {
    const before = await app.ok<{ runs: { totalCount: number; nodes: { id: string; status: string }[] } }>(`{ runs(first: 100) { totalCount nodes { id status } } }`);
    const names = (await app.ok<{ workflows: { name: string }[] }>(`{ workflows { name } }`)).workflows.map((w) => w.name).sort();
    expect(names).toEqual(['approvals', 'cancellable', 'diamond', 'flaky', 'parallel', 'pausable', 'retry-run']);

    await app.stop();
    expect(existsSync(path.join(dataDir, 'pg.lock'))).toBe(false);
    app = await startEmbeddedApp(dataDir, { WORKER_CONCURRENCY: '8' });
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
