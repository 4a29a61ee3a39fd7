/**
 * User step types for Skein: run with STEP_TYPES_MODULE=./examples/step-types.ts.
 * Every export made with defineStep becomes a step type, usable in any workflow.
 */
import { z } from 'zod';
import { defineStep, PermanentError } from '@skein/server/steps';

/** Counts the words of a text, reporting progress and logging as it goes. */
export const wordCount = defineStep({
  type: 'word-count',
  description: 'Counts words in `text` (or in the output of the step named by `fromStep`).',
  input: z.object({ text: z.string().optional(), fromStep: z.string().optional() }).strict(),
  async run(ctx) {
    const source = ctx.with.fromStep ? ctx.steps[ctx.with.fromStep]?.output : ctx.with.text;
    if (typeof source !== 'string') throw new PermanentError('nothing to count: give `text` or a `fromStep` whose output is a string');
    const words = source.split(/\s+/).filter(Boolean);
    const counts: Record<string, number> = {};
    for (const [i, w] of words.entries()) {
      ctx.signal.throwIfAborted();
      counts[w.toLowerCase()] = (counts[w.toLowerCase()] ?? 0) + 1;
      if (i % 1000 === 0) ctx.progress(i / words.length, `${i} of ${words.length} words`);
    }
    ctx.log(`counted ${words.length} words, ${Object.keys(counts).length} distinct`);
    return { total: words.length, distinct: Object.keys(counts).length };
  },
});
