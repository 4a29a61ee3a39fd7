import jsonata from 'jsonata';
import { z } from 'zod';
import { defineStep, PermanentError } from './define.js';

export const transformStep = defineStep({
  type: 'transform',
  description: 'Evaluates a JSONata expression over { input, steps }.',
  input: z
    .object({
      expression: z.string().min(1).superRefine((expr, ctx) => {
        try {
          jsonata(expr);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `does not parse: ${(err as Error).message}` });
        }
      }),
    })
    .strict(),
  async run(ctx) {
    try {
      const value: unknown = await jsonata(ctx.with.expression).evaluate({ input: ctx.input, steps: ctx.steps });
      return value === undefined ? null : value;
    } catch (err) {
      throw new PermanentError(`expression failed: ${(err as Error).message}`);
    }
  },
});
