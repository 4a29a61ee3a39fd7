import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/tx.js';
import { register, start, startEmbeddedApp, waitForRun, type TestApp } from './support.js';

/**
 * The embedded Postgres is ONE PGlite session behind many connections (Sequelize's pool, pg-boss's,
 * the worker's lease). Statements from different connections must not interleave in it: an
 * extended-protocol statement is several messages (Parse, Bind, Describe, Execute, Sync), and a
 * Parse or Bind from another connection in between runs the statement with the other one's text
 * or parameters. A transaction holds the session until it ends; the statements of other
 * connections wait for it, and then must run each as a whole.
 *
 * To make statements of several connections wait at once (that is when they used to interleave),
 * a transaction is held open on one connection while they are sent; one more round trip on that
 * connection afterwards makes sure they have reached the server before it commits.
 */
let dataDir: string;
let app: TestApp;
let url: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skein-embedded-conc-'));
  app = await startEmbeddedApp(dataDir, { WORKER_CONCURRENCY: '4' });
  url = app.embedded!.url;
}, 120_000);

afterAll(async () => {
  await app?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Statements of different texts and parameter counts: a mix-up shows as a wrong row or an error. */
function statementFor(i: number, round: number): { text: string; values: unknown[]; expected: Record<string, unknown> } {
  const n = round * 1000 + i;
  switch (i % 3) {
    case 0:
      return { text: 'SELECT $1::int * 2 AS v', values: [n], expected: { v: n * 2 } };
    case 1:
      return { text: `SELECT $2::text || '-' || $1::int AS k, $1::int + 1 AS v`, values: [n, `c${i}`], expected: { k: `c${i}-${n}`, v: n + 1 } };
    default:
      return { text: 'SELECT $3::text AS k, $1::int + $2::int AS v', values: [n, i, `z${i}`], expected: { k: `z${i}`, v: n + i } };
  }
}

async function allAnswers(pending: Array<Promise<pg.QueryResult>>): Promise<Array<unknown>> {
  return (await Promise.allSettled(pending)).map((r) => (r.status === 'fulfilled' ? r.value.rows : `error: ${(r.reason as Error).message}`));
}

describe('embedded Postgres: one session shared by many connections', () => {
  it('runs concurrent parameterised statements of separate connections each with its own text and parameters', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const holder = await connect();
    try {
      for (let round = 0; round < 8; round++) {
        // Sent together, nothing in the way.
        let statements = clients.map((_, i) => statementFor(i, round));
        let answers = await allAnswers(clients.map((c, i) => c.query(statements[i].text, statements[i].values)));
        expect(answers).toEqual(statements.map((s) => [s.expected]));

        // Sent while another connection's transaction holds the session: they wait, then run one by one.
        await holder.query('BEGIN');
        await holder.query('SELECT $1::int AS x', [round]);
        statements = clients.map((_, i) => statementFor(i + 7, round));
        const pending = clients.map((c, i) => c.query(statements[i].text, statements[i].values));
        expect((await holder.query('SELECT $1::int AS x, $2::text AS y', [round, 'held'])).rows).toEqual([{ x: round, y: 'held' }]);
        await holder.query('COMMIT');
        answers = await allAnswers(pending);
        expect(answers).toEqual(statements.map((s) => [s.expected]));
      }
    } finally {
      await Promise.all([holder, ...clients].map((c) => c.end()));
    }
  });

  it('answers two aliased Run.events fields of one GraphQL query each with its own page', async () => {
    await register(app, {
      name: 'conc-events',
      steps: [
        { id: 'a', type: 'noop' },
        { id: 'b', type: 'noop', needs: ['a'] },
        { id: 'c', type: 'noop', needs: ['b'] },
      ],
    });
    const id = await start(app, 'conc-events', {});
    expect((await waitForRun(app, id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    const all = (await app.ok<{ run: { events: { seq: number }[] } }>(`query($id: ID!) { run(id: $id) { events(first: 100) { seq } } }`, { id })).run.events;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const expected = { run: { a: all.slice(0, 3), b: all.slice(0, 1) } };

    // Other connections keep opening and closing transactions meanwhile (as a busy worker does), so
    // the two events statements often find the session held and wait together.
    const churner = await connect();
    let stop = false;
    const churning = (async () => {
      for (let i = 0; !stop; i++) {
        await churner.query('BEGIN');
        await churner.query('SELECT $1::int AS i', [i]);
        await churner.query('SELECT $1::text AS t, $2::int AS i', ['churn', i]);
        await churner.query('COMMIT');
      }
    })();
    try {
      const query = `query($id: ID!) { run(id: $id) { a: events(first: 3) { seq } b: events(first: 1) { seq } } }`;
      for (let round = 0; round < 15; round++) {
        const results = await Promise.all([0, 1, 2].map(() => app.gql(query, { id })));
        for (const r of results) expect(r).toEqual({ data: expected });
      }
    } finally {
      stop = true;
      await churning;
      await churner.end();
    }
  });

  it('frees the session when the connection holding it goes away, rolling its transaction back', async () => {
    const { sequelize } = app.db;
    await sequelize.query(`CREATE TABLE conc_gone (owner text NOT NULL)`);
    const waiter = await connect();
    try {
      // Closed politely (Terminate) inside a transaction; dropped inside one; dropped halfway
      // through an extended-protocol exchange (a Parse and a Bind, no Sync).
      for (const how of ['end', 'drop', 'drop-mid-exchange'] as const) {
        const owner = await connect();
        owner.on('error', () => undefined);
        await owner.query('BEGIN');
        await owner.query('INSERT INTO conc_gone VALUES ($1)', [how]);
        const waiting = waiter.query('SELECT count(*)::int AS c, $1::text AS how FROM conc_gone', [how]);
        await owner.query('SELECT 1');
        const stream = (owner as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
        if (how === 'end') {
          await owner.end();
        } else {
          if (how === 'drop-mid-exchange') {
            const sql = Buffer.from(`INSERT INTO conc_gone VALUES ('never')\0`);
            const parse = Buffer.concat([Buffer.from([0x50]), int32(4 + 1 + sql.length + 2), Buffer.from([0]), sql, Buffer.from([0, 0])]);
            const bind = Buffer.concat([Buffer.from([0x42]), int32(4 + 1 + 1 + 2 + 2 + 2), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])]);
            stream.write(Buffer.concat([parse, bind]));
          }
          stream.destroy();
        }
        expect((await waiting).rows).toEqual([{ c: 0, how }]);
      }
    } finally {
      await waiter.end();
    }
  });

  it('runs concurrent transactions that write, beside statements outside transactions, each on its own connection', async () => {
    const { sequelize } = app.db;
    await sequelize.query(`CREATE TABLE conc_rows (id serial PRIMARY KEY, owner text NOT NULL, n int NOT NULL)`);
    await sequelize.query(`CREATE TABLE conc_total (id int PRIMARY KEY, total int NOT NULL)`);
    await sequelize.query(`INSERT INTO conc_total VALUES (1, 0)`);

    const holder = await connect();
    try {
      for (let round = 0; round < 3; round++) {
        await holder.query('BEGIN');
        await holder.query('UPDATE conc_total SET total = total + $1 WHERE id = $2', [0, 1]);

        const transactions = Array.from({ length: 5 }, (_, t) =>
          withTransaction(sequelize, async (tx) => {
            const owner = `r${round}-t${t}`;
            for (let k = 1; k <= 4; k++) await tx.query('INSERT INTO conc_rows (owner, n) VALUES ($1, $2)', [owner, k * (t + 1)]);
            const [mine] = await tx.query<{ c: number; s: number }>('SELECT count(*)::int AS c, sum(n)::int AS s FROM conc_rows WHERE owner = $1', [owner]);
            await tx.query('UPDATE conc_total SET total = total + $1 WHERE id = $2', [mine.s, 1]);
            return mine;
          }),
        );
        const failing = withTransaction(sequelize, async (tx) => {
          await tx.query('INSERT INTO conc_rows (owner, n) VALUES ($1, $2)', [`r${round}-rolled-back`, 1]);
          await tx.query('SELECT 1 / $1::int AS boom', [0]);
        });
        const outside = Array.from({ length: 4 }, (_, o) =>
          sequelize.query<{ owner: string; n: number }>('INSERT INTO conc_rows (owner, n) VALUES ($1, $2) RETURNING owner, n', {
            bind: [`r${round}-o${o}`, 100 + o],
            type: QueryTypes.SELECT,
          }),
        );
        expect((await holder.query('SELECT total FROM conc_total WHERE id = $1', [1])).rows).toHaveLength(1);
        await holder.query('COMMIT');

        expect(await Promise.all(transactions)).toEqual(Array.from({ length: 5 }, (_, t) => ({ c: 4, s: 10 * (t + 1) })));
        await expect(failing).rejects.toThrow(/division by zero/);
        expect(await Promise.all(outside)).toEqual(Array.from({ length: 4 }, (_, o) => [{ owner: `r${round}-o${o}`, n: 100 + o }]));
      }
    } finally {
      await holder.end();
    }

    const rows = await sequelize.query<{ owner: string; c: number; s: number }>(
      `SELECT owner, count(*)::int AS c, sum(n)::int AS s FROM conc_rows GROUP BY owner`,
      { type: QueryTypes.SELECT },
    );
    const expected = [];
    for (let round = 0; round < 3; round++) {
      for (let o = 0; o < 4; o++) expected.push({ owner: `r${round}-o${o}`, c: 1, s: 100 + o });
      for (let t = 0; t < 5; t++) expected.push({ owner: `r${round}-t${t}`, c: 4, s: 10 * (t + 1) });
    }
    const byOwner = (x: { owner: string }, y: { owner: string }) => (x.owner < y.owner ? -1 : 1);
    expect(rows.sort(byOwner)).toEqual(expected.sort(byOwner));
    const [total] = await sequelize.query<{ total: number }>(`SELECT total FROM conc_total WHERE id = 1`, { type: QueryTypes.SELECT });
    expect(total.total).toBe(3 * 10 * (1 + 2 + 3 + 4 + 5));
  });
});

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
