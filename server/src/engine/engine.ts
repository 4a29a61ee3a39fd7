import jsonata from 'jsonata';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type PgBoss from 'pg-boss';
import type { Sequelize } from 'sequelize';
import type { Database } from '../db/sequelize.js';
import type { RunModel, RunStatus } from '../db/models/run.js';
import type { AttemptRecord, StepError, StepRunModel } from '../db/models/step-run.js';
import { withTransaction, type Lease, type Tx } from '../db/tx.js';
import { badInput, illegalTransition, notFound, SkeinError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bus } from '../pubsub.js';
import type { StepRegistry } from '../steps/registry.js';
import { EventBatch, flushEvents } from './events.js';
import { assertRunTransition } from './lifecycle.js';
import { STEP_QUEUE, type StepJob } from './queue.js';
import { retriesAllowed, retryDelayMs } from './retry.js';
import * as sql from './sql.js';
import { jsonb } from './sql.js';
import { registerWorkflow, WorkflowCache, type CompiledWorkflow, type WorkflowRow } from './workflows.js';

export interface Actor {
  /** Who did it: `anonymous` until auth exists. */
  actor?: string;
  reason?: string | null;
}

/** How an attempt ended, as the worker (or the reaper) saw it. */
export type Outcome =
  | { ok: true; output: unknown }
  | { ok: false; error: StepError };

/** A step attempt a worker has claimed. */
export interface Claim {
  jobId: string;
  runId: string;
  stepRunId: string;
  stepId: string;
  type: string;
  attempt: number;
  /** The first attempt of the step's current series (retryRun starts a new one). */
  seriesStart: number;
  /** The run's workflow version (its id). */
  workflowId: number;
  with: unknown;
  input: unknown;
  steps: Record<string, { output: unknown }>;
  timeoutMs?: number;
  startedAt: Date;
}

const MAX_INPUT_BYTES = 1_000_000;

/** One transaction's work across runs: the jobs to enqueue, decided in full before they are written. */
interface TxCtx {
  tx: Tx;
  /** Steps to enqueue at the end of the transaction (or to start at once, see `work`). */
  queue: { rt: RunTx; step: sql.StepRow; status: 'QUEUED' | 'RETRYING'; delayMs: number }[];
}

/** Per-transaction state for one run: the locked row, the events to store, what to do after. */
interface RunTx {
  ctx: TxCtx;
  tx: Tx;
  run: sql.RunRow;
  wf: CompiledWorkflow;
  events: EventBatch;
  actor: string;
  /** Steps that ended in this transaction: added to runs.steps_done by the final flush. */
  doneDelta: number;
  /** Status and output of steps of this run that this transaction ended or read. */
  known: Map<string, { status: string; output: unknown }>;
}

/** A finished attempt to record (a worker's own claims also carry stepId, seriesStart, startedAt). */
export interface Finished {
  claim: Pick<Claim, 'runId' | 'stepRunId' | 'attempt' | 'jobId'> & Partial<Pick<Claim, 'stepId' | 'seriesStart' | 'startedAt' | 'workflowId'>>;
  outcome: Outcome;
  workerId?: string | null;
}

/**
 * The engine: every state change of runs and steps, each in one transaction with the scheduling it
 * causes and the events it writes. Processes (API servers, workers) share nothing but Postgres.
 */
export class Engine {
  /** Emits `wake` (jobs are due now) and `wakeAt` (a delayed job is due at this time). */
  readonly local = new EventEmitter();
  /** Compiled workflow versions of this engine's database. */
  readonly workflows = new WorkflowCache();
  private readonly outputs = new OutputCache();
  private readonly sequelize: Sequelize;

  constructor(
    readonly db: Database,
    readonly boss: PgBoss,
    readonly bus: Bus,
    readonly registry: StepRegistry,
    readonly logger: Logger,
  ) {
    this.sequelize = db.sequelize;
  }

  // ---------------------------------------------------------------- workflows

  registerWorkflow(raw: unknown) {
    return registerWorkflow(this.sequelize, this.db.models, this.registry, raw);
  }

  // ---------------------------------------------------------------- run commands

  async startRun(args: { workflow: string; version?: number | null; input?: unknown; idempotencyKey?: string | null } & Actor): Promise<RunModel> {
    const input = args.input === undefined ? null : args.input;
    const start = { input, text: JSON.stringify(input ?? null), key: args.idempotencyKey?.trim() || null, actor: args.actor ?? 'anonymous' };
    const target = `${args.version ?? ''}:${args.workflow}`;
    try {
      // The version this name resolved to last time, when the input passes its checks: the run is
      // written in one round trip, its INSERT checking that the version is still the one to use.
      const last = this.startTargets.get(target);
      if (last && !this.startFault(last, start)) {
        const run = await this.startTx(start, async () => ({ wf: last, checked: { version: args.version ?? null } }));
        if (run !== 'stale') return run;
        // A newer version (or, with a version asked for, none any more): look it up, as below.
        this.startTargets.delete(target);
      }
      const run = await this.startTx(start, async (tx) => {
        // The workflow's id (its compiled definition comes from the cache: a version never changes)
        // and the run already started with this idempotency key: one round trip, with the BEGIN.
        const found = tx.query<{ id: number }>(
          `SELECT id FROM workflows WHERE name = $1 AND ($2::int IS NULL OR version = $2) ORDER BY version DESC LIMIT 1`,
          [args.workflow, args.version ?? null],
          'skein_start_workflow',
        );
        const existing = start.key
          ? tx.query(`SELECT ${this.runColumns()} FROM runs WHERE workflow_name = $1 AND idempotency_key = $2`, [args.workflow, start.key], 'skein_start_existing')
          : null;
        const [row] = await found;
        if (!row) throw notFound('workflow', args.version == null ? args.workflow : `${args.workflow} v${args.version}`);
        const wf = await this.compiled(row.id, (t, v) => tx.query<WorkflowRow>(t, v));
        const fault = this.startFault(wf, start);
        if (fault) throw fault;
        this.startTargets.set(target, wf);
        const [same] = existing ? await existing : [];
        return same ? { existing: same } : { wf, checked: null };
      });
      if (run === 'stale') throw new Error('startRun: a version looked up in its own transaction went stale');
      return run;
    } catch (err) {
      // Two callers with one idempotency key: the unique index lets one win; return its run.
      const code = (err as { code?: string; parent?: { code?: string } }).code ?? (err as { parent?: { code?: string } }).parent?.code;
      if (start.key && code === '23505') {
        const existing = await this.db.models.Run.findOne({ where: { workflowName: args.workflow, idempotencyKey: start.key } });
        if (existing) return existing;
      }
      throw err;
    }
  }

  /** Workflow version last resolved per (version asked for, name): startRun's first guess. */
  private readonly startTargets = new Map<string, CompiledWorkflow>();

