import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropDatabase, register, runEvents, start, startTestApp, testDatabaseUrl, waitFor, type TestApp } from './support.js';

let app: TestApp;
const dbUrl = testDatabaseUrl('fanout');
const SUBSCRIBERS = Number(process.env.FANOUT_SUBSCRIBERS ?? 1000);

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: dbUrl });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

/** A bare SSE subscriber (fetch + text/event-stream), recording each event's seq and receipt delay. */
function subscribe(url: string, runId: string, sink: { seqs: number[]; delays: number[] }, signal: AbortSignal): Promise<void> {
  const query = `subscription($id: ID!) { runEvents(runId: $id) { seq type at } }`;
  return (async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables: { id: runId } }),
      signal,
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = chunk.split('\n').find((l) => l.startsWith('data:'));
        if (!data) continue;
        const ev = JSON.parse(data.slice(5)).data?.runEvents as { seq: number; type: string; at: string } | undefined;
        if (!ev) continue;
        sink.seqs.push(ev.seq);
        sink.delays.push(Date.now() - new Date(ev.at).getTime());
        if (ev.type === 'RUN_SUCCEEDED') return;
      }
    }
  })().catch((err: Error) => {
    if (err.name !== 'AbortError') throw err;
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

it(`delivers every event of a run exactly once, in order, to ${SUBSCRIBERS} SSE subscribers`, async () => {
  await register(app, {
    name: 'fanout-live',
    steps: [{ id: 'gate', type: 'approval', with: { prompt: 'go' } }, ...Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, type: 'sleep', with: { ms: 400 }, needs: ['gate'] }))],
  });
  const id = await start(app, 'fanout-live');
  // Hold the run back until everyone listens, so the events arrive live, not by replay (a pause
  // could come too late: the run may be done by then).
  await waitFor(async () => (await runEvents(app, id)).some((e) => e.type === 'STEP_WAITING'), 'the gate to wait');
  const controller = new AbortController();
  const sinks = Array.from({ length: SUBSCRIBERS }, () => ({ seqs: [] as number[], delays: [] as number[] }));
  const heapBefore = process.memoryUsage().heapUsed;
  const done = sinks.map((s) => subscribe(app.url, id, s, controller.signal));
  const t0 = Date.now();
  await waitFor(() => sinks.every((s) => s.seqs.length > 0), 'every subscriber to receive the replay', 240_000, 200);
  const subscribedMs = Date.now() - t0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await app.ok(`mutation($id: ID!) { approveStep(runId: $id, stepId: "gate", approved: true) { status } }`, { id });
  await Promise.race([Promise.all(done), waitFor(() => false, 'all subscribers to see the run end', 240_000, 500).catch((e) => e)]);
  lag.disable();
  controller.abort();
  const stored = (await runEvents(app, id)).map((e) => e.seq);
  const short = sinks.filter((s) => s.seqs.length !== stored.length);
  if (short.length) console.log(`[fanout] ${short.length} short; stored ${stored.length}; tails`, short.slice(0, 3).map((s) => s.seqs.slice(-4)));
  for (const s of sinks) expect(s.seqs).toEqual(stored);
  const live = sinks.flatMap((s) => s.delays.slice(-(stored.length - 4)));
  console.log(
    `[fanout] ${SUBSCRIBERS} subscribers replayed in ${subscribedMs} ms; ${stored.length} events: delivery delay p50 ${pct(live, 50)} ms, p99 ${pct(live, 99)} ms; ` +
      `event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms; ` +
      `heap +${((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
}, 600_000);

/** A subscription over a raw socket: the bytes exactly as they come, for HTTP/1.1 or HTTP/1.0. */
function rawSubscribe(url: string, runId: string, version: '1.0' | '1.1'): { bytes: () => Buffer; close: () => void } {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ query: `subscription($id: ID!) { runEvents(runId: $id) { seq type } }`, variables: { id: runId } });
  const parts: Buffer[] = [];
  const socket = connect(Number(port), hostname, () => {
    socket.write(
      `POST /graphql HTTP/${version}\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  socket.on('data', (d: Buffer) => parts.push(d));
  socket.on('error', () => undefined);
  return { bytes: () => Buffer.concat(parts), close: () => socket.destroy() };
}

/** Split a response into its head and body; a chunked body into its chunks (each checked whole). */
function parseResponse(raw: Buffer): { head: string; chunks: string[] | null; body: string } {
  const cut = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, cut).toString('latin1');
  let rest = raw.subarray(cut + 4);
  if (!/^transfer-encoding: chunked$/im.test(head)) return { head, chunks: null, body: rest.toString('utf8') };
  const chunks: string[] = [];
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line < 0) break;
    const size = parseInt(rest.subarray(0, line).toString('latin1'), 16);
    expect(Number.isNaN(size)).toBe(false);
    if (size === 0) break;
    const data = rest.subarray(line + 2, line + 2 + size);
    if (data.length < size) break; // the last chunk is still arriving
    expect(rest.subarray(line + 2 + size, line + 4 + size).toString('latin1')).toBe('\r\n');
    chunks.push(data.toString('utf8'));
    rest = rest.subarray(line + 4 + size);
  }
  return { head, chunks, body: chunks.join('') };
}

