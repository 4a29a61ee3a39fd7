import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLScalarType } from 'graphql';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { dateTimeSerialiser } from '../src/http/date-time.js';
import { schema } from '../src/schema/index.js';
import { dropDatabase, register, start, startTestApp, testDatabaseUrl, waitFor, waitForRun, type TestApp } from './support.js';

let app: TestApp;
const dbUrl = testDatabaseUrl('api');

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: dbUrl });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

const REGISTER = `mutation($d: JSON!) { registerWorkflow(definition: $d) { id name version checksum } }`;

async function workflowRowCount(name?: string): Promise<number> {
  const [rows] = (await app.db.sequelize.query(
    name ? `SELECT count(*)::int AS n FROM workflows WHERE name = $1` : `SELECT count(*)::int AS n FROM workflows`,
    name ? { bind: [name] } : {},
  )) as unknown as [{ n: number }[]];
  return rows[0].n;
}

async function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('registerWorkflow and versions', () => {
  const v1 = {
    name: 'versioned',
    description: 'first',
    steps: [
      { id: 'a', type: 'noop' },
      { id: 'b', type: 'sleep', needs: ['a'], with: { ms: 10 } },
    ],
  };

  it('registers version 1, returns the same version for the identical definition (any key order), and makes version 2 for a change', async () => {
    const first = await app.ok<{ registerWorkflow: { id: string; name: string; version: number; checksum: string } }>(REGISTER, { d: v1 });
    expect(first.registerWorkflow).toMatchObject({ name: 'versioned', version: 1 });
    expect(await workflowRowCount('versioned')).toBe(1);

    const again = await app.ok<{ registerWorkflow: { id: string; version: number; checksum: string } }>(REGISTER, { d: v1 });
    expect(again.registerWorkflow).toEqual(first.registerWorkflow);

    // The same definition with keys in another order, at the top and inside steps and `with`.
    const reordered = {
      steps: [
        { type: 'noop', id: 'a' },
        { with: { ms: 10 }, needs: ['a'], type: 'sleep', id: 'b' },
      ],
      description: 'first',
      name: 'versioned',
    };
    const same = await app.ok<{ registerWorkflow: { id: string; version: number; checksum: string } }>(REGISTER, { d: reordered });
    expect(same.registerWorkflow).toEqual(first.registerWorkflow);
    expect(await workflowRowCount('versioned')).toBe(1);

    const changed = { ...v1, description: 'second', steps: [...v1.steps, { id: 'c', type: 'noop', needs: ['b'] }] };
    const second = await app.ok<{ registerWorkflow: { id: string; version: number; checksum: string } }>(REGISTER, { d: changed });
    expect(second.registerWorkflow.version).toBe(2);
    expect(second.registerWorkflow.checksum).not.toBe(first.registerWorkflow.checksum);
    expect(await workflowRowCount('versioned')).toBe(2);
  });

  it('lists the latest version of each name, reads latest and older versions, and lists versions newest first', async () => {
    await register(app, { name: 'other-flow', steps: [{ id: 'only', type: 'noop' }] });

    const { workflows } = await app.ok<{ workflows: { name: string; version: number; latestVersion: number }[] }>(
      `{ workflows { name version latestVersion } }`,
    );
    const byName = new Map(workflows.map((w) => [w.name, w]));
    expect(workflows.filter((w) => w.name === 'versioned')).toHaveLength(1);
    expect(byName.get('versioned')).toEqual({ name: 'versioned', version: 2, latestVersion: 2 });
    expect(byName.get('other-flow')).toEqual({ name: 'other-flow', version: 1, latestVersion: 1 });

    const latest = await app.ok<{ workflow: { version: number; description: string; steps: { id: string }[]; latestVersion: number } }>(
      `{ workflow(name: "versioned") { version description latestVersion steps { id } } }`,
    );
    expect(latest.workflow).toEqual({ version: 2, description: 'second', latestVersion: 2, steps: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] });

    const older = await app.ok<{ workflow: { version: number; description: string; steps: { id: string; needs: string[] }[]; latestVersion: number } }>(
      `{ workflow(name: "versioned", version: 1) { version description latestVersion steps { id needs } } }`,
    );
    expect(older.workflow).toEqual({
      version: 1,
      description: 'first',
      latestVersion: 2,
      steps: [
        { id: 'a', needs: [] },
        { id: 'b', needs: ['a'] },
      ],
    });

    const versions = await app.ok<{ workflow: { versions: { version: number; name: string }[] } }>(
      `{ workflow(name: "versioned", version: 1) { versions { name version } } }`,
    );
    expect(versions.workflow.versions).toEqual([
      { name: 'versioned', version: 2 },
      { name: 'versioned', version: 1 },
    ]);

    const missing = await app.ok<{ a: unknown; b: unknown }>(`{ a: workflow(name: "no-such-flow") { id } b: workflow(name: "versioned", version: 9) { id } }`);
    expect(missing).toEqual({ a: null, b: null });
  });

  it('refuses an invalid definition with every fault (code + path) and writes nothing', async () => {
    const before = await workflowRowCount();
    const bad = {
      name: 'broken-flow',
      steps: [
        { id: 'a', type: 'noop' },
        { id: 'a', type: 'noop' }, // duplicate id
        { id: 'b', type: 'teleport' }, // unknown type
        { id: 'c', type: 'noop', needs: ['ghost'] }, // unknown need
        { id: 'd', type: 'sleep', with: { ms: 'soon' } }, // with rejected by the type's schema
        { id: 'e', type: 'noop', if: 'steps.a.output >' }, // if does not parse
        { id: 'x', type: 'noop', needs: ['y'] }, // cycle x → y → x
        { id: 'y', type: 'noop', needs: ['x'] },
      ],
    };
    const res = await app.gql(REGISTER, { d: bad });
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    const err = res.errors![0];
    expect(err.extensions?.code).toBe('INVALID_DEFINITION');
    const faults = err.extensions?.faults as { code: string; path: string; message: string; steps?: string[] }[];
    expect(Array.isArray(faults)).toBe(true);
    const pairs = faults.map((f) => [f.code, f.path]);
    expect(pairs).toEqual(
      expect.arrayContaining([
        ['DUPLICATE_STEP_ID', 'steps[1].id'],
        ['UNKNOWN_TYPE', 'steps[2].type'],
        ['UNKNOWN_NEED', 'steps[3].needs[0]'],
        ['INVALID_WITH', 'steps[4].with.ms'],
        ['INVALID_IF', 'steps[5].if'],
      ]),
    );
    const cycle = faults.find((f) => f.code === 'CYCLE');
    expect(cycle, JSON.stringify(faults)).toBeDefined();
    expect([...(cycle!.steps ?? [])].sort()).toEqual(['x', 'y']);
    for (const f of faults) expect(typeof f.message).toBe('string');
    expect(faults).toHaveLength(6);

    expect(await workflowRowCount()).toBe(before);
    expect((await app.ok<{ workflow: unknown }>(`{ workflow(name: "broken-flow") { id } }`)).workflow).toBeNull();
  });

  it('refuses a definition over 1 MB with a TOO_LARGE fault inside INVALID_DEFINITION', async () => {
    const before = await workflowRowCount();
    const huge = { name: 'huge-flow', steps: [{ id: 'a', type: 'transform', with: { expression: `"${'x'.repeat(1_100_000)}"` } }] };
    const res = await app.gql(REGISTER, { d: huge });
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_DEFINITION');
    const faults = res.errors![0].extensions!.faults as { code: string; path: string }[];
    expect(faults.map((f) => f.code)).toEqual(['TOO_LARGE']);
    expect(await workflowRowCount()).toBe(before);
  });
});

