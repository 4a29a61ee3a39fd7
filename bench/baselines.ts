// Baselines measured in the same run: the substrate (raw pg-boss 10) and a peer (BullMQ 6 flows).
import PgBoss from 'pg-boss';
import { benchDatabaseUrl, createDatabase, dropDatabase, note, now, sleep } from './lib.js';

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
 * BullMQ 6 FlowProducer on the same shapes (see peers/bullmq.ts). Loaded at run time from the
 * bench's own package, so nothing else in the project depends on BullMQ.
 */
export async function bullmqBaseline(opts: { chainLength: number; chainRepeats: number; width: number; flows: number; flowSize: number }): Promise<BullmqResult> {
  const specifier = './peers/bullmq.ts';
  const peer = (await import(specifier)) as { bullmqBaseline: (o: typeof opts) => Promise<BullmqResult> };
  return peer.bullmqBaseline(opts);
}
