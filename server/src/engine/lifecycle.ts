import type { RunStatus } from '../db/models/run.js';
import { illegalTransition } from '../errors.js';

/** Run actions and the statuses each may start from (PRODUCT.md, "Lifecycles"). */
const RUN_ACTIONS = {
  pause: ['QUEUED', 'RUNNING'],
  resume: ['PAUSED', 'PAUSING'],
  cancel: ['QUEUED', 'RUNNING', 'PAUSING', 'PAUSED'],
  retry: ['FAILED', 'CANCELLED'],
} as const satisfies Record<string, readonly RunStatus[]>;

export type RunAction = keyof typeof RUN_ACTIONS;

export function canRun(action: RunAction, status: RunStatus): boolean {
  return (RUN_ACTIONS[action] as readonly RunStatus[]).includes(status);
}

/** The actions that are legal for a run now: the UI enables exactly these buttons. */
export function allowedRunActions(status: RunStatus): RunAction[] {
  return (Object.keys(RUN_ACTIONS) as RunAction[]).filter((a) => canRun(a, status));
}

const HINTS: Partial<Record<RunAction, string>> = {
  pause: 'only a queued or running run can be paused',
  resume: 'only a paused or pausing run can be resumed',
  cancel: 'the run has already ended',
  retry: 'only a failed or cancelled run can be retried',
};

export function assertRunTransition(run: { id: string; status: RunStatus }, action: RunAction): void {
  if (!canRun(action, run.status)) throw illegalTransition(`run ${run.id}`, action, run.status, HINTS[action]);
}
