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
    steps: [{ id: 'root', type: 'noop' }, ...Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, type: 'sleep', with: { ms: 400 }, needs: ['root'] }))],
  });
  const id = await start(app, 'fanout-live');
  // Hold the run back until everyone listens, so the events arrive live, not by replay.
  await app.ok(`mutation($id: ID!) { pauseRun(id: $id) { status } }`, { id });
  const controller = new AbortController();
  const sinks = Array.from({ length: SUBSCRIBERS }, () => ({ seqs: [] as number[], delays: [] as number[] }));
  const heapBefore = process.memoryUsage().heapUsed;
  const done = sinks.map((s) => subscribe(app.url, id, s, controller.signal));
  const t0 = Date.now();
  await waitFor(() => sinks.every((s) => s.seqs.length > 0), 'every subscriber to receive the replay', 240_000, 200);
  const subscribedMs = Date.now() - t0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await app.ok(`mutation($id: ID!) { resumeRun(id: $id) { status } }`, { id });
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
