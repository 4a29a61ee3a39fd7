import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_BASE, REDIS_URL, ROOT, dropDatabase, runSkein, testDatabaseUrl } from './support.js';

const dbUrl = testDatabaseUrl('migrate');
const dbName = new URL(dbUrl).pathname.slice(1);

afterAll(async () => {
  await dropDatabase(dbUrl);
});

/** The migrations the code base ships, by name, in order (001-initial first). */
const shipped = readdirSync(path.join(ROOT, 'server/src/db/migrations'))
  .filter((f) => /^\d{3}-.+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const migrate = () => runSkein(['migrate'], { DATABASE_URL: dbUrl, REDIS_URL, LOG_LEVEL: 'info' });

/** Pino JSON log lines of a run, by message. */
function messages(r: { stdout: string }): string[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg?: string }).msg ?? '');
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('skein migrate', () => {
  it('creates and migrates a new database once when two processes race, and is a no-op the third time', async () => {
    expect(shipped[0]).toBe('001-initial');
    const exists = await query(`${PG_BASE}/postgres`, 'SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    expect(exists).toHaveLength(0);

    const [a, b] = await Promise.all([migrate(), migrate()]);
    for (const r of [a, b]) expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);

    // One of them created the database and applied the migrations; the other found them done.
    const all = [...messages(a), ...messages(b)];
    expect(all.filter((m) => m === 'created database')).toHaveLength(1);
    expect(all.filter((m) => m === 'database migrated')).toHaveLength(1);
    expect(all.filter((m) => m === 'database is up to date')).toHaveLength(2);

    const rows = await query<{ name: string }>(dbUrl, 'SELECT name FROM skein_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(shipped);
    expect(rows.filter((r) => r.name === '001-initial')).toHaveLength(1);

    const tables = await query<{ table_name: string }>(
      dbUrl,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['skein_migrations', 'workflows', 'runs', 'step_runs', 'run_events', 'step_logs', 'workers']),
    );

    const third = await migrate();
    expect(third.code, third.stderr).toBe(0);
    expect(messages(third)).not.toContain('database migrated');
    expect(messages(third)).not.toContain('created database');
    expect(messages(third)).toContain('database is up to date');
    const after = await query<{ name: string }>(dbUrl, 'SELECT name FROM skein_migrations ORDER BY name');
    expect(after).toEqual(rows);
  });
});
