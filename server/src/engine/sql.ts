import type { Tx } from '../db/tx.js';
import type { RunStatus } from '../db/models/run.js';
import type { AttemptRecord, StepError, StepStatus } from '../db/models/step-run.js';
import { STEP_QUEUE } from './queue.js';

/** The engine's hand-written SQL, in one place. Every function runs inside the caller's transaction. */

/**
 * JSON text for a jsonb column. Postgres refuses U+0000 in jsonb; a step that outputs it gets
 * U+FFFD instead of a failed write (which would otherwise be retried forever).
 */
export function jsonb(value: unknown): string {
  return JSON.stringify(value).replace(/\\u0000/g, '\\ufffd');
}

export interface RunRow {
  id: string;
  workflow_id: number;
  workflow_name: string;
  workflow_version: number;
  status: RunStatus;
  input: unknown;
  steps_total: number;
  steps_done: number;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepRow {
  id: string;
  run_id: string;
  step_id: string;
  type: string;
  status: StepStatus;
  needs: string[];
  needs_left: number;
  attempt: number;
  series_start: number;
  max_attempts: number;
  output: unknown;
  error: StepError | null;
  job_id: string | null;
  worker_id: string | null;
  started_at: Date | null;
}

export const STEP_COLUMNS = `id, run_id, step_id, type, status, needs, needs_left, attempt, series_start, max_attempts, output, error, job_id, worker_id, started_at`;

const RUN_COLUMNS = `id, workflow_id, workflow_name, workflow_version, status, input, steps_total, steps_done, started_at, finished_at`;

/** A column list with each column qualified by a table alias. */
const qualified = (columns: string, alias: string) => columns.split(', ').map((c) => `${alias}.${c}`).join(', ');

/**
 * Decrement `needs_left` by `d.n` for the rows `d` (run_id, step_id, n) of `source` (SQL naming `d`).
 * needs_left alone (no updated_at, which is indexed): a join's row is updated once per turn that
 * ends one of its needs, and this keeps those updates HOT (no new index entries).
 */
const releaseSql = (source: string) =>
  `UPDATE step_runs s SET needs_left = s.needs_left - d.n FROM ${source}
   WHERE s.run_id = d.run_id AND s.step_id = d.step_id
   RETURNING ${qualified(STEP_COLUMNS, 's')}`;

export async function lockRun(tx: Tx, runId: string): Promise<RunRow | undefined> {
  const rows = await tx.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 FOR UPDATE`,
    [runId],
    'skein_lock_run',
  );
  return rows[0];
}

/** Lock several runs in id order (the one order every multi-run transaction uses: no deadlock). */
export async function lockRuns(tx: Tx, runIds: string[]): Promise<RunRow[]> {
  if (runIds.length === 0) return [];
  return tx.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [runIds],
    'skein_lock_runs',
  );
}

/** Lock step rows (their runs are already locked by the caller). */
export async function lockSteps(tx: Tx, stepRunIds: string[]): Promise<Map<string, StepRow>> {
  if (stepRunIds.length === 0) return new Map();
  const rows = await tx.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [stepRunIds]);
  return new Map(rows.map((r) => [r.id, r]));
}

export async function lockStep(tx: Tx, stepRunId: string): Promise<StepRow | undefined> {
  return (await tx.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_runs WHERE id = $1 FOR UPDATE`, [stepRunId]))[0];
}

export async function stepByStepId(tx: Tx, runId: string, stepId: string): Promise<StepRow | undefined> {
  return (await tx.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_runs WHERE run_id = $1 AND step_id = $2 FOR UPDATE`, [runId, stepId]))[0];
}

export async function stepsWithStatus(tx: Tx, runId: string, statuses: StepStatus[]): Promise<StepRow[]> {
  return tx.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_runs WHERE run_id = $1 AND status = ANY($2) ORDER BY position`, [runId, statuses]);
}

export async function outputsOf(tx: Tx, runId: string, stepIds: string[]): Promise<Record<string, { output: unknown; status: string }>> {
  const rows = await outputsAcross(tx, stepIds.map((stepId) => ({ runId, stepId })));
  return Object.fromEntries(rows.map((r) => [r.step_id, { output: r.output, status: r.status }]));
}

