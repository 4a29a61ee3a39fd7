import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CopyRows } from '../src/http/events-json.js';
import { buildYoga } from '../src/http/yoga.js';
import { createLogger } from '../src/logger.js';
import { dropDatabase, register, start, startEmbeddedApp, startTestApp, testDatabaseUrl, waitFor, type TestApp } from './support.js';

/**
 * `run(id) { events }` over HTTP is answered with JSON text written by Postgres (http/events-fast-path.ts).
 * Every response here is compared, byte for byte and header for header, with the normal execution of
 * the same request (the same app's parts, without the fast path), and /metrics tells which path answered.
 */

/** Events with every kind of value the normal path writes in its own way. */
const FIXTURE = `
  WITH bump AS (UPDATE runs SET last_seq = last_seq + 40 WHERE id = $1 RETURNING last_seq)
  INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, data, at)
  SELECT $1, (SELECT last_seq FROM bump) - 40 + g, 'STEP_PROGRESS', CASE WHEN g % 7 = 0 THEN NULL ELSE 'gate' END, 'WAITING',
         CASE WHEN g % 3 = 0 THEN NULL ELSE (g % 100) / 100.0 + g END, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 4 END,
         (ARRAY['plain', 'é ü 日本 😀', E'line\\nbreak', NULL, 'with  spaces', 'tab\there', 'dollar $1 percent %'])[g % 7 + 1],
         CASE WHEN g % 2 = 0 THEN 'tester' END,
         (ARRAY[NULL, '{"g": 1, "list": [1, "two", null, 1.0, 1e2, 12345678901234567890, 0.1]}', '{"b": 1, "a": 2, "10": 3, "9": 4}',
                'null', '"a string"', '[]', '{"nested": {"deep": [{"x": "y\\"z"}]}, "u": "\\u2028 é"}', '-0', '1e400']::jsonb[])[g % 9 + 1],
         timestamptz '2026-01-02 03:04:05.678901+00' + g * interval '1.000999 second'
  FROM generate_series(1, 40) AS g`;

const ALL = 'seq runId type stepId status progress attempt message actor data at';

/** Operations the fast path answers: [query, variables]. `$id` is the run's id. */
const FAST: [string, Record<string, unknown>?][] = [
  [`query($id: ID!) { run(id: $id) { events(first: 10000) { ${ALL} } } }`],
  [`query($id: ID!) { run(id: $id) { events { seq } } }`],
  // Strings that need no escaping (written as they are) and the engine's own first events.
  [`query($id: ID!) { run(id: $id) { events(first: 10000) { type stepId status actor seq } } }`],
  [`query($id: ID!) { run(id: $id) { events(first: 3) { message type } } }`],
  [`query($id: ID!) { run(id: $id) { events(afterSeq: 5, first: 3) { at seq type } } }`],
  [`query($id: ID!, $a: Int, $f: Int) { run(id: $id) { events(afterSeq: $a, first: $f) { data progress message } } }`, { a: 3, f: 20 }],
  [`query($id: ID!, $a: Int, $f: Int) { run(id: $id) { events(afterSeq: $a, first: $f) { seq } } }`, { a: null, f: null }],
  [`query($id: ID!) { r: run(id: $id) { __typename e: events(afterSeq: 10, first: 5) { __typename n: seq ...F ... on RunEvent { runId m: message } } } __typename } fragment F on RunEvent { when: at data }`],
  [`query($id: ID!) { run(id: $id) { events(first: 8) { seq seq again: seq ... { seq stepId } ...G ...G } events(first: 8) { actor } } } fragment G on RunEvent { status attempt }`],
  [`query($id: ID!) { run(id: $id) { events(first: 4) { runId __typename } } }`],
  [`query($id: ID!) { run(id: $id) { events(afterSeq: 100000) { seq } } }`],
  [`query Other { workflows { name } } query Mine($id: ID!) { run(id: $id) { events(first: 2) { seq at } } }`],
];

/** Operations the normal path answers (the fast path declines them): [query, variables]. */
const NORMAL: [string, Record<string, unknown>?][] = [
  [`query($id: ID!) { run(id: $id) { id events(first: 3) { seq } } }`],
  [`query($id: ID!) { run(id: $id) { events(first: 3) { seq @include(if: true) } } }`],
  [`query($id: ID!) { run(id: $id) { a: events(first: 3) { seq } b: events(first: 1) { seq } } }`],
  [`query($id: ID!) { run(id: $id) { events(first: 3) { seq } } workflows { name } }`],
  [`query($id: ID!, $f: Int) { run(id: $id) { events(first: $f) { seq } } }`, { f: 0 }],
  [`query($id: ID!, $f: Int) { run(id: $id) { events(first: $f) { seq } } }`, { f: 10_001 }],
  [`query($id: ID!, $f: Int) { run(id: $id) { events(first: $f) { seq } } }`, { f: 'many' }],
  [`query { run(id: "00000000-0000-4000-8000-000000000000") { events { seq } } }`],
  [`query { run(id: "not a uuid") { events { seq } } }`],
];

