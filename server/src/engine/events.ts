import type { Tx } from '../db/tx.js';
import type { Bus, RunEventMessage } from '../pubsub.js';
import { runTopic } from '../pubsub.js';
import { jsonb } from './sql.js';

/** Event types: run-level `RUN_*`, step-level `STEP_*`. */
export type RunEventType =
  | 'RUN_CREATED' | 'RUN_STARTED' | 'RUN_PAUSING' | 'RUN_PAUSED' | 'RUN_RESUMED' | 'RUN_CANCELLING'
  | 'RUN_CANCELLED' | 'RUN_RETRIED' | 'RUN_SUCCEEDED' | 'RUN_FAILED' | 'RUN_REPAIRED'
  | 'STEP_QUEUED' | 'STEP_STARTED' | 'STEP_PROGRESS' | 'STEP_SUCCEEDED' | 'STEP_FAILED' | 'STEP_RETRYING'
  | 'STEP_SKIPPED' | 'STEP_WAITING' | 'STEP_APPROVED' | 'STEP_REJECTED' | 'STEP_CANCELLED' | 'STEP_RESET';

export interface NewEvent {
  type: RunEventType;
  stepId?: string | null;
  status?: string | null;
  progress?: number | null;
  attempt?: number | null;
  message?: string | null;
  actor?: string | null;
  data?: unknown;
}

/**
 * Collects the events of one transaction for one run, then stores them with gapless `seq`s in a
 * single statement and publishes them once the transaction has committed.
 */
export class EventBatch {
  private readonly pending: NewEvent[] = [];
  statusChanged = false;

  constructor(readonly runId: string) {}

  add(event: NewEvent): void {
    this.pending.push(event);
    if (event.type.startsWith('RUN_') || event.status) this.statusChanged = true;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Store (seq allocated from runs.last_seq under the run's row lock) and publish after commit. */
  flush(tx: Tx, bus: Bus, runStatus: () => string, stepsDoneDelta = 0): void {
    flushEvents(tx, bus, [{ batch: this, runStatus, stepsDoneDelta }]);
  }

  /** Take the pending events (flushEvents stores them). */
  take(): NewEvent[] {
    return this.pending.splice(0);
  }
}

export interface FlushItem {
  batch: EventBatch;
  runStatus: () => string;
  /** Steps that ended in this transaction: added to runs.steps_done. */
  stepsDoneDelta: number;
}

/**
 * Store the events of several runs (whose rows the transaction has locked) in one statement: each
 * run's `last_seq` and `steps_done` are bumped and its events get the next gapless seqs. They are
 * published once the transaction has committed. The statement is not waited for here: it goes out
 * with the COMMIT (see `Tx`), and a failure fails the transaction.
 */
export function flushEvents(tx: Tx, bus: Bus, items: FlushItem[]): void {
  const live = items.filter((i) => i.batch.size > 0 || i.stepsDoneDelta !== 0);
  if (live.length === 0) return;
  const taken = new Map(live.map((i) => [i.batch, i.batch.take()]));
  const all = live.flatMap((i) => taken.get(i.batch)!.map((e, n) => ({ runId: i.batch.runId, ord: n + 1, e })));
  const stored = tx.query<{ run_id: string; seq: number; at: Date }>(
    `WITH bump AS (
       UPDATE runs r SET last_seq = r.last_seq + b.n, steps_done = r.steps_done + b.done, updated_at = now()
       FROM unnest($1::uuid[], $2::int[], $3::int[]) AS b(id, n, done)
       WHERE r.id = b.id RETURNING r.id, r.last_seq, b.n
     )
     INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, data, at)
     SELECT e.run_id, bump.last_seq - bump.n + e.ord, e.type, e.step_id, e.status, e.progress, e.attempt,
            e.message, e.actor, e.data, clock_timestamp()
     FROM unnest($4::uuid[], $5::int[], $6::text[], $7::text[], $8::text[], $9::real[], $10::int[], $11::text[], $12::text[], $13::jsonb[])
          AS e(run_id, ord, type, step_id, status, progress, attempt, message, actor, data)
     JOIN bump ON bump.id = e.run_id
     RETURNING run_id, seq, at`,
    [
      live.map((i) => i.batch.runId),
      live.map((i) => taken.get(i.batch)!.length),
      live.map((i) => i.stepsDoneDelta),
      all.map((x) => x.runId),
      all.map((x) => x.ord),
      all.map((x) => x.e.type),
      all.map((x) => x.e.stepId ?? null),
      all.map((x) => x.e.status ?? null),
      all.map((x) => x.e.progress ?? null),
      all.map((x) => x.e.attempt ?? null),
      all.map((x) => (x.e.message == null ? null : String(x.e.message).slice(0, 4000))),
      all.map((x) => x.e.actor ?? null),
      all.map((x) => (x.e.data === undefined ? null : jsonb(x.e.data))),
    ],
    'skein_flush_events',
  );
  const changed = new Set(live.filter((i) => i.batch.statusChanged).map((i) => i.batch));
  // After the commit the statement has answered; publish every run's events with their seqs.
  tx.afterCommit(() => {
    void stored.then((rows) => {
      const byRun = new Map<string, { seq: number; at: Date }[]>();
      for (const r of rows) {
        const list = byRun.get(r.run_id) ?? [];
        list.push(r);
        byRun.set(r.run_id, list);
      }
      for (const item of live) {
        const events = taken.get(item.batch)!;
        if (!events.length) continue;
        const seqs = byRun.get(item.batch.runId)!.sort((a, b) => a.seq - b.seq);
        const runId = item.batch.runId;
        const messages: RunEventMessage[] = events.map((e, i) => ({
          runId,
          seq: seqs[i].seq,
          type: e.type,
          stepId: e.stepId ?? null,
          status: e.status ?? null,
          progress: e.progress ?? null,
          attempt: e.attempt ?? null,
          message: e.message ?? null,
          actor: e.actor ?? null,
          data: e.data ?? null,
          at: new Date(seqs[i].at).toISOString(),
        }));
        void bus.publish(runTopic(runId), { events: messages });
        if (changed.has(item.batch)) void bus.publish('runs', { runId, status: item.runStatus() });
      }
    });
  });
}
