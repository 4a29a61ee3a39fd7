import { z } from 'zod';
import { defineStep } from './define.js';

/** Never runs on a worker: the engine holds the step WAITING until `approveStep` decides it. */
export const approvalStep = defineStep({
  type: 'approval',
  kind: 'approval',
  description: 'Waits for a person: approveStep(approved, comment). Rejection fails the step permanently.',
  input: z.object({ prompt: z.string().min(1).max(2000) }).strict(),
  run: () => {
    throw new Error('approval steps are decided by approveStep, never run by a worker');
  },
});
