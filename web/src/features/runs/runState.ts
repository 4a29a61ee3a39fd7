/**
 * Live run state: a snapshot from the `run` query, advanced by `runEvents` through a pure reducer.
 * Events carry a gapless per-run `seq`; an event at or below the state's `lastSeq` is already in it.
 */

export type StepStatus =
  | 'PENDING' | 'QUEUED' | 'RUNNING' | 'RETRYING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';

export type RunStatus = 'QUEUED' | 'RUNNING' | 'PAUSING' | 'PAUSED' | 'CANCELLING' | 'CANCELLED' | 'SUCCEEDED' | 'FAILED';

export interface LiveStep {
  stepId: string;
  type: string;
  status: StepStatus;
  attempt: number;
  maxAttempts: number;
  progress: number;
  progressMessage?: string | null;
  needs: string[];
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface LiveRun {
  runId: string;
  status: RunStatus;
  lastSeq: number;
  steps: Record<string, LiveStep>;
  /** Bumped when something happened that the snapshot must be refetched for (retry, repair). */
  needsRefetch: boolean;
}

export interface LiveEvent {
  seq: number;
  type: string;
  stepId?: string | null;
  status?: string | null;
  progress?: number | null;
  attempt?: number | null;
  message?: string | null;
  at: string;
}

const STEP_STATUSES = new Set<string>(['PENDING', 'QUEUED', 'RUNNING', 'RETRYING', 'WAITING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);
const RUN_STATUSES = new Set<string>(['QUEUED', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING', 'CANCELLED', 'SUCCEEDED', 'FAILED']);
const STEP_ENDED = new Set<StepStatus>(['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);

export function isStepEnded(status: StepStatus): boolean {
  return STEP_ENDED.has(status);
}

function applyStepEvent(step: LiveStep, e: LiveEvent): LiveStep {
  const next: LiveStep = { ...step };
  if (e.status && STEP_STATUSES.has(e.status)) next.status = e.status as StepStatus;
  if (e.attempt != null) next.attempt = Math.max(next.attempt, e.attempt);
  switch (e.type) {
    case 'STEP_QUEUED':
    case 'STEP_RESET':
      next.progress = 0;
      next.progressMessage = null;
      next.finishedAt = null;
      break;
    case 'STEP_STARTED':
      next.progress = 0;
      next.progressMessage = null;
      next.startedAt = e.at;
      next.finishedAt = null;
      break;
    case 'STEP_PROGRESS':
      if (e.progress != null) next.progress = e.progress;
      if (e.message != null) next.progressMessage = e.message;
      break;
    case 'STEP_WAITING':
      next.startedAt = e.at;
      next.finishedAt = null;
      break;
    default:
      if (e.progress != null) next.progress = e.progress;
  }
  if (e.type === 'STEP_SUCCEEDED' || e.type === 'STEP_APPROVED') next.progress = 1;
  if (STEP_ENDED.has(next.status) && e.status) next.finishedAt = e.at;
  return next;
}

/** Applies one event; returns the same object when the event is already in the state. */
export function reduceRunEvent(state: LiveRun, e: LiveEvent): LiveRun {
  if (e.seq <= state.lastSeq) return state;
  let { status, steps, needsRefetch } = state;
  if (e.stepId) {
    const step = steps[e.stepId];
    if (step) steps = { ...steps, [e.stepId]: applyStepEvent(step, e) };
    else needsRefetch = true; // a step we do not know: the snapshot is stale
  } else if (e.type.startsWith('RUN_') && e.status && RUN_STATUSES.has(e.status)) {
    status = e.status as RunStatus;
  }
  if (e.type === 'RUN_RETRIED' || e.type === 'RUN_REPAIRED') needsRefetch = true;
  return { ...state, status, steps, lastSeq: e.seq, needsRefetch };
}

/**
 * Applies a batch (one animation frame's worth). Copies the steps map once, not per event, so
 * hundreds of events per frame stay cheap on a 2,000-step run.
 */
export function reduceRunEvents(state: LiveRun, events: readonly LiveEvent[]): LiveRun {
  const fresh = events.filter((e) => e.seq > state.lastSeq);
  if (fresh.length === 0) return state;
  const steps = { ...state.steps };
  let working: LiveRun = { ...state, steps };
  for (const e of [...fresh].sort((a, b) => a.seq - b.seq)) {
    if (e.seq <= working.lastSeq) continue;
    if (e.stepId && steps[e.stepId]) {
      steps[e.stepId] = applyStepEvent(steps[e.stepId], e);
      working = { ...working, lastSeq: e.seq, steps };
      if (e.type === 'RUN_REPAIRED') working.needsRefetch = true;
    } else {
      working = reduceRunEvent({ ...working, steps }, e);
    }
  }
  return working;
}

export interface Counts {
  total: number;
  done: number;
  byStatus: Partial<Record<StepStatus, number>>;
}

export function countSteps(run: LiveRun): Counts {
  const byStatus: Counts['byStatus'] = {};
  let done = 0;
  const all = Object.values(run.steps);
  for (const s of all) {
    byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    if (STEP_ENDED.has(s.status)) done++;
  }
  return { total: all.length, done, byStatus };
}