  /** Why this input cannot start a run of this version (the first fault, in the order users see them). */
  private startFault(wf: CompiledWorkflow, start: { input: unknown; text: string; key: string | null }): SkeinError | null {
    if (start.text.length > MAX_INPUT_BYTES) return new SkeinError('PAYLOAD_TOO_LARGE', `run input is over ${MAX_INPUT_BYTES} bytes`);
    // Postgres jsonb cannot hold U+0000: refuse it plainly instead of failing inside the database.
    if (start.text.includes('\\u0000')) return badInput('run input contains the character U+0000, which cannot be stored', { argument: 'input' });
    if (wf.inputValidator && !wf.inputValidator(start.input ?? {})) {
      const errors = (wf.inputValidator.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid' }));
      return new SkeinError('INVALID_INPUT', `input does not match the workflow's inputSchema: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { errors });
    }
    if (start.key && start.key.length > 200) return badInput('idempotencyKey is longer than 200 characters');
    return null;
  }

  /**
   * startRun's transaction: `resolve` names the version (or finds the run this idempotency key
   * already started); then the run and its steps are written, the roots enqueued, the events stored
   * and the run read back as this transaction leaves it. Ids are made here, so nothing after
   * `resolve` waits for an answer: all of it goes out with the COMMIT (see Tx). With `checked`, the
   * INSERT of the run writes nothing unless `wf` is still the version that name resolves to (then
   * the steps' INSERT fails on their foreign key, and this returns 'stale').
   */
  private async startTx(
    start: { input: unknown; key: string | null; actor: string },
    resolve: (tx: Tx) => Promise<{ existing: Record<string, unknown> } | { wf: CompiledWorkflow; checked: { version: number | null } | null }>,
  ): Promise<RunModel | 'stale'> {
    const { Run } = this.db.models;
    const { input, key, actor } = start;
    let created: Promise<Record<string, unknown>[]> | undefined;
    let inserted: Promise<{ input: unknown }[]> | undefined;
    let checked = false;
    try {
      const existing = await withTransaction(this.sequelize, async (open): Promise<RunModel | null> => {
        // Most statements below are not waited for (see Tx): when one fails, the transaction throws
        // its error, and the statements after it (failing too) must not be unhandled rejections.
        // What happens after the commit (publishing the events, waking workers) waits until the
        // caller has its answer: the publishes' socket write and the worker turn they start would
        // otherwise run on the way to that answer (on a small machine, ahead of it).
        const later: (() => void)[] = [];
        const tx: Tx = {
          ...open,
          query: <Row>(text: string, values?: unknown[], name?: string) => {
            const answer = open.query<Row>(text, values, name);
            answer.catch(() => undefined);
            return answer;
          },
          afterCommit: (fn) => {
            if (!later.length) open.afterCommit(() => setImmediate(() => later.forEach((f) => f())));
            later.push(fn);
          },
        };
        const resolved = await resolve(tx);
        if ('existing' in resolved) return Run.build(resolved.existing, { isNewRecord: false, raw: true });
        const { wf } = resolved;
        checked = resolved.checked !== null;
        const steps = wf.definition.steps;
        const run: sql.RunRow = {
          id: randomUUID(),
          workflow_id: wf.id,
          workflow_name: wf.name,
          workflow_version: wf.version,
          status: 'QUEUED',
          input,
          steps_total: steps.length,
          steps_done: 0,
          started_at: null,
          finished_at: null,
        };
        const stepIds = steps.map(() => randomUUID());
        inserted = tx.query<{ input: unknown }>(
          `INSERT INTO runs (id, workflow_id, workflow_name, workflow_version, status, input, steps_total, idempotency_key, created_by)
           SELECT $1, $2, $3, $4, 'QUEUED', $5::jsonb, $6, $7, $8
           WHERE NOT $9 OR $2 = (SELECT id FROM workflows WHERE name = $3 AND ($10::int IS NULL OR version = $10) ORDER BY version DESC LIMIT 1)
           RETURNING input`,
          [run.id, wf.id, wf.name, wf.version, JSON.stringify(input), steps.length, key, actor, checked, resolved.checked?.version ?? null],
          'skein_start_run',
        );
        void tx.query(
          `INSERT INTO step_runs (id, run_id, step_id, position, type, needs, needs_left, status, attempt, series_start, max_attempts)
           SELECT s.id, $1, s.step_id, s.position, s.type, ARRAY(SELECT jsonb_array_elements_text(s.needs)), jsonb_array_length(s.needs), 'PENDING', 0, 0, s.max_attempts
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[], $6::jsonb[], $7::int[]) AS s(id, step_id, position, type, needs, max_attempts)`,
          [
            run.id,
            stepIds,
            steps.map((s) => s.id),
            steps.map((_, i) => i),
            steps.map((s) => s.type),
            steps.map((s) => JSON.stringify(s.needs)),
            steps.map((s) => (s.retry?.limit ?? 0) + 1),
          ],
          'skein_start_steps',
        );
        // The roots (no needs) are ready at once; these are their rows as just inserted.
        const roots: sql.StepRow[] = [];
        steps.forEach((s, i) => {
          if (s.needs.length) return;
          roots.push({
            id: stepIds[i], run_id: run.id, step_id: s.id, type: s.type, status: 'PENDING', needs: [], needs_left: 0, attempt: 0, series_start: 0,
            max_attempts: (s.retry?.limit ?? 0) + 1, output: null, error: null, job_id: null, worker_id: null, started_at: null,
          });
        });
        // `if` expressions see the input as stored (jsonb orders keys and drops duplicates).
        if (roots.some((s) => wf.steps.get(s.step_id)?.if)) {
          const [stored] = await inserted;
          if (!stored) throw new Error('stale workflow version'); // rolls back; returned as 'stale' below
          run.input = stored.input;
        }
        const rt = this.runTx({ tx, queue: [] }, run, wf, actor);
        rt.events.add({ type: 'RUN_CREATED', status: 'QUEUED', actor, message: `run of ${wf.name} v${wf.version}${key ? ` (idempotency key ${key})` : ''}` });
        await this.decide(rt, roots);
        await this.settleRun(rt);
        this.flush(rt.ctx, [rt]);
        // The run as this transaction leaves it: read before the COMMIT and sent with it, so the
        // caller gets it without another round trip (and without a read from another connection).
        created = tx.query(`SELECT ${this.runColumns()} FROM runs WHERE id = $1`, [run.id], 'skein_start_read');
        return null;
      });
      return existing ?? Run.build((await created!)[0], { isNewRecord: false, raw: true });
    } catch (err) {
      // The run's INSERT, when it failed, is the cause (a later statement may have failed first
      // in the code, aborted by it): e.g. the idempotency key's unique violation startRun handles.
      const cause: unknown = inserted ? await inserted.then((rows) => (checked && rows.length === 0 ? 'stale' : null), (e: unknown) => e) : null;
      if (cause === 'stale') return 'stale';
      throw cause ?? err;
    }
  }

  /** The runs columns named as the Run model's attributes: a row selected with them builds the model as findByPk would. */
  private runColumns(): string {
    this.runColumnList ??= Object.entries(this.db.models.Run.getAttributes()).map(([name, a]) => `${a.field ?? name} AS "${name}"`).join(', ');
    return this.runColumnList;
  }

  private runColumnList?: string;

  async pauseRun(runId: string, who: Actor = {}): Promise<RunModel> {
    return this.onRun(runId, who, async (rt) => {
      assertRunTransition(rt.run, 'pause');
      await this.withdraw(rt, 'PENDING', 'withdrawn by pause; runs again on resume');
      rt.events.add({ type: 'RUN_PAUSING', status: 'PAUSING', actor: rt.actor, message: who.reason ?? null });
      await this.setRunStatus(rt, 'PAUSING');
      await this.settleRun(rt);
    });
  }

  async resumeRun(runId: string, who: Actor = {}): Promise<RunModel> {
    return this.onRun(runId, who, async (rt) => {
      assertRunTransition(rt.run, 'resume');
      const status: RunStatus = rt.run.started_at ? 'RUNNING' : 'QUEUED';
      rt.events.add({ type: 'RUN_RESUMED', status, actor: rt.actor, message: who.reason ?? null });
      await this.setRunStatus(rt, status);
      await this.decide(rt, await sql.readyPending(rt.tx, runId));
      await this.settleRun(rt);
    });
  }

  async cancelRun(runId: string, who: Actor = {}): Promise<RunModel> {
    return this.onRun(runId, who, async (rt) => {
      assertRunTransition(rt.run, 'cancel');
      await this.withdraw(rt, 'CANCELLED', 'cancelled before it ran');
      const waiting = await sql.stepsWithStatus(rt.tx, runId, ['PENDING', 'WAITING']);
      await sql.updateSteps(rt.tx, waiting.map((s) => s.id), { status: 'CANCELLED', finished: true, jobId: null });
      for (const s of waiting) rt.events.add({ type: 'STEP_CANCELLED', stepId: s.step_id, status: 'CANCELLED', attempt: s.attempt, actor: rt.actor });
      this.addDone(rt, waiting.length);
      rt.events.add({ type: 'RUN_CANCELLING', status: 'CANCELLING', actor: rt.actor, message: who.reason ?? null });
      await this.setRunStatus(rt, 'CANCELLING');
      const running = await sql.stepsWithStatus(rt.tx, runId, ['RUNNING']);
      if (running.length) {
        const ids = running.map((s) => s.id);
        rt.tx.afterCommit(() => {
          this.local.emit('abort', ids);
          void this.bus.publish('abort', { stepRunIds: ids, reason: 'run cancelled' });
        });
      }
      await this.settleRun(rt);
    });
  }

  async retryRun(runId: string, who: Actor = {}): Promise<RunModel> {
    return this.onRun(runId, who, async (rt) => {
      assertRunTransition(rt.run, 'retry');
      const redo = await sql.stepsWithStatus(rt.tx, runId, ['FAILED', 'SKIPPED', 'CANCELLED']);
      for (const s of redo) {
        const limit = rt.wf.steps.get(s.step_id)?.retry?.limit ?? 0;
        await rt.tx.query(
          `UPDATE step_runs SET status = 'PENDING', series_start = attempt, max_attempts = attempt + $2, output = NULL,
             error = NULL, skip_reason = NULL, progress = 0, progress_message = NULL, job_id = NULL, worker_id = NULL,
             finished_at = NULL, updated_at = now() WHERE id = $1`,
          [s.id, limit + 1],
        );
        rt.events.add({ type: 'STEP_RESET', stepId: s.step_id, status: 'PENDING', attempt: s.attempt, actor: rt.actor, message: `was ${s.status}` });
      }
      await sql.recomputeNeedsLeft(rt.tx, runId);
      const [{ n }] = await rt.tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1 AND status = 'SUCCEEDED'`, [runId]);
      await sql.updateRun(rt.tx, runId, { status: 'RUNNING', stepsDone: n, reopened: true, error: null, output: null });
      rt.run.status = 'RUNNING';
      rt.run.steps_done = n;
      rt.events.add({ type: 'RUN_RETRIED', status: 'RUNNING', actor: rt.actor, message: who.reason ?? `re-running ${redo.length} step(s) that did not succeed` });
      await this.decide(rt, await sql.readyPending(rt.tx, runId));
      await this.settleRun(rt);
    });
  }

  async approveStep(args: { runId: string; stepId: string; approved: boolean; comment?: string | null } & Actor): Promise<StepRunModel> {
    await this.onRun(args.runId, args, async (rt) => {
      const step = await sql.stepByStepId(rt.tx, args.runId, args.stepId);
      if (!step) throw notFound('step', `${args.stepId} in run ${args.runId}`);
      if (step.status !== 'WAITING') throw illegalTransition(`step ${args.stepId}`, args.approved ? 'approve' : 'reject', step.status, 'only a WAITING approval step can be decided');
      if (rt.run.status === 'CANCELLING') throw illegalTransition(`run ${args.runId}`, 'approve a step of', rt.run.status);
      const output = { approved: args.approved, comment: args.comment ?? null, by: rt.actor };
      const record: AttemptRecord = {
        attempt: step.attempt,
        status: args.approved ? 'SUCCEEDED' : 'FAILED',
        error: args.approved ? null : rejection(args.comment),
        startedAt: step.started_at ? new Date(step.started_at).toISOString() : null,
        finishedAt: new Date().toISOString(),
      };
      if (args.approved) {
        await sql.updateSteps(rt.tx, [step.id], { status: 'SUCCEEDED', output, progress: 1, finished: true, attemptRecord: record });
        rt.events.add({ type: 'STEP_APPROVED', stepId: step.step_id, status: 'SUCCEEDED', attempt: step.attempt, actor: rt.actor, message: args.comment ?? null, data: output });
      } else {
        await sql.updateSteps(rt.tx, [step.id], { status: 'FAILED', output, error: record.error, finished: true, attemptRecord: record });
        rt.events.add({ type: 'STEP_REJECTED', stepId: step.step_id, status: 'FAILED', attempt: step.attempt, actor: rt.actor, message: args.comment ?? 'rejected', data: output });
      }
      this.addDone(rt, 1);
      rt.known.set(step.step_id, { status: args.approved ? 'SUCCEEDED' : 'FAILED', output: normalise(output) });
      await this.stepsEnded(new Map([[rt, [step.step_id]]]));
      await this.settleRun(rt);
    });
    const step = await this.db.models.StepRun.findOne({ where: { runId: args.runId, stepId: args.stepId } });
    return step!;
  }

  // ---------------------------------------------------------------- worker side

  /** Record how one attempt ended (see `work`). */
  async finishAttempt(claim: Finished['claim'], outcome: Outcome, workerId?: string | null): Promise<'recorded' | 'fenced'> {
    return (await this.work(workerId ?? null, [{ claim, outcome, workerId }], { fetch: 0, direct: 0 })).results[0];
  }

  /**
   * A worker's whole turn in one transaction: record how attempts ended (a result from an attempt
   * that is no longer current — fenced: the step moved on — changes nothing), schedule what
   * follows, and start new work for the worker's free slots: up to `fetch` queued jobs, then, up
   * to `direct` claims in all, steps this transaction made ready, started at once (no queue hop).
   * Claiming a step and marking it RUNNING commit together: a worker that dies before the commit
   * leaves its jobs queued; one that dies after is found by its missing heartbeat.
   */
  async work(
    workerId: string | null,
    finished: Finished[],
    slots: { fetch: number; direct: number },
    /** The caller's own connection (a worker's loop), kept across its turns. */
    lease?: Lease,
  ): Promise<{ results: ('recorded' | 'fenced')[]; claims: Claim[]; skipped: number }> {
    return withTransaction(this.sequelize, async (tx) => {
      const ctx: TxCtx = { tx, queue: [] };
      const complete: string[] = [];
      // The runs of the results are locked first, in id order (the one order every transaction that
      // waits for run locks uses: no deadlock); the claim below never waits for one.
      const runIds = [...new Set(finished.map((f) => f.claim.runId))];
      const rts = new Map<string, RunTx>();
      const locking = sql.lockRuns(tx, runIds);
      const lockedRuns = async () => {
        const runs = await locking;
        const found = new Set(runs.map((r) => r.id));
        for (const id of [...rts.keys()]) if (!found.has(id)) rts.delete(id); // gone since the claim
        for (const run of runs) {
          const rt = rts.get(run.id);
          if (rt) Object.assign(rt.run, run);
          else rts.set(run.id, this.runTx(ctx, run, await this.workflowOf(tx, run), 'worker'));
        }
      };
      // Queued jobs for the free slots, claimed and started in one statement that goes out right
      // behind the results' statements (nothing here waits for their answers).
      const pending: { claim?: ReturnType<typeof sql.claimAndStart> } = {};
      const claim = () => {
        if (workerId && slots.fetch > 0) pending.claim ??= sql.claimAndStart(tx, workerId, slots.fetch);
      };
      // Successes reported with everything their claim knew (the usual case) need nothing from the
      // run rows to be planned: their statement goes out right behind the lock (see recordOutcomes),
      // planned against the runs as claimed and the cached workflow versions.
      const early = finished.length > 0 && finished.every((f) => f.outcome.ok && f.claim.stepId !== undefined && f.claim.seriesStart !== undefined && f.claim.workflowId !== undefined);
      let results: ('recorded' | 'fenced')[];
      if (early) {
        for (const f of finished) {
          if (rts.has(f.claim.runId)) continue;
          const wf = await this.compiled(f.claim.workflowId!, (text, values) => tx.query<WorkflowRow>(text, values));
          rts.set(f.claim.runId, this.runTx(ctx, { id: f.claim.runId, workflow_id: wf.id } as sql.RunRow, wf, 'worker'));
        }
        results = await this.recordOutcomes(ctx, rts, finished, complete, async () => {
          claim();
          await lockedRuns();
        });
      } else {
        await lockedRuns();
        results = await this.recordOutcomes(ctx, rts, finished, complete, async () => claim());
      }
      claim(); // when there was nothing to record

      const claims: Claim[] = [];
      let skipped = 0;
      if (workerId) {
        const started: sql.StartedStep[] = [];
        const { jobs, skipped: held } = (await pending.claim) ?? { jobs: [], skipped: 0 };
        skipped = held;
        for (const row of jobs) {
          if (row.dropped) {
            this.logger.warn({ jobId: row.job_id }, 'dropped a step job that names no existing run');
            continue;
          }
          if (!row.step) {
            complete.push(row.job_id); // its step moved on (stale job) or its run is not live: dropped
            continue;
          }
          if (!rts.has(row.run.id)) rts.set(row.run.id, this.runTx(ctx, row.run, await this.workflowOf(tx, row.run), 'worker'));
          started.push(row.step);
        }
        claims.push(...(await this.claimsFor(rts, workerId, started)));
        // Ready dependents go straight to this worker's spare slots: no enqueue, wake-up or fetch.
        const spare = slots.direct - claims.length;
        if (spare > 0) {
          const direct = ctx.queue.filter((q) => q.status === 'QUEUED' && q.delayMs === 0 && isLive(q.rt.run) && this.registry.has(q.step.type)).slice(0, spare);
          if (direct.length) {
            const taken = new Set(direct);
            ctx.queue = ctx.queue.filter((q) => !taken.has(q));
            const jobs = direct.map((q) => ({ id: randomUUID(), data: { runId: q.rt.run.id, stepRunId: q.step.id, stepId: q.step.step_id, attempt: q.step.attempt + 1 } satisfies StepJob }));
            void sql.insertJobs(tx, jobs, 'active');
            // These are PENDING rows this transaction released, their runs locked: the start cannot
            // miss, so its answer is not waited for either (both go out with the events and COMMIT).
            const directStarts = direct.map((q, i) => ({ id: q.step.id, run_id: q.rt.run.id, step_id: q.step.step_id, type: q.step.type, attempt: q.step.attempt + 1, series_start: q.step.series_start, job_id: jobs[i].id }));
            void sql.startPending(tx, workerId, directStarts).then((n) => {
              if (n !== directStarts.length) this.logger.error({ expected: directStarts.length, started: n }, 'a direct start missed steps');
            }, () => undefined); // a failure fails the transaction
            claims.push(...(await this.claimsFor(rts, workerId, directStarts)));
          }
        }
      }
      // pg-boss 10 takes (name, ids, data, options) at run time; its types omit `data` for arrays.
      if (complete.length) await (this.boss.complete as (name: string, ids: string[], data: object, options: object) => Promise<void>).call(this.boss, STEP_QUEUE, complete, {}, { db: tx.bossDb });
      this.flush(ctx, [...rts.values()]);
      return { results, claims, skipped };
    }, lease);
  }


  /**
   * Record outcomes (runs locked by the caller): every step row in one statement that also fences
   * (only the current attempt's row changes), then what follows for the ones it changed. Step rows
   * are read first only for results that do not carry the claim's series start (the reaper's).
   */
  private async recordOutcomes(
    ctx: TxCtx,
    rts: Map<string, RunTx>,
    finished: Finished[],
    complete: string[],
    /** For plans made before the run rows were read: fills them in once the statement is sent. */
    beforeApply?: () => Promise<void>,
  ): Promise<('recorded' | 'fenced')[]> {
    if (finished.length === 0) return [];
    const unknown = finished.filter((f) => f.claim.seriesStart === undefined || f.claim.stepId === undefined);
    const locked = await sql.lockSteps(ctx.tx, unknown.map((f) => f.claim.stepRunId));
    const plans: { row: sql.FinishRow; apply: () => void }[] = [];
    const releases: { fromId: string; runId: string; stepId: string }[] = [];
    const touched = new Set<RunTx>();
    for (const { claim, outcome, workerId } of finished) {
      const rt = rts.get(claim.runId);
      const read = locked.get(claim.stepRunId);
      const step = read ?? (claim.seriesStart !== undefined && claim.stepId !== undefined
        ? { id: claim.stepRunId, step_id: claim.stepId, status: 'RUNNING', attempt: claim.attempt, job_id: claim.jobId, series_start: claim.seriesStart, worker_id: workerId ?? null, started_at: claim.startedAt ?? null }
        : undefined);
      if (!rt || !step || step.status !== 'RUNNING' || step.attempt !== claim.attempt || step.job_id !== claim.jobId) {
        this.fenced(claim, step, complete);
        continue;
      }
      const { run, events } = rt;
      const def = rt.wf.steps.get(step.step_id)!;
      const record: AttemptRecord = {
        attempt: step.attempt,
        status: outcome.ok ? 'SUCCEEDED' : outcome.error.code === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
        error: outcome.ok ? null : outcome.error,
        workerId: workerId ?? step.worker_id,
        startedAt: step.started_at ? new Date(step.started_at).toISOString() : null,
        finishedAt: new Date().toISOString(),
      };
      const plan = (status: sql.FinishRow['status'], extra: Partial<sql.FinishRow>, apply: () => void): void => {
        const row: sql.FinishRow = { id: step.id, attempt: step.attempt, jobId: claim.jobId, status, ok: false, output: null, error: null, finished: false, record, clearJob: false, ...extra };
        plans.push({ row, apply });
        // A step that ends releases its dependents, in the same statement (only if its row changes).
        if (row.finished) for (const d of rt.wf.dependents.get(step.step_id) ?? []) releases.push({ fromId: step.id, runId: run.id, stepId: d });
      };
      const end = (status: string, output: unknown = null) => {
        rt.known.set(step.step_id, { status, output });
        this.addDone(rt, 1);
      };
      if (outcome.ok) {
        const text = jsonb(outcome.output === undefined ? null : outcome.output);
        plan('SUCCEEDED', { ok: true, output: text, finished: true }, () => {
          events.add({ type: 'STEP_SUCCEEDED', stepId: step.step_id, status: 'SUCCEEDED', attempt: step.attempt, progress: 1 });
          const output = JSON.parse(text);
          end('SUCCEEDED', output);
          ctx.tx.afterCommit(() => this.outputs.set(run.id, step.step_id, output, text.length));
        });
        continue;
      }
      const { error } = outcome;
      const errorText = jsonb(error);
      const inSeries = step.attempt - step.series_start;
      const retryable = error.code !== 'PERMANENT' && error.code !== 'CANCELLED' && error.code !== 'INVALID_WITH';
      const canRetry = retryable && inSeries <= retriesAllowed(def.retry, error.code);
      if (run.status === 'CANCELLING' || error.code === 'CANCELLED') {
        plan('CANCELLED', { error: errorText, finished: true }, () => {
          events.add({ type: 'STEP_CANCELLED', stepId: step.step_id, status: 'CANCELLED', attempt: step.attempt, message: error.message });
          end('CANCELLED');
        });
      } else if (canRetry && run.status === 'PAUSING') {
        plan('PENDING', { error: errorText, clearJob: true }, () => {
          events.add({ type: 'STEP_RETRYING', stepId: step.step_id, status: 'PENDING', attempt: step.attempt, message: `${error.message} (retries after resume)`, data: { code: error.code } });
        });
      } else if (canRetry) {
        const delayMs = retryDelayMs(def.retry, inSeries);
        plan('RETRYING', { error: errorText }, () => {
          ctx.queue.push({ rt, step: { id: step.id, step_id: step.step_id, attempt: step.attempt } as sql.StepRow, status: 'RETRYING', delayMs });
          events.add({ type: 'STEP_RETRYING', stepId: step.step_id, status: 'RETRYING', attempt: step.attempt, message: error.message, data: { code: error.code, delayMs, nextAttempt: step.attempt + 1 } });
        });
      } else {
        plan('FAILED', { error: errorText, finished: true }, () => {
          events.add({ type: 'STEP_FAILED', stepId: step.step_id, status: 'FAILED', attempt: step.attempt, message: error.message, data: { code: error.code } });
          end('FAILED');
        });
      }
    }
    const finishing = sql.finishSteps(ctx.tx, plans.map((p) => p.row), releases);
    await beforeApply?.();
    const { changed, released } = await finishing;
    const recorded = new Set<string>();
    const byStep = new Map(finished.map((f) => [f.claim.stepRunId, f]));
    for (const p of plans) {
      const f = byStep.get(p.row.id)!;
      if (!changed.has(p.row.id)) {
        this.fenced(f.claim, undefined, complete);
        continue;
      }
      recorded.add(p.row.id);
      touched.add(rts.get(f.claim.runId)!);
      p.apply();
    }
    await this.released([...touched], released);
    for (const rt of touched) await this.settleRun(rt);
    return finished.map((f) => (recorded.has(f.claim.stepRunId) ? 'recorded' : 'fenced'));
  }

  /** A result from an attempt that is no longer current: its job is done with; nothing else changes. */
  private fenced(claim: Finished['claim'], step: { attempt: number; status: string; job_id: string | null } | undefined, complete: string[]): void {
    // The step's current job is not ours to complete.
    if (claim.jobId && claim.jobId !== step?.job_id) complete.push(claim.jobId);
    this.logger.info({ step: claim.stepRunId, attempt: claim.attempt, current: step?.attempt, status: step?.status }, 'ignored a result from an attempt that is no longer current');
  }

  /** Claims for steps just started (their STEP_STARTED events too), with their needs' outputs as input. */
  private async claimsFor(rts: Map<string, RunTx>, workerId: string, started: sql.StartedStep[]): Promise<Claim[]> {
    if (started.length === 0) return [];
    const tx = [...rts.values()][0].tx;
    // Inputs: outputs of each step's needs, from this transaction where it ended them.
    const missing: { runId: string; stepId: string }[] = [];
    for (const s of started) {
      const rt = rts.get(s.run_id)!;
      for (const n of rt.wf.steps.get(s.step_id)!.needs) {
        if (rt.known.has(n)) continue;
        const cached = this.outputs.get(s.run_id, n);
        if (cached) rt.known.set(n, { status: 'SUCCEEDED', output: cached.output });
        else missing.push({ runId: s.run_id, stepId: n });
      }
    }
    for (const r of await sql.outputsAcross(tx, missing)) rts.get(r.run_id)!.known.set(r.step_id, { status: r.status, output: r.output });
    const now = new Date();
    const claims = started.map((s): Claim => {
      const rt = rts.get(s.run_id)!;
      const def = rt.wf.steps.get(s.step_id)!;
      rt.events.add({ type: 'STEP_STARTED', stepId: s.step_id, status: 'RUNNING', attempt: s.attempt, data: { workerId } });
      return {
        jobId: s.job_id,
        runId: s.run_id,
        stepRunId: s.id,
        stepId: s.step_id,
        type: s.type,
        attempt: s.attempt,
        seriesStart: s.series_start,
        workflowId: rt.wf.id,
        with: def.with,
        input: rt.run.input,
        // Each claim gets its own copy: outputs are shared by the cache and this transaction.
        steps: Object.fromEntries(def.needs.map((n) => [n, { output: copy(rt.known.get(n)?.output ?? null), status: rt.known.get(n)?.status ?? null }])),
        timeoutMs: def.timeoutMs,
        startedAt: now,
      };
    });
    for (const runId of new Set(started.map((s) => s.run_id))) this.runStarted(rts.get(runId)!);
    return claims;
  }

  /**
   * Store a step's latest progress. The step row always gets it; an event (with a seq) is stored
   * at most every 100 ms per run, so subscribers see at most 10 progress updates a second per run.
   * Returns 'coalesced' when no event was stored: the caller sends the latest value again shortly.
   */
  async recordProgress(claim: Pick<Claim, 'runId' | 'stepRunId' | 'stepId' | 'attempt'>, fraction: number, message: string | null): Promise<'stored' | 'coalesced' | 'stale'> {
    return withTransaction(this.sequelize, async (tx) => {
      // The run's row first, as every other transaction locks it (run, then steps): the other way
      // round deadlocks with a turn or a command. Not due: the row is neither changed nor locked.
      const due = await tx.query(
        `UPDATE runs SET progress_event_at = clock_timestamp()
         WHERE id = $1 AND (progress_event_at IS NULL OR progress_event_at < clock_timestamp() - interval '100 milliseconds')
         RETURNING id`,
        [claim.runId],
      );
      const rows = await tx.query(
        `UPDATE step_runs SET progress = $3, progress_message = $4, updated_at = now()
         WHERE id = $1 AND attempt = $2 AND status = 'RUNNING' RETURNING id`,
        [claim.stepRunId, claim.attempt, fraction, message],
      );
      if (rows.length === 0) return 'stale';
      if (due.length === 0) return 'coalesced';
      const batch = new EventBatch(claim.runId);
      batch.add({ type: 'STEP_PROGRESS', stepId: claim.stepId, progress: fraction, attempt: claim.attempt, message });
      batch.statusChanged = true;
      batch.flush(tx, this.bus, () => 'RUNNING');
      return 'stored';
    });
  }

  async appendLogs(claim: Pick<Claim, 'runId' | 'stepId' | 'attempt'>, lines: { line: string; at: Date }[]): Promise<void> {
    if (lines.length === 0) return;
    await this.sequelize.query(
      `INSERT INTO step_logs (run_id, step_id, attempt, line, at)
       SELECT $1, $2, $3, l.line, l.at FROM unnest($4::text[], $5::timestamptz[]) AS l(line, at)`,
      { bind: [claim.runId, claim.stepId, claim.attempt, lines.map((l) => l.line.slice(0, 10_000)), lines.map((l) => l.at.toISOString())] },
    );
  }

  /** Fail the attempts held by dead workers, so they are retried as new attempts. */
  async reapLostSteps(staleMs: number): Promise<number> {
    const lost = await withTransaction(this.sequelize, (tx) => sql.lostSteps(tx, staleMs));
    let reaped = 0;
    for (const s of lost) {
      const error: StepError = { code: 'WORKER_LOST', message: `worker ${s.worker_id ?? '(unknown)'} stopped responding while running attempt ${s.attempt}` };
      const result = await this.finishAttempt({ runId: s.run_id, stepRunId: s.id, attempt: s.attempt, jobId: s.job_id ?? '' }, { ok: false, error }, s.worker_id);
      if (result === 'recorded') reaped++;
    }
    if (reaped) this.logger.warn({ reaped }, 'retried steps whose worker died');
    return reaped;
  }

  /**
   * Repair runs whose rows and jobs disagree: queued steps whose job is gone, ready steps with no
   * job, runs whose steps have all ended, pausing/cancelling runs with nothing left running.
   */
  async reconcile(): Promise<{ requeued: number; runsNudged: number }> {
    let requeued = 0;
    const orphans = await withTransaction(this.sequelize, (tx) => sql.orphanedQueuedSteps(tx));
    for (const o of orphans) {
      await this.onRun(o.run_id, { actor: 'reconciler' }, async (rt) => {
        const step = await sql.lockStep(rt.tx, o.id);
        if (!step || (step.status !== 'QUEUED' && step.status !== 'RETRYING')) return;
        this.enqueue(rt, [step], 'QUEUED');
        rt.events.add({ type: 'RUN_REPAIRED', stepId: step.step_id, status: 'QUEUED', message: 'step was queued without a live job; enqueued again', actor: 'reconciler' });
        requeued++;
      });
    }
    const runs = await withTransaction(this.sequelize, (tx) => sql.runsToReconcile(tx));
    for (const r of runs) {
      await this.onRun(r.id, { actor: 'reconciler' }, async (rt) => {
        if (rt.run.status === 'QUEUED' || rt.run.status === 'RUNNING') await this.decide(rt, await sql.readyPending(rt.tx, r.id));
        await this.settleRun(rt);
        if (rt.events.size) rt.events.add({ type: 'RUN_REPAIRED', message: 'reconciler scheduled ready steps or settled the run', actor: 'reconciler' });
      });
    }
    if (requeued || runs.length) this.logger.warn({ requeued, runsNudged: runs.length }, 'reconciler repaired runs');
    return { requeued, runsNudged: runs.length };
  }

  // ---------------------------------------------------------------- internals

  private runTx(ctx: TxCtx, run: sql.RunRow, wf: CompiledWorkflow, actor: string): RunTx {
    return { ctx, tx: ctx.tx, run, wf, events: new EventBatch(run.id), actor, doneDelta: 0, known: new Map() };
  }

  /** The run's workflow version, read through the transaction (never another connection). */
  private workflowOf(tx: Tx, run: sql.RunRow): Promise<CompiledWorkflow> {
    return this.compiled(run.workflow_id, (text, values) => tx.query<WorkflowRow>(text, values));
  }

  /** A compiled workflow version from the cache, read with `query` on a miss. */
  private compiled(id: number, query: (text: string, values: unknown[]) => Promise<WorkflowRow[]>): Promise<CompiledWorkflow> {
    return this.workflows.get(id, async () => (await query(`SELECT id, name, version, definition FROM workflows WHERE id = $1`, [id]))[0]);
  }

  /**
   * Lock a run, apply a change, store its events: one transaction. Returns the run as that
   * transaction left it (read before the COMMIT and sent with it: no read-back afterwards, which
   * could already see a worker's later change).
   */
  private async onRun(runId: string, who: Actor, fn: (rt: RunTx) => Promise<void>): Promise<RunModel> {
    if (!isUuid(runId)) throw notFound('run', runId);
    let read: Promise<Record<string, unknown>[]> | undefined;
    await withTransaction(this.sequelize, async (tx) => {
      const run = await sql.lockRun(tx, runId);
      if (!run) throw notFound('run', runId);
      const rt = this.runTx({ tx, queue: [] }, run, await this.workflowOf(tx, run), who.actor ?? 'anonymous');
      await fn(rt);
      this.flush(rt.ctx, [rt]);
      read = tx.query(`SELECT ${this.runColumns()} FROM runs WHERE id = $1`, [runId], 'skein_run_as_left');
    });
    return this.db.models.Run.build((await read!)[0], { isNewRecord: false, raw: true });
  }

  /**
   * End of a transaction: write the queued jobs (one insert for all runs) and then the events and
   * steps_done deltas of every run (one statement). Workers are woken after the commit.
   */
  private flush(ctx: TxCtx, rts: RunTx[]): void {
    const { tx } = ctx;
    const queue = ctx.queue.splice(0);
    if (queue.length) {
      let soonest = Infinity;
      const jobs = queue.map(({ rt, step, delayMs }) => {
        soonest = Math.min(soonest, delayMs);
        const data: StepJob = { runId: rt.run.id, stepRunId: step.id, stepId: step.step_id, attempt: step.attempt + 1 };
        return { id: randomUUID(), data, delayMs };
      });
      // Neither statement is waited for: they go out with the events and the COMMIT (see Tx).
      void sql.insertJobs(tx, jobs, 'created');
      void sql.setStepJobs(tx, queue.map((q, i) => ({ stepRunId: q.step.id, jobId: jobs[i].id, status: q.status })));
      tx.afterCommit(() => {
        const at = Date.now() + soonest;
        if (soonest > 0) this.local.emit('wakeAt', at);
        else this.local.emit('wake');
        void this.bus.publish('wake', { at });
      });
    }
    const items = rts.map((rt) => {
      const delta = rt.doneDelta;
      rt.doneDelta = 0;
      return { batch: rt.events, runStatus: () => rt.run.status, stepsDoneDelta: delta };
    });
    flushEvents(tx, this.bus, items);
  }

  /** Set a run's status where nothing later in the transaction needs the UPDATE's answer (see Tx). */
  private markRun(rt: RunTx, status: RunStatus, extra: Omit<sql.RunUpdate, 'status'>): void {
    rt.run.status = status;
    void sql.updateRun(rt.tx, rt.run.id, { status, ...extra }).catch(() => undefined); // a failure fails the transaction
  }

  private async setRunStatus(rt: RunTx, status: RunStatus, extra: Omit<sql.RunUpdate, 'status'> = {}): Promise<void> {
    rt.run.status = status;
    await sql.updateRun(rt.tx, rt.run.id, { status, ...extra });
  }

  /** A QUEUED run starts when its first step does (runs or waits for approval). */
  private runStarted(rt: RunTx): void {
    if (rt.run.status !== 'QUEUED') return;
    rt.events.add({ type: 'RUN_STARTED', status: 'RUNNING' });
    this.markRun(rt, 'RUNNING', { started: true });
  }

  private addDone(rt: RunTx, n: number): void {
    rt.run.steps_done += n;
    rt.doneDelta += n;
  }

  /** Withdraw the jobs of QUEUED/RETRYING steps and move those steps to `to`. */
  private async withdraw(rt: RunTx, to: 'PENDING' | 'CANCELLED', message: string): Promise<void> {
    const queued = await sql.stepsWithStatus(rt.tx, rt.run.id, ['QUEUED', 'RETRYING']);
    if (!queued.length) return;
    await sql.withdrawJobs(rt.tx, queued.flatMap((s) => (s.job_id ? [s.job_id] : [])));
    await sql.updateSteps(rt.tx, queued.map((s) => s.id), { status: to, jobId: null, ...(to === 'CANCELLED' ? { finished: true } : {}) });
    for (const s of queued) {
      rt.events.add({ type: to === 'CANCELLED' ? 'STEP_CANCELLED' : 'STEP_RESET', stepId: s.step_id, status: to, attempt: s.attempt, actor: rt.actor, message });
    }
    if (to === 'CANCELLED') this.addDone(rt, queued.length);
  }

  /** Queue the next attempt of these steps: written (or started at once) at the end of the transaction. */
  private enqueue(rt: RunTx, steps: sql.StepRow[], status: 'QUEUED' | 'RETRYING', delayMs = 0): void {
    for (const step of steps) {
      rt.ctx.queue.push({ rt, step, status, delayMs });
      if (status === 'QUEUED') rt.events.add({ type: 'STEP_QUEUED', stepId: step.step_id, status: 'QUEUED', attempt: step.attempt + 1 });
    }
  }

  /** Steps just ended (per run): release their dependents and decide the ones whose needs have all ended. */
  private async stepsEnded(ended: Map<RunTx, string[]>): Promise<void> {
    const items = this.dependentsOf(ended);
    if (items.length) await this.released([...ended.keys()], await sql.releaseDependents(items[0].rt.tx, items));
  }

  /** How many needs each dependent of these just-ended steps loses (one item per run and dependent). */
  private dependentsOf(ended: Map<RunTx, string[]>): { rt: RunTx; runId: string; stepId: string; n: number }[] {
    const items: { rt: RunTx; runId: string; stepId: string; n: number }[] = [];
    for (const [rt, ids] of ended) {
      const counts = new Map<string, number>();
      for (const id of ids) for (const d of rt.wf.dependents.get(id) ?? []) counts.set(d, (counts.get(d) ?? 0) + 1);
      for (const [stepId, n] of counts) items.push({ rt, runId: rt.run.id, stepId, n });
    }
    return items;
  }

  /**
   * Decide the steps just released (all their needs ended); the ones skipped end too and release
   * their own dependents, wave after wave.
   */
  private async released(rts: RunTx[], rows: sql.StepRow[]): Promise<void> {
    const byRun = new Map(rts.map((rt) => [rt.run.id, rt]));
    while (rows.length) {
      const candidates = new Map<RunTx, sql.StepRow[]>();
      for (const row of rows) {
        const rt = byRun.get(row.run_id)!;
        const list = candidates.get(rt) ?? [];
        list.push(row);
        candidates.set(rt, list);
      }
      const next = new Map<RunTx, string[]>();
      for (const [rt, list] of candidates) {
        const skipped = await this.decide(rt, list);
        if (skipped.length) next.set(rt, skipped);
      }
      const items = this.dependentsOf(next);
      rows = items.length ? await sql.releaseDependents(items[0].rt.tx, items) : [];
    }
  }

  /**
   * Decide steps whose needs have all ended: skip, wait for approval, or enqueue. Only while the
   * run is live (QUEUED/RUNNING); a paused run decides them on resume. Returns the steps skipped.
   */
  private async decide(rt: RunTx, candidates: sql.StepRow[]): Promise<string[]> {
    if (!candidates.length || !isLive(rt.run)) return [];
    const unknown: string[] = [];
    for (const n of new Set(candidates.flatMap((c) => c.needs))) {
      if (rt.known.has(n)) continue;
      const cached = this.outputs.get(rt.run.id, n);
      if (cached) rt.known.set(n, { status: 'SUCCEEDED', output: cached.output });
      else unknown.push(n);
    }
    for (const [id, v] of Object.entries(await sql.outputsOf(rt.tx, rt.run.id, unknown))) rt.known.set(id, v);
    const skipped: { id: string; stepId: string; reason: string }[] = [];
    const toQueue: sql.StepRow[] = [];
    const toWait: sql.StepRow[] = [];
    for (const step of candidates) {
      const def = rt.wf.steps.get(step.step_id)!;
      const skip = (reason: string) => skipped.push({ id: step.id, stepId: step.step_id, reason });
      if (def.trigger !== 'allDone') {
        const bad = step.needs.find((n) => rt.known.get(n)?.status !== 'SUCCEEDED');
        if (bad) {
          const st = rt.known.get(bad)?.status;
          skip(`need ${bad} ${st === 'FAILED' ? 'failed' : st === 'SKIPPED' ? 'was skipped' : st === 'CANCELLED' ? 'was cancelled' : `is ${st}`}`);
          continue;
        }
      }
      if (def.if) {
        let verdict: unknown;
        try {
          verdict = await jsonata(def.if).evaluate({ input: rt.run.input, steps: await this.upstreamOutputs(rt, def.id) });
        } catch (err) {
          skip(`its if failed to evaluate: ${(err as Error).message}`);
          continue;
        }
        if (!verdict || (Array.isArray(verdict) && verdict.length === 0)) {
          skip(`its if (${def.if}) was false`);
          continue;
        }
      }
      if (this.registry.get(step.type)?.kind === 'approval') toWait.push(step);
      else toQueue.push(step);
    }
    if (skipped.length) {
      await sql.skipSteps(rt.tx, skipped);
      for (const { stepId, reason } of skipped) {
        rt.known.set(stepId, { status: 'SKIPPED', output: null });
        rt.events.add({ type: 'STEP_SKIPPED', stepId, status: 'SKIPPED', message: reason });
      }
      this.addDone(rt, skipped.length);
    }
    for (const step of toWait) {
      await sql.updateSteps(rt.tx, [step.id], { status: 'WAITING', attempt: step.attempt + 1, started: true, jobId: null });
      const prompt = (rt.wf.steps.get(step.step_id)?.with as { prompt?: string } | undefined)?.prompt ?? null;
      rt.events.add({ type: 'STEP_WAITING', stepId: step.step_id, status: 'WAITING', attempt: step.attempt + 1, message: prompt });
    }
    if (toWait.length) this.runStarted(rt);
    this.enqueue(rt, toQueue, 'QUEUED');
    return skipped.map((s) => s.stepId);
  }

  /** Outputs of every step upstream of `stepId`, for `if` expressions. */
  private async upstreamOutputs(rt: RunTx, stepId: string): Promise<Record<string, { output: unknown; status: string }>> {
    const seen = new Set<string>();
    const stack = [...(rt.wf.steps.get(stepId)?.needs ?? [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(rt.wf.steps.get(id)?.needs ?? []));
    }
    return sql.outputsOf(rt.tx, rt.run.id, [...seen]);
  }

  /** End the run when every step has ended; finish PAUSING/CANCELLING when nothing runs. */
  private async settleRun(rt: RunTx): Promise<void> {
    const { run } = rt;
    if (run.status === 'QUEUED' || run.status === 'RUNNING' || run.status === 'PAUSING') {
      if (run.steps_done >= run.steps_total) {
        // The first failed step and how many failed, in one statement (none: the run succeeded).
        const [first] = await rt.tx.query<{ step_id: string; error: StepError | null; failed: number }>(
          `SELECT step_id, error, count(*) OVER ()::int AS failed FROM step_runs
           WHERE run_id = $1 AND status = 'FAILED' ORDER BY finished_at, position LIMIT 1`,
          [run.id],
          'skein_first_failed',
        );
        if (first) {
          const error = { message: `${first.failed} step(s) failed; first: ${first.step_id}: ${first.error?.message ?? 'failed'}`, stepId: first.step_id, code: first.error?.code ?? 'STEP_FAILED' };
          rt.events.add({ type: 'RUN_FAILED', status: 'FAILED', message: error.message });
          this.markRun(rt, 'FAILED', { finished: true, error, started: true });
        } else {
          // The sinks' outputs: known to this transaction or cached when they just succeeded.
          const output: Record<string, unknown> = {};
          const unknown: string[] = [];
          for (const sink of rt.wf.sinks) {
            const known = rt.known.get(sink) ?? this.outputs.get(run.id, sink);
            if (known) output[sink] = known.output;
            else unknown.push(sink);
          }
          for (const [k, v] of Object.entries(await sql.outputsOf(rt.tx, run.id, unknown))) output[k] = v.output;
          rt.events.add({ type: 'RUN_SUCCEEDED', status: 'SUCCEEDED', progress: 1 });
          this.markRun(rt, 'SUCCEEDED', { finished: true, output: Object.fromEntries(rt.wf.sinks.map((k) => [k, output[k] ?? null])), started: true });
        }
        return;
      }
    }
    if (run.status === 'PAUSING' && (await sql.countRunning(rt.tx, run.id)) === 0) {
      rt.events.add({ type: 'RUN_PAUSED', status: 'PAUSED' });
      await this.setRunStatus(rt, 'PAUSED');
    } else if (run.status === 'CANCELLING' && (await sql.countRunning(rt.tx, run.id)) === 0) {
      // Anything still unfinished (e.g. steps released by a pause) is cancelled with the run.
      const left = await sql.stepsWithStatus(rt.tx, run.id, ['PENDING', 'WAITING', 'QUEUED', 'RETRYING']);
      await sql.updateSteps(rt.tx, left.map((s) => s.id), { status: 'CANCELLED', finished: true, jobId: null });
      for (const s of left) rt.events.add({ type: 'STEP_CANCELLED', stepId: s.step_id, status: 'CANCELLED' });
      this.addDone(rt, left.length);
      rt.events.add({ type: 'RUN_CANCELLED', status: 'CANCELLED' });
      await this.setRunStatus(rt, 'CANCELLED', { finished: true });
    }
  }
}