export async function countRunning(tx: Tx, runId: string): Promise<number> {
  const [row] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1 AND status = 'RUNNING'`, [runId]);
  return row.n;
}

/**
 * Decrement `needs_left` of the dependents of steps that just ended, across runs, in one
 * statement; returns the PENDING ones now at zero.
 */
export async function releaseDependents(tx: Tx, items: { runId: string; stepId: string; n: number }[]): Promise<StepRow[]> {
  if (items.length === 0) return [];
  const rows = await tx.query<StepRow>(
    releaseSql(`unnest($1::uuid[], $2::text[], $3::int[]) AS d(run_id, step_id, n)`),
    [items.map((i) => i.runId), items.map((i) => i.stepId), items.map((i) => i.n)],
    'skein_release',
  );
  return rows.filter((r) => r.needs_left <= 0 && r.status === 'PENDING');
}

/** Outputs of (run, step) pairs across runs, for the inputs of claimed steps. */
export async function outputsAcross(tx: Tx, pairs: { runId: string; stepId: string }[]): Promise<{ run_id: string; step_id: string; output: unknown; status: string }[]> {
  if (pairs.length === 0) return [];
  return tx.query(
    `SELECT s.run_id, s.step_id, s.output, s.status FROM step_runs s
     JOIN unnest($1::uuid[], $2::text[]) AS p(run_id, step_id) ON s.run_id = p.run_id AND s.step_id = p.step_id`,
    [pairs.map((p) => p.runId), pairs.map((p) => p.stepId)],
    'skein_outputs_across',
  );
}

/** How an attempt ended, as one row of `finishSteps`. */
export interface FinishRow {
  id: string;
  /** Fencing: the row changes only while this attempt with this job is RUNNING. */
  attempt: number;
  jobId: string;
  status: StepStatus;
  ok: boolean;
  /** JSON text (see `jsonb`) of the output of a successful attempt. */
  output: string | null;
  /** JSON text of the error of a failed one. */
  error: string | null;
  finished: boolean;
  record: AttemptRecord;
  clearJob: boolean;
}

/**
 * Record the ends of many attempts in one statement: it fences (a row changes only while that
 * attempt with that job is RUNNING), completes the jobs of the rows it changed (pg-boss's own
 * completion, inlined) and releases the dependents of the steps that ended (`releases`: one item
 * per ending step and dependent; counted only for rows that changed). Returns the ids of the rows
 * it changed and the PENDING dependents whose needs have now all ended.
 */
export async function finishSteps(
  tx: Tx,
  rows: FinishRow[],
  releases: { fromId: string; runId: string; stepId: string }[] = [],
): Promise<{ changed: Set<string>; released: StepRow[] }> {
  if (rows.length === 0) return { changed: new Set(), released: [] };
  const result = await tx.query<StepRow & { changed: string[] | null }>(
    `WITH changed AS (
     UPDATE step_runs s SET status = f.status,
       output = CASE WHEN f.ok THEN f.output ELSE s.output END,
       error = CASE WHEN f.ok THEN s.error ELSE f.error END,
       progress = CASE WHEN f.ok THEN 1 ELSE s.progress END,
       finished_at = CASE WHEN f.finished THEN now() ELSE s.finished_at END,
       attempts = s.attempts || jsonb_build_array(f.record),
       job_id = CASE WHEN f.clear_job THEN NULL ELSE s.job_id END,
       worker_id = NULL, updated_at = now()
     FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::jsonb[], $5::jsonb[], $6::bool[], $7::jsonb[], $8::bool[], $9::int[], $10::uuid[])
          AS f(id, status, ok, output, error, finished, record, clear_job, attempt, job_id)
     WHERE s.id = f.id AND s.status = 'RUNNING' AND s.attempt = f.attempt AND s.job_id = f.job_id
     RETURNING s.id, f.job_id
     ), jobs AS (
       UPDATE pgboss.job SET completed_on = now(), state = 'completed'
       WHERE name = $11 AND id IN (SELECT job_id FROM changed) AND state = 'active'
     ), released AS (
       ${releaseSql(`(SELECT r.run_id, r.step_id, count(*)::int AS n
             FROM unnest($12::uuid[], $13::uuid[], $14::text[]) AS r(from_id, run_id, step_id)
             JOIN changed c ON c.id = r.from_id
             GROUP BY r.run_id, r.step_id) d`)}
     )
     SELECT ch.ids AS changed, r.* FROM (SELECT array_agg(id::text) AS ids FROM changed) ch
     LEFT JOIN (SELECT * FROM released WHERE needs_left <= 0 AND status = 'PENDING') r ON true`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.status),
      rows.map((r) => r.ok),
      rows.map((r) => r.output),
      rows.map((r) => r.error),
      rows.map((r) => r.finished),
      rows.map((r) => jsonb(r.record)),
      rows.map((r) => r.clearJob),
      rows.map((r) => r.attempt),
      rows.map((r) => r.jobId),
      STEP_QUEUE,
      releases.map((r) => r.fromId),
      releases.map((r) => r.runId),
      releases.map((r) => r.stepId),
    ],
    'skein_finish',
  );
  return {
    changed: new Set(result[0]?.changed ?? []),
    released: result.filter((r) => r.id !== null).map(({ changed: _, ...step }) => step),
  };
}

/** Skip steps, each with its reason, in one statement. */
export async function skipSteps(tx: Tx, rows: { id: string; reason: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE step_runs s SET status = 'SKIPPED', skip_reason = k.reason, finished_at = now(), updated_at = now()
     FROM unnest($1::uuid[], $2::text[]) AS k(id, reason) WHERE s.id = k.id`,
    [rows.map((r) => r.id), rows.map((r) => r.reason)],
  );
}

