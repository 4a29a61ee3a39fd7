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
  async flush(tx: Tx, bus: Bus, runStatus: () => string, stepsDoneDelta = 0): Promise<RunEventMessage[]> {
    if (this.pending.length === 0) return [];
    const events = this.pending.splice(0);
    const rows = await tx.query<{ seq: number; at: Date }>(
      `WITH bump AS (
         UPDATE runs SET last_seq = last_seq + $2, steps_done = steps_done + $11, updated_at = now() WHERE id = $1 RETURNING last_seq
       )
       INSERT INTO run_events (run_id, seq, type, step_id, status, progress, attempt, message, actor, data, at)
       SELECT $1, (SELECT last_seq FROM bump) - $2 + e.ord, e.type, e.step_id, e.status, e.progress, e.attempt,
              e.message, e.actor, e.data, clock_timestamp()
       FROM unnest($3::text[], $4::text[], $5::text[], $6::real[], $7::int[], $8::text[], $9::text[], $10::jsonb[])
            WITH ORDINALITY AS e(type, step_id, status, progress, attempt, message, actor, data, ord)
       RETURNING seq, at`,
      [
        this.runId,
        events.length,
        events.map((e) => e.type),
        events.map((e) => e.stepId ?? null),
        events.map((e) => e.status ?? null),
        events.map((e) => e.progress ?? null),
        events.map((e) => e.attempt ?? null),
        events.map((e) => (e.message == null ? null : String(e.message).slice(0, 4000))),
        events.map((e) => e.actor ?? null),
        events.map((e) => (e.data === undefined ? null : jsonb(e.data))),
        stepsDoneDelta,
      ],
    );
    rows.sort((a, b) => a.seq - b.seq);
    const messages: RunEventMessage[] = events.map((e, i) => ({
      runId: this.runId,
      seq: rows[i].seq,
      type: e.type,
      stepId: e.stepId ?? null,
      status: e.status ?? null,
      progress: e.progress ?? null,
      attempt: e.attempt ?? null,
      message: e.message ?? null,
      actor: e.actor ?? null,
      data: e.data ?? null,
      at: new Date(rows[i].at).toISOString(),
    }));
    const changed = this.statusChanged;
    tx.afterCommit(() => {
      void bus.publish(runTopic(this.runId), { events: messages });
      if (changed) void bus.publish('runs', { runId: this.runId, status: runStatus() });
    });
    return messages;
  }
}
