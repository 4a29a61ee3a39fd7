// The BullMQ peer baseline. Lives in its own package (bench/peers, installed by `npm run bench`)
// so that the project's install and typecheck never need BullMQ.
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, Worker, type FlowJob } from 'bullmq';
import { CONCURRENCY, median, note, now } from '../lib.js';
import type { BullmqResult } from '../baselines.js';

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