/** A UUID from job data, or NULL when it is not one (a malformed payload must not fail the turn). */
const uuidOf = (expr: string) =>
  `CASE WHEN ${expr} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (${expr})::uuid END`;

/** A job claimed by `claimAndStart`: its run (locked), and its step if the step started. */
export interface ClaimedJob {
  job_id: string;
  /** No run by that id (or no id at all): the job was completed at once, as dropped. */
  dropped: boolean;
  run: RunRow;
  /** The step it started; null when the step had moved on or the run is not live. */
  step: StartedStep | null;
}

/**
 * Claim up to `limit` queued step jobs for a worker and start their steps, in one statement.
 *
 * Jobs are taken oldest start time first, in the order of pg-boss's own index on (name,
 * start_after) for queued jobs (pg-boss's fetch orders by priority first, which Skein never sets,
 * and sorted the whole queue on every fetch). Each job's run row is locked with it, and a job whose
 * run another transaction holds is left queued, like a job another worker is claiming: this
 * statement never waits for a lock, so it may come after the turn has locked other runs without
 * risk of deadlock. A step starts only while it is still QUEUED or RETRYING with this very job and
 * its run is QUEUED or RUNNING (fencing); the other claimed jobs come back without a step, for the
 * caller to complete. A job that names no existing run is completed here, as dropped. `skipped`
 * counts the jobs left queued because their run was held elsewhere (worth another try soon).
 */
