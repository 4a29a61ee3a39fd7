// Scenarios (e)–(h): Skein as child processes — one API server (`skein server`) and one worker
// (`skein worker`), as deployed — so the subscribers and clients in this process neither share an
// event loop with the server nor distort its memory figures.
import { createServer } from 'node:net';
import type pg from 'pg';
import {
  assertAllSucceeded, benchDatabaseUrl, dropDatabase, gql, median, note, now, percentile, REGISTER, sleep, skeinEnv, spawnSkein,
  START, waitHttp, waitRunsDone, withClient, type Child,
} from './lib.js';
import { wide, type Definition } from './workflows.js';

export interface ApiSizes {
  subscriberCounts: number[];
  eventChainLength: number;
  eventStepMs: number;
  startRuns: number;
  width: number;
}

export interface ApiResult {
  events: Record<string, { p50Ms: number; p99Ms: number; samples: number; eventsPerSec: number }>;
  startRun: { p50Ms: number; p99Ms: number; calls: number };
  events10k: { queryMs: number; sqlMs: number; returned: number };
  rssMb: { api: number; worker: number };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function apiScenarios(sizes: ApiSizes): Promise<ApiResult> {
  const databaseUrl = benchDatabaseUrl('api');
  const port = await freePort();
  const env = skeinEnv(databaseUrl, { PORT: String(port), LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/graphql`;
  let server: Child | null = null;
  let worker: Child | null = null;
  try {
    // BENCH_API_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the API server only.
    const serverOptions = process.env.BENCH_API_NODE_OPTIONS;
    server = spawnSkein('server', serverOptions ? { ...env, NODE_OPTIONS: serverOptions } : env);
    await waitHttp(`${base}/health`, 60_000, server);
    worker = spawnSkein('worker', env);
    return await withClient(databaseUrl, async (c) => {
      await waitWorker(c, worker!, 60_000);
      const events: ApiResult['events'] = {};
      for (const n of sizes.subscriberCounts) {
        events[`subs${n}`] = await eventDelay(url, c, n, sizes, `ev${n}`);
        const e = events[`subs${n}`];
        note(`event delay at ${n} subscriber(s): p50 ${e.p50Ms.toFixed(1)} ms, p99 ${e.p99Ms.toFixed(1)} ms (${e.samples} deliveries)`);
      }
      const startRun = await startRunLatency(url, c, sizes.startRuns);
      note(`startRun: p50 ${startRun.p50Ms.toFixed(2)} ms, p99 ${startRun.p99Ms.toFixed(2)} ms`);
      const events10k = await eventsQuery(url, c);
      note(`run.events on 10,000 events: ${events10k.queryMs.toFixed(1)} ms (SQL alone ${events10k.sqlMs.toFixed(1)} ms)`);
      // Give the worker a throughput load too before reading peak RSS.
      await gql(url, REGISTER, { d: wide('rss-wide', sizes.width) });
      const { startRun: r } = await gql<{ startRun: { id: string } }>(url, START, { w: 'rss-wide' });
      assertAllSucceeded(await waitRunsDone(c, [r.id], 300_000), 'rss wide');
      const rssMb = { api: server!.peakRssMb(), worker: worker!.peakRssMb() };
      note(`peak RSS: API ${rssMb.api.toFixed(0)} MB, worker ${rssMb.worker.toFixed(0)} MB`);
      return { events, startRun, events10k, rssMb };
    });
  } finally {
    await worker?.stop();
    await server?.stop();
    await dropDatabase(databaseUrl).catch((err: Error) => note(`drop ${databaseUrl}: ${err.message}`));
  }
}

async function waitWorker(c: pg.Client, worker: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL`).catch(() => ({ rows: [{ n: 0 }] }));
    if (rows[0].n > 0) return;
    if (worker.proc.exitCode !== null) throw new Error(`worker exited: ${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`worker not up: ${worker.output()}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- (e) event delay over SSE

const SUBSCRIPTION = `subscription($r: ID!) { runEvents(runId: $r) { seq type at } }`;

interface Subscriber {
  chunks: { t: number; text: string }[];
  controller: AbortController;
  reading: Promise<void>;
}

async function subscribe(url: string, runId: string): Promise<Subscriber> {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: SUBSCRIPTION, variables: { r: runId } }),
    signal: controller.signal,
  });
  if (!res.ok || !res.body) throw new Error(`subscribe: HTTP ${res.status}`);
  const chunks: Subscriber['chunks'] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  // Only stamp and keep the chunks while measuring; parsing happens afterwards.
  const reading = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        chunks.push({ t: now(), text: decoder.decode(value, { stream: true }) });
      }
    } catch {
      // aborted at the end
    }
  })();
  return { chunks, controller, reading };
}

/** Events in a subscriber's stream with the time their last byte arrived. */
function parseStream(sub: Subscriber): { t: number; seq: number; type: string; at: number }[] {
  const out: { t: number; seq: number; type: string; at: number }[] = [];
  let buf = '';
  for (const { t, text } of sub.chunks) {
    buf += text;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const message = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = message.split('\n').find((l) => l.startsWith('data:'));
      if (!data || !/^event:\s*next/m.test(message)) continue;
      const payload = JSON.parse(data.slice(5)) as { data?: { runEvents?: { seq: number; type: string; at: string } } };
      const e = payload.data?.runEvents;
      if (e) out.push({ t, seq: e.seq, type: e.type, at: Date.parse(e.at) });
    }
  }
  return out;
}

/**
 * n subscribers on one run whose first step is an approval: all subscribe and receive the replay,
 * then the approval releases a chain of `sleep` steps; every event stored after the approval is a
 * live sample: receipt time (last byte, this process) minus the event's `at` (its insert, just
 * before commit), over every subscriber.
 */
