import { z } from 'zod';
import { defineStep, PermanentError } from './define.js';

export const failStep = defineStep({
  type: 'fail',
  description: 'Fails its first `times` attempts (always, without `times`); `permanent` fails without retries.',
  input: z
    .object({
      times: z.number().int().min(0).optional(),
      permanent: z.boolean().optional(),
      message: z.string().max(2000).optional(),
    })
    .strict()
    .optional()
    .default({}),
  run(ctx) {
    const { times, permanent, message } = ctx.with;
    if (times === undefined || ctx.attempt <= times) {
      const text = message ?? `fail step: attempt ${ctx.attempt}${times === undefined ? '' : ` of ${times} failing`}`;
      throw permanent ? new PermanentError(text) : new Error(text);
    }
    return { attempt: ctx.attempt };
  },
});