describe('HTTP limits and bad requests', () => {
  it('refuses a request body over MAX_BODY_BYTES with PAYLOAD_TOO_LARGE, and answers the next request', async () => {
    const body = JSON.stringify({ query: `query($x: String) { workflows { name } }`, variables: { x: 'y'.repeat(2_100_000) } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(app.config.MAX_BODY_BYTES);
    const res = await post(body);
    const json = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(json.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.status).toBe(413);

    const next = await app.ok<{ workflows: unknown[] }>(`{ workflows { name } }`);
    expect(Array.isArray(next.workflows)).toBe(true);
  });

  /** POST a body in chunks with no Content-Length (Transfer-Encoding: chunked). */
  async function postChunked(chunks: string[]): Promise<{ status: number; connection?: string; json: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }> {
    const { hostname, port, pathname } = new URL(app.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path: pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, json: JSON.parse(text) as never }));
        res.on('error', reject);
      });
      // A refused body may be answered before all of it was sent; the socket then closes under it.
      req.on('error', (err) => reject(err));
      expect(req.getHeader('content-length')).toBeUndefined();
      for (const c of chunks) req.write(c);
      req.end();
    });
  }

  it('refuses a chunked body (no Content-Length) once it passes MAX_BODY_BYTES, with the same code, and answers the next request', async () => {
    const body = JSON.stringify({ query: `query($x: String) { workflows { name } }`, variables: { x: 'y'.repeat(2_100_000) } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(app.config.MAX_BODY_BYTES);
    const chunks = Array.from({ length: Math.ceil(body.length / 65_536) }, (_, i) => body.slice(i * 65_536, (i + 1) * 65_536));
    const { status, connection, json } = await postChunked(chunks);
    expect(json.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(json.errors?.[0]?.message).toContain(String(app.config.MAX_BODY_BYTES));
    expect(status).toBe(413);
    // The rest of the body was never read: that connection carries no further request.
    expect(connection).toBe('close');
    expect((await app.ok<{ workflows: unknown[] }>(`{ workflows { name } }`)).workflows).toBeDefined();
  });

  it('reads a chunked body under the limit, whatever its chunks', async () => {
    const body = JSON.stringify({ query: `query($x: String!) { workflow(name: $x) { name } }`, variables: { x: 'z'.repeat(300_000) } });
    const chunks = [body.slice(0, 1), body.slice(1, 70_000), body.slice(70_000, 70_001), body.slice(70_001)];
    const { status, json } = await postChunked(chunks);
    expect(json.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(json.data).toEqual({ workflow: null });
  });

  it('accepts a body of exactly MAX_BODY_BYTES with a Content-Length, and refuses an invalid Content-Length with BAD_REQUEST', async () => {
    const shell = JSON.stringify({ query: `query($x: String!) { workflow(name: $x) { name } }`, variables: { x: '' } });
    const body = JSON.stringify({ query: `query($x: String!) { workflow(name: $x) { name } }`, variables: { x: 'w'.repeat(app.config.MAX_BODY_BYTES - Buffer.byteLength(shell)) } });
    expect(Buffer.byteLength(body)).toBe(app.config.MAX_BODY_BYTES);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();

    // fetch will not send a malformed Content-Length; a raw socket will.
    const { hostname, port } = new URL(app.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.end(`POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: +2\r\nConnection: close\r\n\r\n{}`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers a query with a syntax error with errors, and stays up', async () => {
    const res = await app.gql(`{ workflows { name `);
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(res.errors![0].message).toMatch(/Syntax Error/i);
    expect(res.data ?? null).toBeNull();

    const unknownField = await app.gql(`{ noSuchField }`);
    expect(unknownField.errors?.length).toBeGreaterThan(0);

    const garbage = await post('{not json');
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(500);

    const health = await fetch(new URL('/health', app.url));
    expect(health.status).toBe(200);
    expect((await app.ok<{ workflows: unknown[] }>(`{ workflows { name } }`)).workflows).toBeDefined();
  });
});

describe('runs', () => {
  const RUNS = `query($first: Int, $after: String, $workflow: String, $status: [RunStatus!]) {
    runs(first: $first, after: $after, workflow: $workflow, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id status workflowName createdAt } }
      nodes { id }
    }
  }`;
  interface Page {
    runs: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { cursor: string; node: { id: string; status: string; workflowName: string; createdAt: string } }[];
      nodes: { id: string }[];
    };
  }
  const started: string[] = [];
  let failedRun = '';

  beforeAll(async () => {
    await register(app, { name: 'paged', steps: [{ id: 'only', type: 'noop' }] });
    await register(app, { name: 'always-fails', steps: [{ id: 'boom', type: 'fail', with: { permanent: true, message: 'no' } }] });
    for (let i = 0; i < 7; i++) started.push(await start(app, 'paged', { i }));
    failedRun = await start(app, 'always-fails');
    for (const id of started) await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    await waitForRun(app, failedRun, ['FAILED']);
  });

  it('pages through every run of a workflow, newest first, without duplicates', async () => {
    const seen: Page['runs']['edges'] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { runs }: Page = await app.ok<Page>(RUNS, { first: 3, after, workflow: 'paged' });
      pages++;
      expect(runs.totalCount).toBe(7);
      expect(runs.edges.length).toBeLessThanOrEqual(3);
      expect(runs.nodes.map((n) => n.id)).toEqual(runs.edges.map((e) => e.node.id));
      if (runs.edges.length) expect(runs.pageInfo.endCursor).toBe(runs.edges.at(-1)!.cursor);
      seen.push(...runs.edges);
      if (!runs.pageInfo.hasNextPage) break;
      after = runs.pageInfo.endCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    const ids = seen.map((e) => e.node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...started].sort());
    expect(seen.every((e) => e.node.workflowName === 'paged')).toBe(true);
    // Newest first: createdAt never increases; and the runs started later come first.
    const times = seen.map((e) => new Date(e.node.createdAt).getTime());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1]);
    expect(ids).toEqual([...started].reverse());
  });

  it('filters by workflow and by status', async () => {
    const all = (await app.ok<Page>(RUNS, { first: 500 })).runs;
    expect(all.totalCount).toBe(8);
    expect(all.pageInfo.hasNextPage).toBe(false);

    const succeeded = (await app.ok<Page>(RUNS, { first: 500, status: ['SUCCEEDED'] })).runs;
    expect(succeeded.totalCount).toBe(7);
    expect(succeeded.edges.every((e) => e.node.status === 'SUCCEEDED')).toBe(true);
    expect(succeeded.edges.map((e) => e.node.id)).not.toContain(failedRun);

    const failed = (await app.ok<Page>(RUNS, { first: 500, status: ['FAILED'] })).runs;
    expect(failed.totalCount).toBe(1);
    expect(failed.edges.map((e) => e.node.id)).toEqual([failedRun]);

    const both = (await app.ok<Page>(RUNS, { first: 500, status: ['SUCCEEDED', 'FAILED'] })).runs;
    expect(both.totalCount).toBe(8);

    const byWorkflow = (await app.ok<Page>(RUNS, { first: 500, workflow: 'always-fails' })).runs;
    expect(byWorkflow.edges.map((e) => e.node.id)).toEqual([failedRun]);
    expect(byWorkflow.totalCount).toBe(1);

    const none = (await app.ok<Page>(RUNS, { first: 500, workflow: 'paged', status: ['FAILED'] })).runs;
    expect(none).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });

    const viaWorkflow = await app.ok<{ workflow: { runs: { totalCount: number } } }>(`{ workflow(name: "paged") { runs(first: 2) { totalCount } } }`);
    expect(viaWorkflow.workflow.runs.totalCount).toBe(7);
  });

  it('refuses a bad cursor and an out-of-range page size with BAD_USER_INPUT', async () => {
    for (const after of ['not-a-cursor', Buffer.from('2024-01-01T00:00:00Z|nope').toString('base64url'), Buffer.from('yesterday|00000000-0000-4000-8000-000000000000').toString('base64url')]) {
      const res = await app.gql(RUNS, { first: 3, after });
      expect(res.errors?.[0]?.extensions?.code, `after=${after}`).toBe('BAD_USER_INPUT');
    }
    for (const first of [0, -1, 1000]) {
      const res = await app.gql(RUNS, { first });
      expect(res.errors?.[0]?.extensions?.code, `first=${first}`).toBe('BAD_USER_INPUT');
    }
  });

  it('returns null for an unknown run id and for a garbage id', async () => {
    const res = await app.ok<{ a: unknown; b: unknown; c: unknown }>(
      `{ a: run(id: "00000000-0000-4000-8000-000000000000") { id } b: run(id: "garbage") { id } c: run(id: "'; DROP TABLE runs; --") { id } }`,
    );
    expect(res).toEqual({ a: null, b: null, c: null });
    const known = await app.ok<{ run: { id: string; workflowName: string } }>(`query($id: ID!) { run(id: $id) { id workflowName } }`, { id: started[0] });
    expect(known.run).toEqual({ id: started[0], workflowName: 'paged' });
  });
});

