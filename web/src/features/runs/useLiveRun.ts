import { useCallback, useEffect, useRef, useState } from 'react';
import type { CombinedError } from 'urql';
import { plainClient } from '../../app/client';
import { graphql } from '../../graphql';
import type { RunEventFieldsFragment, RunStepsQuery as RunStepsResult } from '../../graphql/graphql';
import { reduceRunEvents, type LiveRun, type LiveStep, type StepStatus } from './runState';
import { RunStore, useLiveRunState } from './runStore';
import { useRunEvents } from './useRunEvents';

/**
 * Everything the graph and the timeline draw, for every step of the run, and nothing more: on a
 * 2,000-step run each field is 2,000 values to send and parse.
 */
const RunStepsQuery = graphql(`
  query RunSteps($id: ID!) {
    run(id: $id) {
      id
      status
      lastSeq
      steps {
        stepId
        type
        status
        attempt
        maxAttempts
        progress
        progressMessage
        needs
        startedAt
        finishedAt
        attempts {
          attempt
          status
          startedAt
          finishedAt
          error {
            message
            code
          }
        }
      }
    }
  }
`);

export type SnapshotRun = NonNullable<RunStepsResult['run']>;
export type SnapshotStep = SnapshotRun['steps'][number];

/** Events kept for re-basing a refetched snapshot and for the event log. */
const KEEP_EVENTS = 5000;
/** How far back the event log starts when the page opens. */
const LOG_HISTORY = 300;
/** Above this many steps, events are applied at most four times a second. */
const BIG_RUN = 300;
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'PAUSED']);

function toLive(run: SnapshotRun): LiveRun {
  const steps: Record<string, LiveStep> = {};
  for (const s of run.steps) {
    steps[s.stepId] = {
      stepId: s.stepId,
      type: s.type,
      status: s.status as StepStatus,
      attempt: s.attempt,
      maxAttempts: s.maxAttempts,
      progress: s.progress,
      progressMessage: s.progressMessage,
      needs: s.needs,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
    };
  }
  return { runId: run.id, status: run.status, lastSeq: run.lastSeq, steps, needsRefetch: false };
}

export interface LiveRunState {
  /** The steps, live: nodes, the drawer and the summary subscribe to what they show. */
  store: RunStore;
  /** The snapshot last read (finished attempts for the timeline); null until the first read. */
  snapshot: SnapshotRun | null;
  notFound: boolean;
  error: CombinedError | null;
  events: RunEventFieldsFragment[];
  connection: ReturnType<typeof useRunEvents>['connection'];
  streamError: ReturnType<typeof useRunEvents>['error'];
  refetch: () => void;
}

/**
 * A run's steps, live: one snapshot query (outside the normalised cache), then the event stream
 * applied through the pure reducer into a RunStore, in batches. The snapshot is refetched when the
 * reducer asks (retry, repair, an unknown step) and when the run settles, and buffered events are
 * re-applied on top.
 */
export function useLiveRun(runId: string): LiveRunState {
  const [store] = useState(() => new RunStore());
  const [snapshot, setSnapshot] = useState<SnapshotRun | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<CombinedError | null>(null);
  const [events, setEvents] = useState<RunEventFieldsFragment[]>([]);
  const [startSeq, setStartSeq] = useState<number | null>(null);
  const buffer = useRef<RunEventFieldsFragment[]>([]);
  const loading = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const load = useCallback((): Promise<void> => {
    if (loading.current) {
      again.current = true;
      return loading.current;
    }
    const p = plainClient()
      .query(RunStepsQuery, { id: runId })
      .toPromise()
      .then((res) => {
        setError(res.error ?? null);
        const run = res.data?.run;
        if (res.data && !run) setNotFound(true);
        if (!run) return;
        performance.mark('skein:snapshot', { detail: { steps: run.steps.length } });
        setSnapshot(run);
        store.update((prev) => {
          const next = reduceRunEvents(toLive(run), buffer.current);
          // The newest run-status event wins over a snapshot that is not newer than it: a snapshot
          // read at seq N has been seen to still say RUNNING after RUN_SUCCEEDED (seq N).
          const lastRunEvent = [...buffer.current].reverse().find((e) => e.type.startsWith('RUN_') && e.status);
          if (prev && lastRunEvent && lastRunEvent.seq <= next.lastSeq && lastRunEvent.seq >= run.lastSeq && prev.status !== next.status) {
            return keepUnchanged(prev, { ...next, status: prev.status });
          }
          return keepUnchanged(prev, next);
        });
        setStartSeq((s) => s ?? Math.max(0, run.lastSeq - LOG_HISTORY));
      })
      .finally(() => {
        loading.current = null;
        if (again.current) {
          again.current = false;
          void load();
        }
      });
    loading.current = p;
    return p;
  }, [runId, store]);

  useEffect(() => {
    buffer.current = [];
    setSnapshot(null);
    store.set(null);
    setEvents([]);
    setStartSeq(null);
    setNotFound(false);
    void load();
  }, [load, store]);

  const onEvents = useCallback(
    (batch: RunEventFieldsFragment[]) => {
      buffer.current = buffer.current.concat(batch);
      if (buffer.current.length > KEEP_EVENTS) buffer.current = buffer.current.slice(-KEEP_EVENTS);
      store.update((prev) => (prev ? reduceRunEvents(prev, batch) : prev));
      setEvents((prev) => {
        const next = prev.concat(batch);
        return next.length > 1000 ? next.slice(-1000) : next;
      });
    },
    [store],
  );

  // Big runs: batch more, so the summary, timeline and event log repaint a few times a second.
  const big = (snapshot?.steps.length ?? 0) > BIG_RUN;
  const stream = useRunEvents(runId, startSeq, onEvents, big ? 250 : 0);

  // Refetch when the reducer cannot tell the whole story, and when the run settles (attempts).
  const live = useLiveRunState(store);
  const status = live?.status;
  const needsRefetch = live?.needsRefetch ?? false;
  useEffect(() => {
    if (needsRefetch) void load();
  }, [needsRefetch, load]);
  const settledOnce = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!status || !snapshot) return;
    if (ENDED.has(status) && snapshot.status !== status && settledOnce.current !== status) {
      settledOnce.current = status;
      void load();
    }
    if (!ENDED.has(status)) settledOnce.current = undefined;
  }, [status, snapshot, load]);

  return {
    store,
    snapshot,
    notFound,
    error,
    events,
    connection: stream.connection,
    streamError: stream.error,
    refetch: () => void load(),
  };
}

/**
 * A refetched snapshot rebuilds every step object; keep the old object where nothing changed, so
 * only the steps that did change re-render.
 */
function keepUnchanged(prev: LiveRun | null, next: LiveRun): LiveRun {
  if (!prev) return next;
  const steps: Record<string, LiveStep> = {};
  for (const [id, step] of Object.entries(next.steps)) {
    const old = prev.steps[id];
    steps[id] = old && sameStep(old, step) ? old : step;
  }
  return { ...next, steps };
}

function sameStep(a: LiveStep, b: LiveStep): boolean {
  return (
    a.status === b.status &&
    a.attempt === b.attempt &&
    a.maxAttempts === b.maxAttempts &&
    a.progress === b.progress &&
    a.progressMessage === b.progressMessage &&
    a.startedAt === b.startedAt &&
    a.finishedAt === b.finishedAt &&
    a.type === b.type &&
    a.needs.length === b.needs.length &&
    a.needs.every((n, i) => n === b.needs[i])
  );
}
