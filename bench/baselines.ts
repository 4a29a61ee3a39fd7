// Baselines measured in the same run: the substrate (raw pg-boss 10) and a peer (BullMQ 6 flows).
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, Worker, type FlowJob } from 'bullmq';
import PgBoss from 'pg-boss';
import { benchDatabaseUrl, CONCURRENCY, createDatabase, dropDatabase, median, note, now, sleep } from './lib.js';

// ---------------------------------------------------------------- raw pg-boss

export interface PgBossResult {
  jobsPerSec: number;
  best: { loops: number; batchSize: number };
  tried: { loops: number; batchSize: number; jobs: number; insertMs: number; workMs: number; jobsPerSec: number }[];
}

/**
 * No-op jobs inserted in bulk with `insert`, then worked to completion by `loops` concurrent loops
 * of our own around `fetch({ batchSize })` + `complete(ids)` (pg-boss's `work()` waits out its
 * polling interval after every fetch, so it is slower). jobs/s counts the work phase only.
 */
export async function pgBossBaseline(opts: { jobs: number; settings: { loops: number; batchSize: number }[] }): Promise<PgBossResult> {
  const url = benchDatabaseUrl('pgboss');
  await createDatabase(url);
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', max: 10, supervise: false, schedule: false, migrate: true });
  boss.on('error', (err: Error) => note(`pg-boss error: ${err.message}`));
  const tried: PgBossResult['tried'] = [];
  try {
    await boss.start();
    for (const [i, s] of opts.settings.entries()) {
      const queue = `bench-${i}`;
      await boss.createQueue(queue, { name: queue, retryLimit: 0 } as PgBoss.Queue);
      const t0 = now();
      for (let off = 0; off < opts.jobs; off += 1000) {
        const n = Math.min(1000, opts.jobs - off);
        await boss.insert(Array.from({ length: n }, (_, k) => ({ name: queue, data: { i: off + k } })));
      }
      const insertMs = now() - t0;
      let done = 0;
      const deadline = Date.now() + 300_000;
      const t1 = now();
      const loop = async () => {
        while (done < opts.jobs && Date.now() < deadline) {
          const jobs = await boss.fetch(queue, { batchSize: s.batchSize });
          if (!jobs || jobs.length === 0) {
            if (done >= opts.jobs) return;
            await sleep(1);
            continue;
          }
          await boss.complete(queue, jobs.map((j) => j.id));
          done += jobs.length;
        }
      };
      await Promise.all(Array.from({ length: s.loops }, loop));
      const workMs = now() - t1;
      if (done < opts.jobs) throw new Error(`pg-boss baseline did only ${done} of ${opts.jobs} jobs`);
      const r = { ...s, jobs: opts.jobs, insertMs, workMs, jobsPerSec: (opts.jobs / workMs) * 1000 };
      tried.push(r);
      note(`pg-boss ${s.loops} loop(s) × batch ${s.batchSize}: ${Math.round(r.jobsPerSec)} jobs/s (insert ${Math.round(insertMs)} ms)`);
    }
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await dropDatabase(url);
  }
  const best = tried.reduce((a, b) => (b.jobsPerSec > a.jobsPerSec ? b : a));
  return { jobsPerSec: best.jobsPerSec, best: { loops: best.loops, batchSize: best.batchSize }, tried };
}

// ---------------------------------------------------------------- BullMQ flows

export interface BullmqResult {
  /** ms per step of a chain of `chainLength` (median over the repeats). */
  chainMsPerStep: number;
  wideStepsPerSec: number;
  concurrentStepsPerSec: number;
}

/**
 * BullMQ 6 FlowProducer with one Worker of concurrency CONCURRENCY (no-op processor), the same
 * shapes as Skein: a chain (nested children, the deepest runs first), a parent with `width`
 * children, and `flows` flows of a parent with (size − 1) children added at once.
 */
export async function bullmqBaseline(opts: { chainLength: number; chainRepeats: number; width: number; flows: number; flowSize: number }): Promise<BullmqResult> {
  const prefix = `skeinbench${randomBytes(4).toString('hex')}`;
  const connection = { host: '127.0.0.1', port: 6379 };
  const queueName = 'steps';
  const queue = new Queue(queueName, { connection, prefix });
  const producer = new FlowProducer({ connection, prefix });
  let completed = 0;
  let waiter: { target: number; resolve: () => void } | null = null;
  const worker = new Worker(queueName, async () => null, { connection, prefix, concurrency: CONCURRENCY });
  worker.on('completed', () => {
    completed++;
    if (waiter && completed >= waiter.target) waiter.resolve();
  });
  worker.on('failed', (_job, err) => note(`bullmq job failed: ${err.message}`));
  await worker.waitUntilReady();
  await queue.waitUntilReady();

  /** Add flows and wait until `jobs` more jobs completed; returns the wall time in ms. */
  const measure = async (flows: FlowJob[], jobs: number): Promise<number> => {
    const target = completed + jobs;
    const done = new Promise<void>((resolve, reject) => {
      waiter = { target, resolve };
      setTimeout(() => reject(new Error(`bullmq: ${target - completed} jobs not done after 120 s`)), 120_000).unref();
    });
    const t0 = now();
    await Promise.all(flows.map((f) => producer.add(f)));
    await done;
    waiter = null;
    return now() - t0;
  };

  try {
    const chainFlow = (n: number): FlowJob => {
      // The last step is the root of the tree; its only child is the step before it, and so on.
      let node: FlowJob = { name: 's0', queueName };
      for (let i = 1; i < n; i++) node = { name: `s${i}`, queueName, children: [node] };
      return node;
    };
    await measure([chainFlow(10)], 10); // warm-up
    const perStep: number[] = [];
    for (let r = 0; r < opts.chainRepeats; r++) perStep.push((await measure([chainFlow(opts.chainLength)], opts.chainLength)) / opts.chainLength);
    const chainMsPerStep = median(perStep);
    note(`bullmq chain of ${opts.chainLength}: ${chainMsPerStep.toFixed(2)} ms per step`);

    const parent = (name: string, children: number): FlowJob => ({
      name,
      queueName,
      children: Array.from({ length: children }, (_, i) => ({ name: `${name}-c${i}`, queueName })),
    });
    const wideMs = await measure([parent('wide', opts.width)], opts.width + 1);
    const wideStepsPerSec = ((opts.width + 1) / wideMs) * 1000;
    note(`bullmq parent + ${opts.width} children: ${Math.round(wideStepsPerSec)} steps/s`);

    const flows = Array.from({ length: opts.flows }, (_, i) => parent(`flow${i}`, opts.flowSize - 1));
    const concMs = await measure(flows, opts.flows * opts.flowSize);
    const concurrentStepsPerSec = ((opts.flows * opts.flowSize) / concMs) * 1000;
    note(`bullmq ${opts.flows} flows × ${opts.flowSize}: ${Math.round(concurrentStepsPerSec)} steps/s`);
    return { chainMsPerStep, wideStepsPerSec, concurrentStepsPerSec };
  } finally {
    await worker.close();
    await producer.close();
    await queue.obliterate({ force: true }).catch((err: Error) => note(`bullmq obliterate: ${err.message}`));
    await queue.close();
  }
}