describe('Run.events', () => {
  const ALL = `seq runId type stepId status progress attempt message actor data at`;

  it('returns every field of every stored event as stored, in order, paged by afterSeq and first', async () => {
    await register(app, { name: 'events-held', steps: [{ id: 'gate', type: 'approval', with: { prompt: 'hold' } }] });
    const id = await start(app, 'events-held');
    await waitFor(async () => (await app.ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).run.status === 'RUNNING', 'run RUNNING');
    // Events written straight into the log, continuing the run's seqs: JSON data, null and
    // fractional progress, an attempt, and times with microseconds (truncated to the millisecond).
    await app.db.sequelize.query(
      `WITH bump AS (UPDATE runs SET last_seq = last_seq + 300 WHERE id = $1 RETURNING last_seq)
       INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, data, at)
       SELECT $1, (SELECT last_seq FROM bump) - 300 + g, 'STEP_PROGRESS', 'gate', 'WAITING',
              CASE WHEN g % 3 = 0 THEN NULL ELSE (g % 100) / 100.0 END, g % 4, 'm "' || g || E'"\n',
              CASE WHEN g % 2 = 0 THEN 'tester' END,
              CASE WHEN g % 5 = 0 THEN jsonb_build_object('g', g, 'list', jsonb_build_array(1, 'two', NULL)) END,
              timestamptz '2026-01-02 03:04:05.678901+00' + g * interval '1.000999 second'
       FROM generate_series(1, 300) AS g`,
      { bind: [id] },
    );
    const [stored] = (await app.db.sequelize.query(
      `SELECT seq, run_id, type, step_id, status, progress, attempt, message, actor, data, at FROM run_events WHERE run_id = $1 ORDER BY seq`,
      { bind: [id] },
    )) as unknown as [{ seq: number; run_id: string; type: string; step_id: string | null; status: string | null; progress: number | null; attempt: number | null; message: string | null; actor: string | null; data: unknown; at: Date }[]];
    const expected = stored.map((e) => ({
      seq: e.seq, runId: e.run_id, type: e.type, stepId: e.step_id, status: e.status, progress: e.progress, attempt: e.attempt,
      message: e.message, actor: e.actor, data: e.data, at: e.at.toISOString(),
    }));
    expect(expected.length).toBeGreaterThan(300);

    const all = (await app.ok<{ run: { events: unknown[] } }>(`query($id: ID!) { run(id: $id) { events(first: 10000) { ${ALL} } } }`, { id })).run.events;
    expect(all).toEqual(expected);
    const page = (await app.ok<{ run: { events: unknown[] } }>(`query($id: ID!) { run(id: $id) { events(afterSeq: 100, first: 7) { ${ALL} } } }`, { id })).run.events;
    expect(page).toEqual(expected.slice(100, 107));
    const byDefault = (await app.ok<{ run: { events: { seq: number }[] } }>(`query($id: ID!) { run(id: $id) { events { seq } } }`, { id })).run.events;
    expect(byDefault.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
    // Aliases, fragments and __typename through the compiled executor.
    const shaped = (await app.ok<{ run: { events: unknown[] } }>(
      `query($id: ID!) { run(id: $id) { events(afterSeq: 10, first: 2) { __typename n: seq ...F } } } fragment F on RunEvent { when: at data }`,
      { id },
    )).run.events;
    expect(shaped).toEqual(expected.slice(10, 12).map((e) => ({ __typename: 'RunEvent', n: e.seq, when: e.at, data: e.data })));
  });

  it('refuses first out of range with BAD_USER_INPUT and a bad variable with a GraphQL error, and gives null for an unknown run', async () => {
    const id = await start(app, 'events-held');
    for (const first of [0, 10_001]) {
      const res = await app.gql(`query($id: ID!, $f: Int) { run(id: $id) { events(first: $f) { seq } } }`, { id, f: first });
      expect(res.errors?.[0]?.extensions?.code, `first=${first}`).toBe('BAD_USER_INPUT');
      expect((res.errors?.[0] as { path?: unknown } | undefined)?.path).toEqual(['run', 'events']);
    }
    const badVariable = await app.gql(`query($id: ID!, $f: Int) { run(id: $id) { events(first: $f) { seq } } }`, { id, f: 'many' });
    expect(badVariable.errors?.[0]?.message).toMatch(/\$f/);
    expect(badVariable.data ?? null).toBeNull();
    expect(await app.ok(`{ run(id: "00000000-0000-4000-8000-000000000000") { events { seq } } }`)).toEqual({ run: null });
  });

  it('writes DateTime exactly as JSON.stringify writes the Date the scalar returns', () => {
    const scalar = schema.getType('DateTime') as GraphQLScalarType;
    const fast = dateTimeSerialiser(scalar);
    /** What reaches the client: the JSON of the value, or the scalar's error. */
    const outcome = (serialise: (v: unknown) => unknown, v: unknown) => {
      try {
        return { json: JSON.stringify({ v: serialise(v) }) };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const values: unknown[] = [0, 7, 70, 999, 1000, 1_795_000_000_123, 253_402_300_799_999, 253_402_300_800_000, -1, 12.5, Number.NaN, new Date(0), new Date(Number.NaN),
      '2026-11-23T06:12:10.275Z', '2026-11-23T06:12:10.275+02:00', '2026-11-23T06:12:10Z'];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.random() * 253_402_300_800_000), new Date(Math.floor(Math.random() * 4_000_000_000_000)));
    for (const v of values) expect(outcome(fast, v), String(v)).toEqual(outcome((x) => scalar.serialize(x), v));
    expect(() => fast('not a date')).toThrow(/DateTime/);
  });

  it('answers the full introspection query (GraphiQL, codegen) through the compiled executor', async () => {
    const { getIntrospectionQuery, buildClientSchema, printSchema } = await import('graphql');
    const data = await app.ok<Parameters<typeof buildClientSchema>[0]>(getIntrospectionQuery({ specifiedByUrl: true, inputValueDeprecation: true }));
    expect(printSchema(buildClientSchema(data))).toBe(printSchema(schema));
  });

  it('gives a mutation error its stable code and path', async () => {
    const res = await app.gql(`mutation { resumeRun(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((res.errors?.[0] as { path?: unknown } | undefined)?.path).toEqual(['resumeRun']);
  });
});

describe('queues, workers and step types', () => {
  it('reports the step queue with a live worker', async () => {
    const { queues } = await waitFor(async () => {
      const r = await app.ok<{ queues: { name: string; liveWorkers: number; queued: number; warning: string | null }[] }>(
        `{ queues { name liveWorkers queued deferred active completed failed cancelled oldestQueuedAt warning } }`,
      );
      return r.queues.length && r.queues[0].liveWorkers >= 1 ? r : null;
    }, 'a queue with a live worker');
    expect(queues).toHaveLength(1);
    expect(typeof queues[0].name).toBe('string');
    expect(queues[0].liveWorkers).toBeGreaterThanOrEqual(1);
    expect(queues[0].warning).toBeNull();
  });

  it('lists the in-process worker as alive', async () => {
    const { workers } = await app.ok<{ workers: { id: string; alive: boolean; pid: number; concurrency: number; stepTypes: string[]; stoppedAt: string | null }[] }>(
      `{ workers { id alive pid hostname concurrency running stepTypes heartbeatAt startedAt stoppedAt } }`,
    );
    const mine = workers.find((w) => w.id === app.worker!.id);
    expect(mine, JSON.stringify(workers)).toBeDefined();
    expect(mine).toMatchObject({ alive: true, pid: process.pid, concurrency: app.config.WORKER_CONCURRENCY, stoppedAt: null });
    expect(mine!.stepTypes).toEqual(expect.arrayContaining(['noop', 'sleep', 'http', 'transform', 'approval', 'fail']));
  });

  it('lists the six built-in step types, each with a withSchema', async () => {
    const { stepTypes } = await app.ok<{ stepTypes: { type: string; kind: string; withSchema: unknown }[] }>(`{ stepTypes { type kind description withSchema } }`);
    const types = new Map(stepTypes.map((t) => [t.type, t]));
    for (const t of ['noop', 'sleep', 'http', 'transform', 'approval', 'fail']) {
      expect(types.has(t), t).toBe(true);
      const schema = types.get(t)!.withSchema;
      expect(schema, t).toBeTruthy();
      expect(typeof schema, t).toBe('object');
    }
    expect((types.get('sleep')!.withSchema as { properties?: Record<string, unknown> }).properties).toHaveProperty('ms');
    expect((types.get('http')!.withSchema as { properties?: Record<string, unknown> }).properties).toHaveProperty('url');
  });
});

describe('errors', () => {
  it('refuses input Postgres cannot store (U+0000) with BAD_USER_INPUT, writes nothing, and stays up', async () => {
    await register(app, { name: 'masked', steps: [{ id: 'a', type: 'noop' }] });
    const count = async () => (await app.ok<{ runs: { totalCount: number } }>(`{ runs(workflow: "masked") { totalCount } }`)).runs.totalCount;
    const before = await count();
    const res = await app.gql(`mutation($i: JSON) { startRun(workflow: "masked", input: $i) { id } }`, { i: { s: 'a\u0000b' } });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/U\+0000/);
    expect(await count()).toBe(before);
    const def = await app.gql(`mutation($d: JSON!) { registerWorkflow(definition: $d) { version } }`, { d: { name: 'nul', description: 'a\u0000b', steps: [{ id: 'a', type: 'noop' }] } });
    expect(def.errors?.[0].extensions?.code).toBe('INVALID_DEFINITION');
    expect(await start(app, 'masked', { s: 'fine' })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers workflow(name, version: 0) with null (or BAD_USER_INPUT), not the latest version', async () => {
    const res = await app.gql<{ workflow: { version: number } | null }>(`{ workflow(name: "versioned", version: 0) { version } }`);
    const refused = res.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT';
    expect(refused || res.data?.workflow === null, JSON.stringify(res)).toBe(true);
  });
});

describe('HTTP endpoints', () => {
  it('serves GraphiQL at GET /graphql to a browser', async () => {
    const res = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect((await res.text()).toLowerCase()).toContain('graphiql');
  });

  it('answers GET /health with 200', async () => {
    const res = await fetch(new URL('/health', app.url));
    expect(res.status).toBe(200);
  });

  it('answers GET /health with JSON { ok: true, db: true }', async () => {
    const res = await fetch(new URL('/health', app.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    const body = (await res.json()) as { ok: boolean; db: boolean; role: string };
    expect(body).toMatchObject({ ok: true, db: true, role: 'all' });
  });

  it('serves Prometheus metrics at /metrics', async () => {
    const res = await fetch(new URL('/metrics', app.url));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('skein_');
    expect(text).toMatch(/skein_runs\{status="SUCCEEDED"\} \d+/);
  });
});
