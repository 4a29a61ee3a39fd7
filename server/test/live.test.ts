import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropDatabase, REDIS_URL, register, ROOT, runEvents, spawnWorker, start, startTestApp, testDatabaseUrl, waitFor, waitForExit, waitForRun, type TestApp,
} from './support.js';

interface Ev { seq: number; type: string; stepId: string | null; status: string | null; progress: number | null }
const EVENT_QUERY = `subscription($id: ID!, $after: Int) { runEvents(runId: $id, afterSeq: $after) { seq type stepId status progress } }`;

let app: TestApp;
const dbUrl = testDatabaseUrl('live');

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: dbUrl });
  await register(app, {
    name: 'live-chain',
    steps: [
      { id: 'a', type: 'sleep', with: { ms: 300 } },
      { id: 'b', type: 'sleep', with: { ms: 300 }, needs: ['a'] },
      { id: 'c', type: 'noop', needs: ['b'] },
    ],
  });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

/** Collect runEvents over SSE (graphql-sse client) until the run ends or `until` says stop. */
async function collectSse(url: string, runId: string, afterSeq = 0, until: (e: Ev) => boolean = (e) => /RUN_(SUCCEEDED|FAILED|CANCELLED)/.test(e.type)): Promise<Ev[]> {
  const client = createSseClient({ url });
  const got: Ev[] = [];
  try {
    for await (const result of client.iterate<{ runEvents: Ev }>({ query: EVENT_QUERY, variables: { id: runId, after: afterSeq } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      got.push(result.data!.runEvents);
      if (until(result.data!.runEvents)) break;
    }
  } finally {
    client.dispose();
  }
  return got;
}

const expectGapless = (events: Ev[], from = 1) => expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + from));

