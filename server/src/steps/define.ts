import type { z } from 'zod';

/** Thrown by a handler to fail its step at once, with no retry, whatever the step's policy. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** What a step handler gets to work with. */
export interface StepContext<With> {
  /** The step's `with`, parsed by the type's input schema. */
  with: With;
  /** The run's input. */
  input: unknown;
  /** Outputs of the steps this step needs, by step id. */
  steps: Record<string, { output: unknown }>;
  /** This attempt's number: 1 for the first, counting on across retries and `retryRun`. */
  attempt: number;
  runId: string;
  stepId: string;
  /** Fires when the run is cancelled or the step's `timeoutMs` passes. Handlers should stop. */
  signal: AbortSignal;
  /** Report progress (0..1) with an optional message; throttled, so call it as often as you like. */
  progress(fraction: number, message?: string): void;
  /** Append a line to the step's log. */
  log(line: string): void;
}

export interface StepType<Schema extends z.ZodType = z.ZodType> {
  type: string;
  /** Schema of the step's `with`; checked when a workflow is registered and again before each run. */
  input: Schema;
  /** Short human description, shown in the API (`stepTypes`). */
  description?: string;
  /**
   * `task` (default) runs `run` on a worker. `approval` never occupies a worker: the step waits
   * (WAITING) until `approveStep` decides it.
   */
  kind?: 'task' | 'approval';
  run(ctx: StepContext<z.infer<Schema>>): Promise<unknown> | unknown;
}

/** Declare a step type. Users export these from the module named by `STEP_TYPES_MODULE`. */
export function defineStep<Schema extends z.ZodType>(def: StepType<Schema>): StepType<Schema> {
  if (!/^[a-z][a-z0-9_.-]{0,62}$/i.test(def.type)) {
    throw new Error(`step type name "${def.type}" must be a letter then letters, digits, _ . or -`);
  }
  return def;
}