async function eventDelay(url: string, c: pg.Client, n: number, sizes: ApiSizes, name: string): Promise<ApiResult['events'][string]> {
  const def: Definition = {
    name,
    steps: [
      { id: 'gate', type: 'approval', with: { prompt: 'go' } },
      ...Array.from({ length: sizes.eventChainLength }, (_, i) => ({ id: `s${i}`, type: 'sleep', needs: [i ? `s${i - 1}` : 'gate'], with: { ms: sizes.eventStepMs } })),
    ],
  };
  await gql(url, REGISTER, { d: def });
  const { startRun } = await gql<{ startRun: { id: string } }>(url, START, { w: name });
  const runId = startRun.id;
  await waitFor(async () => (await c.query(`SELECT 1 FROM step_runs WHERE run_id = $1 AND step_id = 'gate' AND status = 'WAITING'`, [runId])).rowCount, 'gate WAITING', 30_000);
  const subs: Subscriber[] = [];
  try {
    for (let i = 0; i < n; i += 50) subs.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => subscribe(url, runId)))));
    // Every subscriber has its replay (the stored STEP_WAITING) before the run moves on.
    await waitFor(() => subs.every((s) => s.chunks.map((ch) => ch.text).join('').includes('STEP_WAITING')), `${n} subscribers replayed`, 120_000);
    const tApprove = Date.now();
    await gql(url, `mutation($r: ID!) { approveStep(runId: $r, stepId: "gate", approved: true) { status } }`, { r: runId });
    assertAllSucceeded(await waitRunsDone(c, [runId], 300_000), 'event run');
    const { rows } = await c.query<{ n: number; ms: number }>(
      `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM max(at) - min(at)) * 1000 AS ms FROM run_events WHERE run_id = $1 AND at >= to_timestamp($2 / 1000.0)`,
      [runId, tApprove],
    );
    const expected = rows[0].n;
    // Deliveries are done when every subscriber has the last event (bounded wait).
    const lastSeq = (await c.query<{ s: number }>(`SELECT max(seq)::int AS s FROM run_events WHERE run_id = $1`, [runId])).rows[0].s;
    const tail = (s: Subscriber) => s.chunks.slice(-4).map((ch) => ch.text).join('');
    await waitFor(() => subs.every((s) => tail(s).includes(`"seq":${lastSeq},`)), 'last event delivered', 60_000).catch((err: Error) => note(err.message));
    const delays: number[] = [];
    for (const s of subs) for (const e of parseStream(s)) if (e.at >= tApprove) delays.push(e.t - e.at);
    if (delays.length < expected * n * 0.99) note(`event delay at ${n}: only ${delays.length} of ${expected * n} deliveries seen`);
    return { p50Ms: percentile(delays, 50), p99Ms: percentile(delays, 99), samples: delays.length, eventsPerSec: (expected / Number(rows[0].ms)) * 1000 };
  } finally {
    for (const s of subs) s.controller.abort();
    await Promise.all(subs.map((s) => s.reading));
  }
}

async function waitFor(fn: () => unknown, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------- (f) startRun latency

async function startRunLatency(url: string, c: pg.Client, calls: number): Promise<ApiResult['startRun']> {
  await gql(url, REGISTER, { d: { name: 'one', steps: [{ id: 'only', type: 'noop' }] } });
  for (let i = 0; i < 20; i++) await gql(url, START, { w: 'one' });
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    await gql(url, START, { w: 'one' });
    ms.push(now() - t0);
  }
  // Let the worker drain them before the next scenario.
  const { rows } = await c.query<{ id: string }>(`SELECT id FROM runs WHERE workflow_name = 'one'`);
  await waitRunsDone(c, rows.map((r) => r.id), 300_000, 100);
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), calls };
}

// ---------------------------------------------------------------- (g) run.events on 10,000 events

async function eventsQuery(url: string, c: pg.Client): Promise<ApiResult['events10k']> {
  await gql(url, REGISTER, { d: { name: 'hold', steps: [{ id: 'gate', type: 'approval', with: { prompt: 'hold' } }] } });
  const { startRun } = await gql<{ startRun: { id: string } }>(url, START, { w: 'hold' });
  const runId = startRun.id;
  await waitFor(async () => (await c.query(`SELECT 1 FROM step_runs WHERE run_id = $1 AND status = 'WAITING'`, [runId])).rowCount, 'hold WAITING', 30_000);
  // 10,000 progress events inserted directly with SQL, seqs continuing the run's own (gapless).
  await c.query(
    `WITH bump AS (UPDATE runs SET last_seq = last_seq + 10000 WHERE id = $1 RETURNING last_seq)
     INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, at)
     SELECT $1, (SELECT last_seq FROM bump) - 10000 + g, 'STEP_PROGRESS', 'gate', 'WAITING', (g % 100) / 100.0, 1,
            'progress ' || g, 'bench', clock_timestamp()
     FROM generate_series(1, 10000) AS g`,
    [runId],
  );
  await c.query('ANALYZE run_events');
  const query = `query($id: ID!) { run(id: $id) { events(first: 10000) { seq runId type stepId status progress attempt message actor data at } } }`;
  const times: number[] = [];
  let returned = 0;
  for (let i = 0; i < 6; i++) {
    const t0 = now();
    const data = await gql<{ run: { events: unknown[] } }>(url, query, { id: runId });
    const ms = now() - t0;
    returned = data.run.events.length;
    if (i > 0) times.push(ms); // the first call warms up
  }
  const sqlTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    await c.query(`SELECT * FROM run_events WHERE run_id = $1 AND seq > 0 ORDER BY seq LIMIT 10000`, [runId]);
    sqlTimes.push(now() - t0);
  }
  return { queryMs: median(times), sqlMs: median(sqlTimes), returned };
}