function compareSuite(getApp: () => TestApp, label: string): void {
  let normal: ReturnType<typeof buildYoga>;
  let runId: string;

  const fastCount = async (p: 'fast' | 'normal'): Promise<number> => {
    const text = await (await fetch(getApp().url.replace('/graphql', '/metrics'))).text();
    return Number(new RegExp(`skein_run_events_queries_total\\{path="${p}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  /** The same request to both paths: body and headers must be identical. */
  const both = async (query: string, variables: Record<string, unknown>, accept?: string) => {
    const init = () => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
      body: JSON.stringify({ query, variables, operationName: query.includes('query Mine') ? 'Mine' : undefined }),
    });
    const fast = await fetch(getApp().url, init());
    const slow = await normal.fetch('http://localhost/graphql', init());
    const [a, b] = [await fast.text(), await slow.text()];
    expect(a, query).toBe(b);
    expect(fast.status).toBe(slow.status);
    expect(fast.headers.get('content-type')).toBe(slow.headers.get('content-type'));
    expect(fast.headers.get('content-length')).toBe(slow.headers.get('content-length'));
    return a;
  };

  beforeAll(async () => {
    const app = getApp();
    normal = buildYoga({
      engine: app.engine, db: app.db, bus: app.bus, feeds: undefined as never, logger: createLogger('silent'),
      maxBodyBytes: 1_000_000, role: 'test', runEventsFastPath: false,
    });
    await register(app, { name: `fast-${label}`, steps: [{ id: 'gate', type: 'approval', with: { prompt: 'hold' } }] });
    runId = await start(app, `fast-${label}`);
    await waitFor(async () => (await app.ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id: runId })).run.status === 'RUNNING', 'run RUNNING');
    await app.db.sequelize.query(FIXTURE, { bind: [runId] });
  });

  it('answers run(id) { events } with the very bytes normal execution writes, for every selection', async () => {
    const before = await fastCount('fast');
    for (const [query, vars] of FAST) await both(query, { id: runId, ...vars });
    // Upper-case ids, and what clients ask with: graphql-response+json.
    const text = await both(`query($id: ID!) { run(id: $id) { events(first: 3) { runId seq } } }`, { id: runId.toUpperCase() });
    expect(JSON.parse(text).data.run.events[0].runId).toBe(runId);
    await both(FAST[0][0], { id: runId }, 'application/graphql-response+json');
    await both(FAST[0][0], { id: runId }, 'text/html, application/json;q=0.9, */*;q=0.8');
    // Processors that make a string of the result: the same text in their frames.
    await both(FAST[0][0], { id: runId }, 'text/event-stream');
    await both(FAST[0][0], { id: runId }, 'multipart/mixed');
    expect(await fastCount('fast')).toBe(before + FAST.length + 5);
    const all = JSON.parse(await both(FAST[0][0], { id: runId })).data.run.events as { seq: number; message: string | null }[];
    expect(all.length).toBeGreaterThan(40);
    expect(all.some((e) => e.message?.includes('\n'))).toBe(true);
  });

  it('reads the database on every call', async () => {
    const q = `query($id: ID!) { run(id: $id) { events(first: 10000) { seq message } } }`;
    const first = JSON.parse(await both(q, { id: runId })).data.run.events as { seq: number }[];
    const seq = first.at(-1)!.seq + 1;
    await app().db.sequelize.query(`UPDATE runs SET last_seq = $2 WHERE id = $1`, { bind: [runId, seq] });
    await app().db.sequelize.query(`INSERT INTO run_events (run_id, seq, type, message) VALUES ($1, $2, 'NOTE', 'new "quoted" \\ one')`, { bind: [runId, seq] });
    const second = JSON.parse(await both(q, { id: runId })).data.run.events as { seq: number; message: string }[];
    expect(second.at(-1)).toEqual({ seq, message: 'new "quoted" \\ one' });
  });

  it('gives the same page when seqs have a gap (a long page is written in two halves at once)', async () => {
    const app = getApp();
    const id = await start(app, `fast-${label}`);
    await waitFor(async () => (await app.ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).run.status === 'RUNNING', 'run RUNNING');
    // Seqs up to 2,500 with 1,200..1,299 missing, then one far beyond.
    await app.db.sequelize.query(
      `INSERT INTO run_events (run_id, seq, type, message)
       SELECT $1, g, 'GAP', 'g' || g FROM generate_series((SELECT last_seq + 1 FROM runs WHERE id = $1), 2500) AS g WHERE g NOT BETWEEN 1200 AND 1299
       UNION ALL SELECT $1, 9000, 'FAR', NULL`,
      { bind: [id] },
    );
    const q = `query($id: ID!, $a: Int, $f: Int) { run(id: $id) { events(afterSeq: $a, first: $f) { seq message } } }`;
    const before = await fastCount('fast');
    const cases = [[0, 2000], [0, 10_000], [1000, 2000], [2400, 5000], [0, 2401], [1299, 2000]];
    for (const [a, f] of cases) {
      const page = JSON.parse(await both(q, { id, a, f })).data.run.events as { seq: number }[];
      expect(page.length, `after ${a}, first ${f}`).toBeLessThanOrEqual(f);
    }
    expect(await fastCount('fast')).toBe(before + cases.length);
  });

  it('writes long pages right in every chunk: nulls, escapes in one half only, data, a text larger than a slab, requests at once', async () => {
    const app = getApp();
    const id = await start(app, `fast-${label}`);
    await waitFor(async () => (await app.ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).run.status === 'RUNNING', 'run RUNNING');
    // 4,500 events after the run's own: plain strings up to seq 3,000, one that needs escaping
    // after it; nulls and data here and there; one message of 300 kB.
    await app.db.sequelize.query(
      `WITH bump AS (UPDATE runs SET last_seq = last_seq + 4500 WHERE id = $1 RETURNING last_seq)
       INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, data, at)
       SELECT $1, (SELECT last_seq FROM bump) - 4500 + g, 'STEP_PROGRESS', CASE WHEN g % 11 = 0 THEN NULL ELSE 's' || g % 5 END,
              CASE WHEN g % 13 = 0 THEN NULL ELSE 'WAITING' END, CASE WHEN g % 3 = 0 THEN NULL ELSE g / 7.0 END, NULLIF(g % 4, 0),
              CASE WHEN g = 3333 THEN E'say "hi" \\\\ then\\tgo' WHEN g = 4000 THEN repeat('x', 300000) WHEN g % 17 = 0 THEN NULL ELSE 'm ' || g END,
              CASE WHEN g % 2 = 0 THEN 'tester' END, CASE WHEN g % 50 = 0 THEN jsonb_build_object('g', g, 'list', jsonb_build_array(g, 'two', NULL)) END,
              timestamptz '2026-01-02 03:04:05.678901+00' + g * interval '10.001001 second'
       FROM generate_series(1, 4500) AS g`,
      { bind: [id] },
    );
    const q = (fields: string, args = 'first: 10000') => `query($id: ID!) { run(id: $id) { events(${args}) { ${fields} } } }`;
    const queries = [q(ALL), q(ALL, 'afterSeq: 100, first: 4000'), q('seq stepId status actor type at'), q('data seq'), q('message'), q(`seq e: message ${ALL}`, 'afterSeq: 2990, first: 2500')];
    const before = await fastCount('fast');
    for (const query of queries) await both(query, { id });
    // At once: each answer is its own (the memory of one is used again only once it is written).
    await Promise.all([...queries, ...queries].map((query) => both(query, { id })));
    for (const query of queries) await both(query, { id });
    expect(await fastCount('fast')).toBe(before + 4 * queries.length);
    // A client that reads slowly: its answer (~13 MB, more than the sockets hold) is still being
    // written while others are answered, in memory freed meanwhile.
    const big = q(`${ALL} ${Array.from({ length: 40 }, (_, i) => `m${i}: message`).join(' ')}`);
    const request = JSON.stringify({ query: big, variables: { id } });
    const expected = await (await normal.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })).text();
    const slow = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(app.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(request);
    });
    slow.pause();
    await Promise.all(queries.map((query) => both(query, { id })));
    const received: Buffer[] = [];
    for await (const chunk of slow) received.push(chunk as Buffer);
    expect(Buffer.concat(received).toString() === expected, 'the slow answer').toBe(true);
    const all = JSON.parse(await both(q(ALL), { id })).data.run.events as { message: string | null }[];
    expect(all.some((e) => e.message?.length === 300000)).toBe(true);
    expect(all.some((e) => e.message?.includes('"hi"'))).toBe(true);
  });

  it('leaves other shapes, refused arguments, unknown runs and bad variables to normal execution', async () => {
    const before = await fastCount('fast');
    for (const [query, vars] of NORMAL) {
      await both(query, { id: runId, ...vars });
    }
    expect(await fastCount('fast')).toBe(before);
  });

  it('falls back for values JavaScript writes differently from Postgres (odd floats, far dates)', async () => {
    const app = getApp();
    const id = await start(app, `fast-${label}`);
    await waitFor(async () => (await app.ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).run.status === 'RUNNING', 'run RUNNING');
    const q = (fields: string) => `query($id: ID!) { run(id: $id) { events(first: 10000) { ${fields} } } }`;
    const add = async (column: 'progress' | 'at', value: string) => {
      const [[{ seq }]] = (await app.db.sequelize.query(`UPDATE runs SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq AS seq`, { bind: [id] })) as unknown as [[{ seq: number }]];
      await app.db.sequelize.query(`INSERT INTO run_events (run_id, seq, type, ${column}) VALUES ($1, $2, 'ODD', $3)`, { bind: [id, seq, value] });
    };
    const odd = [['progress', '0.00001'], ['progress', '-0'], ['progress', '1234567'], ['progress', '1e6'], ['progress', '-0.00009999999'], ['progress', 'NaN'], ['progress', '-Infinity'], ['at', '1969-12-31 23:59:59.999+00']] as const;
    for (const [column, value] of odd) {
      await add(column, value);
      const fast = await fastCount('fast');
      await both(q(`seq ${column}`), { id });
      expect(await fastCount('fast'), `${column} ${value}`).toBe(fast);
      // Without that field the same events take the fast path.
      await both(q('seq type'), { id });
      expect(await fastCount('fast')).toBe(fast + 1);
      await app.db.sequelize.query(`DELETE FROM run_events WHERE run_id = $1 AND type = 'ODD'`, { bind: [id] });
    }
    // The edges of what Postgres writes as a plain decimal: the fast path, the same bytes.
    for (const value of ['0.0001', '-0.0001', '999999.94', '-999999.94', '0', '123456.7']) await add('progress', value);
    const fast = await fastCount('fast');
    const text = await both(q('seq progress'), { id });
    expect(await fastCount('fast')).toBe(fast + 1);
    expect(text).toContain('"progress":999999.94');
  });

  function app(): TestApp {
    return getApp();
  }
}

describe('on the local Postgres', () => {
  let app: TestApp;
  const dbUrl = testDatabaseUrl('fastpath');
  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: dbUrl });
  });
  afterAll(async () => {
    await app?.stop();
    await dropDatabase(dbUrl);
  });
  compareSuite(() => app, 'pg');

  it('reads binary COPY rows however its messages are cut', async () => {
    class Capture extends pg.Query {
      readonly chunks: Buffer[] = [];
      handleCopyData(msg: { chunk: Buffer }): void {
        this.chunks.push(Buffer.from(msg.chunk));
      }
    }
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      const copy = new Capture(`COPY (SELECT g, repeat('é', g % 300), NULL::text, g % 2 = 0, ''::text FROM generate_series(1, 400) AS g) TO STDOUT (FORMAT binary)`);
      await new Promise<void>((resolve, reject) => {
        copy.on('error', reject);
        copy.on('end', () => resolve());
        void client.query(copy);
      });
      const read = (chunks: Buffer[]) => {
        const rows: (string | null)[][] = [];
        // Fields are views of the message being read: taken as they come.
        const reader = new CopyRows((fields) => void rows.push(fields.map((b) => (b === null ? null : b.toString('hex')))));
        for (const chunk of chunks) reader.push(chunk);
        expect(reader.error).toBeNull();
        expect(reader.ended).toBe(true);
        return rows;
      };
      const bytes = Buffer.concat(copy.chunks);
      const cut = (sizes: number[]) => {
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < bytes.length; at += sizes[i++ % sizes.length]) chunks.push(bytes.subarray(at, at + sizes[i % sizes.length]));
        return chunks;
      };
      const rows = read(copy.chunks);
      expect(rows).toHaveLength(400);
      expect(rows[1]).toEqual([(2).toString(16).padStart(8, '0'), Buffer.from('éé').toString('hex'), null, '01', '']);
      for (const sizes of [[bytes.length], [1], [2, 3], [7], [19], [20, 1], [1000]]) expect(read(cut(sizes))).toEqual(rows);
    } finally {
      await client.end();
    }
  });
});

describe('on the embedded Postgres (no prepared statements)', () => {
  let app: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'skein-fastpath-'));
    app = await startEmbeddedApp(dataDir);
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  compareSuite(() => app, 'embedded');
});