function rejection(comment?: string | null): StepError {
  return { code: 'REJECTED', message: comment ? `rejected: ${comment}` : 'rejected' };
}

/**
 * Outputs of SUCCEEDED steps (final: nothing resets a succeeded step), so the inputs of dependents
 * started in later transactions need no query. Bounded by entries and bytes; oldest out first.
 */
class OutputCache {
  private readonly map = new Map<string, { output: unknown; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxEntries = 20_000, private readonly maxBytes = 16 * 1024 * 1024, private readonly maxEntryBytes = 64 * 1024) {}

  get(runId: string, stepId: string): { output: unknown } | undefined {
    return this.map.get(`${runId}/${stepId}`);
  }

  set(runId: string, stepId: string, output: unknown, bytes: number): void {
    if (bytes > this.maxEntryBytes) return;
    const key = `${runId}/${stepId}`;
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.map.delete(key);
    }
    this.map.set(key, { output, bytes });
    this.bytes += bytes;
    for (const [k, v] of this.map) {
      if (this.map.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.bytes;
    }
  }
}

const isLive = (run: { status: RunStatus }) => run.status === 'QUEUED' || run.status === 'RUNNING';

const copy = (value: unknown): unknown => (value !== null && typeof value === 'object' ? structuredClone(value) : value);

/** A value as it reads back from a jsonb column. */
const normalise = (value: unknown): unknown => JSON.parse(jsonb(value ?? null));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

