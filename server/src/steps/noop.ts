import { z } from 'zod';
import { defineStep } from './define.js';

export const noopStep = defineStep({
  type: 'noop',
  description: 'Does nothing; output null.',
  input: z.object({}).strict().optional().default({}),
  run: () => null,
});