export async function claimAndStart(tx: Tx, workerId: string, limit: number): Promise<{ jobs: ClaimedJob[]; skipped: number }> {
  // The oldest `limit` queued jobs must come from the ordered index, never from a sort of every
  // queued job. The planner sorts when its figures for the queue's partition are stale — always
  // so after a burst (a fan-out of 1,000 queued in one statement, before autovacuum's ANALYZE):
  // a bitmap scan of all 500–700 queued jobs and a sort, 1.4–1.9 ms of a 1.7–2 ms claim where the
  // index scan takes 0.08 (auto_explain, bench (b)/(c)); for 100,000 queued jobs it would be a
  // sort of 100,000 rows per claim. So sorting is off for this statement only (no extra round
  // trip: the settings go out in the same write, and SET LOCAL ends with the transaction anyway).
  void tx.query('SET LOCAL enable_sort = off');
  const claiming = tx.query<Record<string, unknown>>(
    `WITH next AS (
       SELECT j.id AS job_id, ${uuidOf(`j.data->>'runId'`)} AS run_id
       FROM pgboss.job j
       WHERE j.name = $1 AND j.state < 'active' AND j.start_after < now()
       ORDER BY j.start_after
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     ), locked AS (
       SELECT ${RUN_COLUMNS} FROM runs WHERE id IN (SELECT run_id FROM next)
       FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE pgboss.job j SET
         state = CASE WHEN l.id IS NULL THEN 'completed'::pgboss.job_state ELSE 'active'::pgboss.job_state END,
         started_on = now(),
         completed_on = CASE WHEN l.id IS NULL THEN now() END,
         retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
       FROM next LEFT JOIN locked l ON l.id = next.run_id
       WHERE j.name = $1 AND j.id = next.job_id
         AND (l.id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM runs x WHERE x.id = next.run_id))
       RETURNING j.id, j.data, l.id AS run_id
     ), started AS (
       UPDATE step_runs s SET status = 'RUNNING', attempt = (c.data->>'attempt')::int, job_id = c.id, worker_id = $3,
         started_at = now(), finished_at = NULL, progress = 0, progress_message = NULL, error = NULL, updated_at = now()
       FROM claimed c JOIN locked l ON l.id = c.run_id
       WHERE l.status IN ('QUEUED', 'RUNNING')
         AND c.data->>'attempt' ~ '^[1-9][0-9]{0,8}$'
         AND s.id = ${uuidOf(`c.data->>'stepRunId'`)} AND s.run_id = l.id
         AND s.job_id = c.id AND s.status IN ('QUEUED', 'RETRYING')
       RETURNING s.id, s.step_id, s.type, s.attempt, s.series_start, s.job_id
     )
     SELECT k.skipped, j.* FROM (SELECT (SELECT count(*) FROM next) - (SELECT count(*) FROM claimed) AS skipped) k
     LEFT JOIN (
       SELECT c.id AS job_id, c.run_id IS NULL AS dropped, ${qualified(RUN_COLUMNS, 'l')},
              st.id AS step_run_id, st.step_id, st.type, st.attempt, st.series_start
       FROM claimed c LEFT JOIN locked l ON l.id = c.run_id LEFT JOIN started st ON st.job_id = c.id
     ) j ON true`,
    [STEP_QUEUE, limit, workerId],
    'skein_claim_start',
  );
  void tx.query('SET LOCAL enable_sort TO DEFAULT');
  const rows = await claiming;
  const skipped = Number(rows[0]?.skipped ?? 0);
  const jobs = rows.filter((r) => r.job_id !== null).map((r): ClaimedJob => {
    const run = Object.fromEntries(RUN_COLUMNS.split(', ').map((c) => [c, r[c]])) as unknown as RunRow;
    const step: StartedStep | null = r.step_run_id === null ? null : {
      id: r.step_run_id as string,
      run_id: run.id,
      step_id: r.step_id as string,
      type: r.type as string,
      attempt: r.attempt as number,
      series_start: r.series_start as number,
      job_id: r.job_id as string,
    };
    return { job_id: r.job_id as string, dropped: r.dropped as boolean, run, step };
  });
  return { jobs, skipped };
}

export interface StartedStep {
  id: string;
  run_id: string;
  step_id: string;
  type: string;
  attempt: number;
  series_start: number;
  job_id: string;
}

/**
 * Mark PENDING steps RUNNING for a worker: dependents a worker takes straight from the transaction
 * that made them ready (no queue hop), each with its job. Returns how many started.
 */
export async function startPending(tx: Tx, workerId: string, steps: StartedStep[]): Promise<number> {
  if (steps.length === 0) return 0;
  const rows = await tx.query(
    `UPDATE step_runs s SET status = 'RUNNING', attempt = c.attempt, job_id = c.job_id, worker_id = $4,
       started_at = now(), finished_at = NULL, progress = 0, progress_message = NULL, error = NULL,
       queued_at = now(), updated_at = now()
     FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS c(id, job_id, attempt)
     WHERE s.id = c.id AND s.status = 'PENDING'
     RETURNING s.id`,
    [steps.map((st) => st.id), steps.map((st) => st.job_id), steps.map((st) => st.attempt), workerId],
    'skein_start_pending',
  );
  return rows.length;
}

/**
 * Insert step jobs into pg-boss's table (what its `insert` does for our queue's settings, written
 * here so the statement can go out without waiting — see `Tx`). Queued jobs become claimable after
 * `delayMs`; `active` ones are for steps a worker starts straight away (no queue hop): inserted
 * already active, so the queue's figures stay true and completing them at the end of the attempt
 * works as for any job. pg-boss never retries them (our engine does) and keeps them 7 days.
 */
