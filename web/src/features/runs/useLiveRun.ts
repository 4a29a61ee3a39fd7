import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { graphql } from '../../graphql';
import type { RunEventFieldsFragment, RunStepsQuery as RunStepsResult } from '../../graphql/graphql';
import { reduceRunEvents, type LiveRun, type LiveStep, type StepStatus } from './runState';
import { useRunEvents } from './useRunEvents';

/** Everything the graph and the timeline draw, for every step of the run. */
const RunStepsQuery = graphql(`
  query RunSteps($id: ID!) {
    run(id: $id) {
      id
      status
      lastSeq
      steps {
        id
        stepId
        type
        status
        attempt
        maxAttempts
        progress
        progressMessage
        needs
        queuedAt
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
  live: LiveRun | null;
  snapshot: SnapshotRun | null;
  notFound: boolean;
  error: CombinedError | null;
  events: RunEventFieldsFragment[];
  connection: ReturnType<typeof useRunEvents>['connection'];
  streamError: ReturnType<typeof useRunEvents>['error'];
  /** Bumped per applied batch, by step: lets the drawer refetch logs on its step's events. */
  stepTicks: Record<string, number>;
  refetch: () => void;
}

/**
 * A run's steps, live: one snapshot query, then the event stream applied through the pure
 * reducer once per animation frame. The snapshot is refetched when the reducer asks (retry,
 * repair, an unknown step) and when the run settles, and buffered events are re-applied on top.
 */
export function useLiveRun(runId: string): LiveRunState {
  const client = useClient();
  const [snapshot, setSnapshot] = useState<SnapshotRun | null>(null);
  const [live, setLive] = useState<LiveRun | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<CombinedError | null>(null);
  const [events, setEvents] = useState<RunEventFieldsFragment[]>([]);
  const [startSeq, setStartSeq] = useState<number | null>(null);
  const [stepTicks, setStepTicks] = useState<Record<string, number>>({});
  const buffer = useRef<RunEventFieldsFragment[]>([]);
  const loading = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const load = useCallback((): Promise<void> => {
    if (loading.current) {
      again.current = true;
      return loading.current;
    }
    const p = client
      .query(RunStepsQuery, { id: runId }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((res) => {
        setError(res.error ?? null);
        const run = res.data?.run;
        if (res.data && !run) setNotFound(true);
        if (!run) return;
        setSnapshot(run);
        setLive((prev) => {
          const next = reduceRunEvents(toLive(run), buffer.current);
          // The newest run-status event wins over a snapshot that is not newer than it: a snapshot
          // read at seq N has been seen to still say RUNNING after RUN_SUCCEEDED (seq N).
          const lastRunEvent = [...buffer.current].reverse().find((e) => e.type.startsWith('RUN_') && e.status);
          if (prev && lastRunEvent && lastRunEvent.seq <= next.lastSeq && lastRunEvent.seq >= run.lastSeq && prev.status !== next.status) {
            return { ...next, status: prev.status };
          }
          return next;
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
  }, [client, runId]);

  useEffect(() => {
    buffer.current = [];
    setSnapshot(null);
    setLive(null);
    setEvents([]);
    setStartSeq(null);
    setNotFound(false);
    void load();
  }, [load]);

  const onEvents = useCallback((batch: RunEventFieldsFragment[]) => {
    buffer.current = buffer.current.concat(batch);
    if (buffer.current.length > KEEP_EVENTS) buffer.current = buffer.current.slice(-KEEP_EVENTS);
    setLive((prev) => (prev ? reduceRunEvents(prev, batch) : prev));
    setEvents((prev) => {
      const next = prev.concat(batch);
      return next.length > 1000 ? next.slice(-1000) : next;
    });
    setStepTicks((prev) => {
      const next = { ...prev };
      for (const e of batch) if (e.stepId) next[e.stepId] = (next[e.stepId] ?? 0) + 1;
      return next;
    });
  }, []);

  // Big runs: every applied batch re-processes thousands of nodes in React Flow, so batch more.
  const big = (snapshot?.steps.length ?? 0) > BIG_RUN;
  const stream = useRunEvents(runId, startSeq, onEvents, big ? 250 : 0);

  // Refetch when the reducer cannot tell the whole story, and when the run settles (attempts).
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
    live,
    snapshot,
    notFound,
    error,
    events,
    connection: stream.connection,
    streamError: stream.error,
    stepTicks,
    refetch: () => void load(),
  };
}
