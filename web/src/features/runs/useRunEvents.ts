import { print } from 'graphql';
import { useEffect, useRef, useState } from 'react';
import { manualSseClient } from '../../app/sse';
import { graphql } from '../../graphql';
import type { RunEventFieldsFragment } from '../../graphql/graphql';

export const RunEventFields = graphql(`
  fragment RunEventFields on RunEvent {
    seq
    type
    stepId
    status
    progress
    attempt
    message
    actor
    at
    data
  }
`);

const RunEventsSubscription = graphql(`
  subscription RunEvents($runId: ID!, $afterSeq: Int) {
    runEvents(runId: $runId, afterSeq: $afterSeq) {
      ...RunEventFields
    }
  }
`);

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'failed';

export interface StreamError {
  message: string;
  code?: string;
}

const QUERY = print(RunEventsSubscription);

/**
 * The run's event stream. Keeps the last seq seen; when the stream breaks (or a seq is skipped)
 * it resubscribes with afterSeq = that seq, so the server replays exactly what was missed.
 * `onEvents` receives events in seq order, each once, batched per animation frame.
 */
export function useRunEvents(
  runId: string,
  afterSeq: number | null,
  onEvents: (events: RunEventFieldsFragment[]) => void,
  /** Apply batches at most this often (0: every animation frame). */
  minIntervalMs = 0,
): { connection: Connection; error: StreamError | null; lastSeq: number | null } {
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<StreamError | null>(null);
  const [lastSeq, setLastSeq] = useState<number | null>(null);
  const handler = useRef(onEvents);
  handler.current = onEvents;

  useEffect(() => {
    if (afterSeq == null) return;
    let last = afterSeq;
    let disposed = false;
    let unsubscribe: (() => void) | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let pending: RunEventFieldsFragment[] = [];
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastFlush = 0;

    const schedule = () => {
      if (frame || timer) return;
      const wait = lastFlush + minIntervalMs - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(flush);
      else
        timer = setTimeout(() => {
          timer = undefined;
          frame = requestAnimationFrame(flush);
        }, wait);
    };

    const flush = () => {
      frame = 0;
      lastFlush = performance.now();
      if (disposed || pending.length === 0) return;
      const batch = pending;
      pending = [];
      setLastSeq(batch[batch.length - 1].seq);
      handler.current(batch);
    };

    const reconnect = () => {
      unsubscribe?.();
      unsubscribe = undefined;
      if (disposed || retryTimer) return;
      setConnection('reconnecting');
      const delay = Math.min(5000, 250 * 2 ** failures++);
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect();
      }, delay);
    };

    const connect = () => {
      if (disposed) return;
      let broken = false;
      unsubscribe = manualSseClient().subscribe<{ runEvents: RunEventFieldsFragment }>(
        { query: QUERY, variables: { runId, afterSeq: last } },
        {
          next: (result) => {
            if (broken || disposed) return;
            if (result.errors?.length) {
              const e = result.errors[0];
              const code = e.extensions && typeof e.extensions.code === 'string' ? e.extensions.code : undefined;
              setError({ message: e.message, code });
              setConnection('failed');
              broken = true;
              unsubscribe?.();
              return;
            }
            const event = result.data?.runEvents;
            if (!event || event.seq <= last) return;
            if (event.seq !== last + 1) {
              // A gap: never apply out of order; replay from the last seq we have.
              broken = true;
              reconnect();
              return;
            }
            last = event.seq;
            failures = 0;
            pending.push(event);
            schedule();
          },
          error: (err: unknown) => {
            if (broken || disposed) return;
            broken = true;
            if (err instanceof Error) setError({ message: err.message, code: 'NETWORK_ERROR' });
            reconnect();
          },
          complete: () => {
            if (broken || disposed) return;
            broken = true;
            reconnect();
          },
        },
        {
          connected: () => {
            if (disposed) return;
            setConnection('live');
            setError(null);
          },
        },
      );
    };

    setConnection('connecting');
    connect();
    return () => {
      disposed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (frame) cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
      unsubscribe?.();
    };
  }, [runId, afterSeq, minIntervalMs]);

  return { connection, error, lastSeq };
}