export function insertJobs(tx: Tx, jobs: { id: string; data: unknown; delayMs?: number }[], state: 'created' | 'active'): Promise<unknown> {
  if (jobs.length === 0) return Promise.resolve();
  return tx.query(
    `INSERT INTO pgboss.job (id, name, data, state, retry_limit, start_after, started_on, expire_in, keep_until)
     SELECT j.id, $1, j.data, $2::pgboss.job_state, 0, now() + j.delay_ms * interval '1 millisecond',
            CASE WHEN $2 = 'active' THEN now() END, interval '86399 seconds',
            now() + j.delay_ms * interval '1 millisecond' + interval '7 days'
     FROM unnest($3::uuid[], $4::jsonb[], $5::int[]) AS j(id, data, delay_ms)`,
    [STEP_QUEUE, state, jobs.map((j) => j.id), jobs.map((j) => JSON.stringify(j.data)), jobs.map((j) => Math.max(0, Math.round(j.delayMs ?? 0)))],
    'skein_insert_jobs',
  );
}

export async function readyPending(tx: Tx, runId: string): Promise<StepRow[]> {
  return tx.query<StepRow>(
    `SELECT ${STEP_COLUMNS} FROM step_runs WHERE run_id = $1 AND status = 'PENDING' AND needs_left <= 0 ORDER BY position`,
    [runId],
  );
}

export interface StepUpdate {
  status: StepStatus;
  attempt?: number;
  output?: unknown;
  error?: StepError | null;
  skipReason?: string | null;
  jobId?: string | null;
  workerId?: string | null;
  progress?: number;
  started?: boolean;
  finished?: boolean;
  queued?: boolean;
  attemptRecord?: AttemptRecord;
}

/** One UPDATE for many steps sharing the same change. */
export async function updateSteps(tx: Tx, stepRunIds: string[], u: StepUpdate): Promise<void> {
  if (stepRunIds.length === 0) return;
  const sets = ['status = $2', 'updated_at = now()'];
  const values: unknown[] = [stepRunIds, u.status];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    sets.push(sql.replace('?', `$${values.length}`));
  };
  if (u.attempt !== undefined) add('attempt = ?', u.attempt);
  if (u.output !== undefined) add('output = ?::jsonb', jsonb(u.output));
  if (u.error !== undefined) add('error = ?::jsonb', u.error === null ? null : jsonb(u.error));
  if (u.skipReason !== undefined) add('skip_reason = ?', u.skipReason);
  if (u.jobId !== undefined) add('job_id = ?', u.jobId);
  if (u.workerId !== undefined) add('worker_id = ?', u.workerId);
  if (u.progress !== undefined) add('progress = ?', u.progress);
  if (u.attemptRecord) add('attempts = attempts || jsonb_build_array(?::jsonb)', jsonb(u.attemptRecord));
  if (u.started) sets.push('started_at = now()', 'finished_at = NULL', 'progress_message = NULL');
  if (u.finished) sets.push('finished_at = now()');
  if (u.queued) sets.push('queued_at = now()');
  await tx.query(`UPDATE step_runs SET ${sets.join(', ')} WHERE id = ANY($1)`, values);
}

/** Queue or retry jobs: each step gets its own job id, stored on the step for fencing. */
export function setStepJobs(tx: Tx, jobs: { stepRunId: string; jobId: string; status: StepStatus }[]): Promise<unknown> {
  if (jobs.length === 0) return Promise.resolve();
  return tx.query(
    `UPDATE step_runs s SET status = j.status, job_id = j.job_id, queued_at = now(), updated_at = now(), worker_id = NULL
     FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS j(id, job_id, status) WHERE s.id = j.id`,
    [jobs.map((j) => j.stepRunId), jobs.map((j) => j.jobId), jobs.map((j) => j.status)],
    'skein_set_jobs',
  );
}

export interface RunUpdate {
  status?: RunStatus;
  stepsDoneDelta?: number;
  stepsDone?: number;
  started?: boolean;
  finished?: boolean;
  reopened?: boolean;
  output?: unknown;
  error?: unknown;
}