const FRAME = /^(:|event: next\ndata: \{.*\})$/;

it('writes a batch of events (one engine turn) as one HTTP chunk of whole frames, in order, and plain frames to an HTTP/1.0 client', async () => {
  await register(app, {
    name: 'fanout-wire',
    steps: [{ id: 'gate', type: 'approval', with: { prompt: 'go' } }, ...Array.from({ length: 4 }, (_, i) => ({ id: `n${i}`, type: 'noop', needs: [i ? `n${i - 1}` : 'gate'] }))],
  });
  const id = await start(app, 'fanout-wire');
  await waitFor(async () => (await runEvents(app, id)).some((e) => e.type === 'STEP_WAITING'), 'the gate to wait');
  const subs = [rawSubscribe(app.url, id, '1.1'), rawSubscribe(app.url, id, '1.1'), rawSubscribe(app.url, id, '1.0')];
  try {
    await waitFor(() => subs.every((s) => s.bytes().includes('STEP_WAITING')), 'the replay');
    await app.ok(`mutation($id: ID!) { approveStep(runId: $id, stepId: "gate", approved: true) { status } }`, { id });
    await waitFor(() => subs.every((s) => s.bytes().includes('RUN_SUCCEEDED')), 'the run to end on every stream');
    const stored = (await runEvents(app, id)).map((e) => ({ seq: e.seq, type: e.type }));
    const seen = subs.map((s) => parseResponse(s.bytes()));
    for (const { head, body } of seen) {
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/^content-type: text\/event-stream$/im);
      const frames = body.split('\n\n');
      expect(frames.pop()).toBe('');
      for (const f of frames) expect(f).toMatch(FRAME);
      const events = frames.filter((f) => f !== ':').map((f) => (JSON.parse(f.slice('event: next\ndata: '.length)) as { data: { runEvents: unknown } }).data.runEvents);
      expect(events).toEqual(stored);
    }
    // HTTP/1.1: every chunk is whole frames, and a turn's events (STEP_SUCCEEDED, STEP_QUEUED,
    // STEP_STARTED, published together) share one chunk. The HTTP/1.0 client gets no chunking.
    for (const { chunks } of seen.slice(0, 2)) {
      expect(chunks).not.toBeNull();
      for (const c of chunks!) for (const f of c.split('\n\n').slice(0, -1)) expect(f).toMatch(FRAME);
      expect(chunks!.every((c) => c.endsWith('\n\n'))).toBe(true);
      expect(chunks!.some((c) => c.includes('"STEP_SUCCEEDED"') && c.includes('"STEP_STARTED"'))).toBe(true);
    }
    expect(seen[0].chunks).toEqual(seen[1].chunks);
    expect(seen[2].chunks).toBeNull();
    expect(seen[2].head).not.toMatch(/^transfer-encoding/im);
  } finally {
    for (const s of subs) s.close();
  }
});