describe('runEvents', () => {
  it('replays then streams live over SSE, gapless, and matches what is stored', async () => {
    const id = await start(app, 'live-chain');
    const events = await collectSse(app.url, id);
    expectGapless(events);
    expect(events.at(-1)!.type).toBe('RUN_SUCCEEDED');
    const stored = await runEvents(app, id);
    expect(events.map((e) => [e.seq, e.type, e.stepId])).toEqual(stored.map((e) => [e.seq, e.type, e.stepId]));
  });

  it('resumes from a cursor with no duplicates (subscribe after the run ended too)', async () => {
    const id = await start(app, 'live-chain');
    const firstPart = await collectSse(app.url, id, 0, (e) => e.type === 'STEP_STARTED' && e.stepId === 'b');
    const last = firstPart.at(-1)!.seq;
    const rest = await collectSse(app.url, id, last);
    expectGapless([...firstPart, ...rest]);
    const again = await collectSse(app.url, id, 3);
    expectGapless(again, 4);
  });

  it('works over graphql-ws (WebSocket) with its official client', async () => {
    const id = await start(app, 'live-chain');
    const client = createWsClient({ url: app.url.replace('http', 'ws'), webSocketImpl: WebSocket, lazy: true });
    const got: Ev[] = [];
    try {
      for await (const result of client.iterate<{ runEvents: Ev }>({ query: EVENT_QUERY, variables: { id, after: 0 } })) {
        if (result.errors) throw new Error(JSON.stringify(result.errors));
        got.push(result.data!.runEvents);
        if (result.data!.runEvents.type === 'RUN_SUCCEEDED') break;
      }
    } finally {
      await client.dispose();
    }
    expectGapless(got);
    expect(got.map((e) => e.type)).toContain('STEP_SUCCEEDED');
  });

  it("speaks Yoga's SSE wire format, and gives each subscriber its own selection (aliases, upper-case id) on one run", async () => {
    const id = await start(app, 'live-chain');
    /** A raw text/event-stream reader, as `curl -N` would see it, up to RUN_SUCCEEDED. */
    const raw = async (query: string, variables: Record<string, unknown>): Promise<string> => {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query, variables }),
      });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      try {
        while (!text.includes('RUN_SUCCEEDED')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
      } finally {
        await reader.cancel();
      }
      return text;
    };
    const [a, b, c] = await Promise.all([
      raw(`subscription($r: ID!) { runEvents(runId: $r) { seq type } }`, { r: id }),
      raw(`subscription S($r: ID!) { e: runEvents(runId: $r, afterSeq: 2) { n: seq type stepId } }`, { r: id.toUpperCase() }),
      raw(`subscription($r: ID!) { runEvents(runId: $r) { seq type } }`, { r: id }),
    ]);
    const stored = await runEvents(app, id);
    // A comment first, then one `event: next` frame per event and nothing else.
    expect(a.startsWith(':\n\n')).toBe(true);
    const frames = (text: string) => text.replace(/^(:\n\n)+/, '').split('\n\n').filter(Boolean);
    for (const f of frames(a)) expect(f).toMatch(/^event: next\ndata: \{.*\}$/);
    const parsed = (text: string) => frames(text).map((f) => JSON.parse(f.slice('event: next\ndata: '.length)));
    expect(parsed(a)).toEqual(stored.map((e) => ({ data: { runEvents: { seq: e.seq, type: e.type } } })));
    expect(frames(c)).toEqual(frames(a));
    expect(parsed(b)).toEqual(stored.slice(2).map((e) => ({ data: { e: { n: e.seq, type: e.type, stepId: e.stepId } } })));
  });

  it('lets go of the run (its bus subscription) when the last SSE and WebSocket subscribers leave', async () => {
    await register(app, { name: 'held-open', steps: [{ id: 'gate', type: 'approval', with: { prompt: 'hold' } }] });
    const id = await start(app, 'held-open');
    const redis = new Redis(REDIS_URL);
    const listeners = async () => ((await redis.pubsub('NUMSUB', `skein:run:${id}`)) as [string, number])[1];
    const controller = new AbortController();
    const ws = createWsClient({ url: app.url.replace('http', 'ws'), webSocketImpl: WebSocket, lazy: true });
    try {
      const sse = await Promise.all(Array.from({ length: 20 }, async () => {
        const res = await fetch(app.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ query: EVENT_QUERY, variables: { id } }),
          signal: controller.signal,
        });
        const reader = res.body!.getReader();
        let text = '';
        while (!text.includes('STEP_WAITING')) text += new TextDecoder().decode((await reader.read()).value);
        return reader;
      }));
      // And clients that hang up at once, before (or while) their subscription is set up.
      await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const quick = new AbortController();
        const sent = fetch(app.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ query: EVENT_QUERY, variables: { id } }),
          signal: quick.signal,
        });
        setTimeout(() => quick.abort(), i % 5);
        await sent.then((r) => r.body?.cancel()).catch(() => undefined);
      }));
      const overWs = ws.iterate({ query: EVENT_QUERY, variables: { id } });
      await overWs.next();
      await waitFor(async () => (await listeners()) === 1, 'one bus subscription for 21 subscribers');
      controller.abort();
      await Promise.all(sse.map((r) => r.closed.catch(() => undefined)));
      await overWs.return?.();
      await waitFor(async () => (await listeners()) === 0, 'the bus subscription to be dropped');
    } finally {
      controller.abort();
      await ws.dispose();
      redis.disconnect();
    }
  });

  it('gives NOT_FOUND for an unknown run', async () => {
    const client = createSseClient({ url: app.url });
    try {
      const it = client.iterate({ query: EVENT_QUERY, variables: { id: '00000000-0000-0000-0000-000000000000' } });
      const first = await it.next();
      expect((first.value as { errors?: { extensions?: { code?: string } }[] }).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    } finally {
      client.dispose();
    }
  });

  it('runUpdated follows the run to its end, and runsChanged reports it', async () => {
    const sse = createSseClient({ url: app.url });
    const changed: string[] = [];
    const listen = (async () => {
      for await (const r of sse.iterate<{ runsChanged: { id: string; status: string } }>({ query: `subscription { runsChanged { id status } }` })) {
        changed.push(`${r.data!.runsChanged.id}:${r.data!.runsChanged.status}`);
        if (r.data!.runsChanged.status === 'SUCCEEDED') break;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const id = await start(app, 'live-chain');
    const statuses: string[] = [];
    for await (const r of sse.iterate<{ runUpdated: { status: string; progress: number } }>({ query: `subscription($id: ID!) { runUpdated(id: $id) { status progress } }`, variables: { id } })) {
      statuses.push(r.data!.runUpdated.status);
      if (r.data!.runUpdated.status === 'SUCCEEDED') break;
    }
    await listen;
    sse.dispose();
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    expect(changed).toContain(`${id}:SUCCEEDED`);
  });

  it('coalesces progress to at most 10 stored updates a second per run, never dropping a status', async () => {
    await register(app, { name: 'noisy', steps: Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, type: 'sleep', with: { ms: 1500 } })) });
    const id = await start(app, 'noisy');
    await waitForRun(app, id, ['SUCCEEDED']);
    const all = (await app.ok<{ run: { events: { type: string; at: string; status: string | null }[] } }>(`query($id: ID!) { run(id: $id) { events(first: 10000) { type at status } } }`, { id })).run.events;
    const progress = all.filter((e) => e.type === 'STEP_PROGRESS').map((e) => new Date(e.at).getTime());
    // Sliding one-second windows: never more than 10 progress events in any of them.
    const worst = Math.max(...progress.map((t) => progress.filter((u) => u >= t && u < t + 1000).length));
    expect(progress.length).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(10);
    expect(all.filter((e) => e.type === 'STEP_SUCCEEDED')).toHaveLength(6);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('across processes and through Redis outages', () => {
  it('delivers every event exactly once, in order, to subscribers on two API server processes', async () => {
    const procs: ChildProcess[] = [];
    try {
      const ports = [await freePort(), await freePort()];
      for (const port of ports) {
        procs.push(spawn(process.execPath, [path.join(ROOT, 'server/bin/skein.mjs'), 'server'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, DATABASE_URL: dbUrl, REDIS_URL: 'redis://127.0.0.1:6379', PORT: String(port), LOG_LEVEL: 'warn', WORKFLOWS_DIR: '/nonexistent' },
          stdio: 'ignore',
        }));
      }
      procs.push(spawnWorker(dbUrl));
      for (const port of ports) await waitFor(() => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok).catch(() => false), `server on ${port}`);
      const id = await start(app, 'live-chain');
      const streams = await Promise.all(ports.map((p) => collectSse(`http://127.0.0.1:${p}/graphql`, id)));
      const stored = await runEvents(app, id);
      for (const s of streams) expect(s.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    } finally {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => waitForExit(p).catch(() => undefined)));
    }
  });

  it('keeps running through a Redis outage; subscribers catch up from Postgres, each seq once', async () => {
    const port = await freePort();
    const startRedis = () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let redis = startRedis();
    const outageDb = testDatabaseUrl('live_outage');
    const local = await startTestApp({ databaseUrl: outageDb, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      await register(local, {
        name: 'through-outage',
        steps: [
          { id: 'a', type: 'sleep', with: { ms: 400 } },
          { id: 'b', type: 'sleep', with: { ms: 1500 }, needs: ['a'] },
          { id: 'c', type: 'sleep', with: { ms: 400 }, needs: ['b'] },
        ],
      });
      const id = await start(local, 'through-outage');
      const stream = collectSse(local.url, id);
      await waitFor(async () => (await runEvents(local, id)).some((e) => e.type === 'STEP_STARTED' && e.stepId === 'b'), 'step b started');
      redis.kill('SIGKILL');
      await waitForExit(redis);
      // While Redis is down, mutations and steps go on.
      const other = await start(local, 'through-outage');
      await waitFor(async () => (await runEvents(local, id)).some((e) => e.type === 'STEP_STARTED' && e.stepId === 'c'), 'step c started during the outage', 20_000);
      redis = startRedis();
      const events = await stream;
      expectGapless(events);
      expect(events.at(-1)!.type).toBe('RUN_SUCCEEDED');
      expect((await waitForRun(local, other, ['SUCCEEDED', 'FAILED'], 30_000)).status).toBe('SUCCEEDED');
    } finally {
      await local.stop();
      redis.kill('SIGKILL');
      await dropDatabase(outageDb);
    }
  });
});