export async function updateRun(tx: Tx, runId: string, u: RunUpdate): Promise<void> {
  const sets = ['updated_at = now()'];
  const values: unknown[] = [runId];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    sets.push(sql.replace('?', `$${values.length}`));
  };
  if (u.status) add('status = ?', u.status);
  if (u.stepsDoneDelta) add('steps_done = steps_done + ?', u.stepsDoneDelta);
  if (u.stepsDone !== undefined) add('steps_done = ?', u.stepsDone);
  if (u.output !== undefined) add('output = ?::jsonb', jsonb(u.output));
  if (u.error !== undefined) add('error = ?::jsonb', u.error === null ? null : jsonb(u.error));
  if (u.started) sets.push('started_at = COALESCE(started_at, now())');
  if (u.finished) sets.push('finished_at = now()');
  if (u.reopened) sets.push('finished_at = NULL');
  await tx.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $1`, values);
}

/**
 * Withdraw queued jobs. Rows a worker is claiming right now are skipped (not waited for): that
 * worker's claim finds the step no longer QUEUED and drops the job (fencing), so no deadlock.
 */
export async function withdrawJobs(tx: Tx, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await tx.query(
    `UPDATE pgboss.job SET state = 'cancelled', completed_on = now()
     WHERE name = $1 AND id IN (
       SELECT id FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[]) AND state < 'active' FOR UPDATE SKIP LOCKED
     )`,
    [STEP_QUEUE, jobIds],
  );
}

export async function recomputeNeedsLeft(tx: Tx, runId: string): Promise<void> {
  await tx.query(
    `UPDATE step_runs s SET needs_left = (
       SELECT count(*) FROM step_runs n
       WHERE n.run_id = s.run_id AND n.step_id = ANY(s.needs)
         AND n.status NOT IN ('SUCCEEDED','FAILED','SKIPPED','CANCELLED')
     )
     WHERE s.run_id = $1 AND s.status = 'PENDING'`,
    [runId],
  );
}

/** Steps held by workers that stopped heartbeating (or stopped cleanly without releasing them). */
export async function lostSteps(tx: Tx, staleMs: number, limit = 500): Promise<{ id: string; run_id: string; attempt: number; job_id: string | null; worker_id: string | null }[]> {
  return tx.query(
    `SELECT s.id, s.run_id, s.attempt, s.job_id, s.worker_id
     FROM step_runs s LEFT JOIN workers w ON w.id = s.worker_id
     WHERE s.status = 'RUNNING'
       AND (w.id IS NULL OR w.stopped_at IS NOT NULL OR w.heartbeat_at < now() - $1 * interval '1 millisecond')
     LIMIT $2`,
    [staleMs, limit],
  );
}

/** QUEUED/RETRYING steps whose job is gone or finished: they would wait forever. */
export async function orphanedQueuedSteps(tx: Tx): Promise<{ id: string; run_id: string }[]> {
  return tx.query(
    `SELECT s.id, s.run_id FROM step_runs s
     JOIN runs r ON r.id = s.run_id AND r.status IN ('QUEUED','RUNNING')
     LEFT JOIN pgboss.job j ON j.name = $1 AND j.id = s.job_id
     WHERE s.status IN ('QUEUED','RETRYING')
       AND (j.id IS NULL OR j.state IN ('completed','cancelled','failed')
            OR (j.state = 'active' AND j.started_on < now() - interval '60 seconds'))`,
    [STEP_QUEUE],
  );
}

/** Live runs that may need a nudge: ready steps without jobs, or every step ended. */
export async function runsToReconcile(tx: Tx): Promise<{ id: string }[]> {
  return tx.query(
    `SELECT r.id FROM runs r
     WHERE (r.status IN ('QUEUED','RUNNING') AND (r.steps_done >= r.steps_total OR EXISTS (
              SELECT 1 FROM step_runs s WHERE s.run_id = r.id AND s.status = 'PENDING' AND s.needs_left <= 0)))
        OR (r.status IN ('PAUSING','CANCELLING') AND NOT EXISTS (
              SELECT 1 FROM step_runs s WHERE s.run_id = r.id AND s.status = 'RUNNING'))`,
  );
}
