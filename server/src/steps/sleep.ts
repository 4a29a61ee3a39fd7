import { z } from 'zod';
import { defineStep } from './define.js';

export const sleepStep = defineStep({
  type: 'sleep',
  description: 'Waits `ms` milliseconds, reporting progress; stops early when cancelled.',
  input: z.object({ ms: z.number().int().min(0).max(7 * 24 * 3600 * 1000) }).strict(),
  async run(ctx) {
    const total = ctx.with.ms;
    const started = Date.now();
    const tick = Math.max(50, Math.min(1000, Math.floor(total / 20)));
    while (Date.now() - started < total) {
      ctx.signal.throwIfAborted();
      const left = total - (Date.now() - started);
      await waitOrAbort(Math.min(tick, left), ctx.signal);
      ctx.progress(Math.min(1, (Date.now() - started) / Math.max(total, 1)), `slept ${Date.now() - started} ms`);
    }
    return { sleptMs: total };
  },
});

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
