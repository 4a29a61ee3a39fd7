import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config.js';
import type { StepError } from '../db/models/step-run.js';
import { acquireLease, dropLease, withTransaction, type Lease } from '../db/tx.js';
import type { Claim, Engine, Finished, Outcome } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import type { StepContext } from '../steps/define.js';

type WorkerConfig = Pick<Config, 'WORKER_CONCURRENCY' | 'WORKER_POLL_MS' | 'HEARTBEAT_MS' | 'CANCEL_GRACE_MS' | 'SHUTDOWN_GRACE_MS'>;

class AbortReason extends Error {
  constructor(readonly code: 'CANCELLED' | 'TIMEOUT' | 'SHUTDOWN', message: string) {
    super(message);
    this.name = code === 'TIMEOUT' ? 'TimeoutError' : 'AbortError';
  }
}

interface Active {
  claim: Claim;
  controller: AbortController;
  /** Settles once the attempt's result is recorded (or abandoned). */
  done: Promise<void>;
  /** Finish now with this outcome, without waiting for the handler (abandon). */
  abandon(outcome: Outcome): void;
}

const PROGRESS_EVERY_MS = 250;
const LOG_FLUSH_MS = 200;

/**
 * A worker: up to WORKER_CONCURRENCY attempts at once, driven by one loop whose every turn is one
 * transaction (`Engine.work`): record the attempts that ended since the last turn, and fill the
 * free slots — from the queue when jobs may be waiting, and straight from the dependents those
 * results made ready. While a turn commits, results pile up for the next: under load one
 * transaction carries many. Woken at once by the engine or the bus, polling as fallback.
 * It heartbeats, reaps steps of dead workers, reconciles, and shuts down without losing work.
 */
export class Worker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Active>();
  private stopping = false;
  private wakeResolve: (() => void) | null = null;
  /** Jobs may be waiting in the queue: fetch on the next turn. */
  private wakePending = true;
  /** Attempts that ended, waiting for the next turn to record them. */
  private readonly ended: { finished: Finished; recorded: () => void }[] = [];
  private loopDone: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribers: Array<() => void> = [];
  private readonly tracked = new Set<Promise<unknown>>();
  /** The loop's own connection: its turns never wait behind API requests for a pool connection. */
  private readonly lease: Lease = { client: null };

  constructor(
    private readonly engine: Engine,
    private readonly config: WorkerConfig,
    private readonly logger: Logger,
  ) {}

  get running(): number {
    return this.active.size;
  }

  async start(): Promise<void> {
    const { models } = this.engine.db;
    await models.Worker.create({
      id: this.id,
      hostname: os.hostname(),
      pid: process.pid,
      concurrency: this.config.WORKER_CONCURRENCY,
      running: 0,
      stepTypes: this.engine.registry.list().map((t) => t.type),
      startedAt: new Date(),
      heartbeatAt: new Date(),
    });
    const onWake = () => this.poke();
    const onWakeAt = (at: number) => this.pokeAt(at);
    const onAbort = (ids: string[]) => this.abortSteps(ids, 'run cancelled');
    this.engine.local.on('wake', onWake);
    this.engine.local.on('wakeAt', onWakeAt);
    this.engine.local.on('abort', onAbort);
    this.unsubscribers.push(() => {
      this.engine.local.off('wake', onWake);
      this.engine.local.off('wakeAt', onWakeAt);
      this.engine.local.off('abort', onAbort);
    });
    this.timers.push(setInterval(() => this.track(this.heartbeat()), this.config.HEARTBEAT_MS));
    this.timers.push(setInterval(() => this.track(this.maintain()), this.config.HEARTBEAT_MS));
    this.timers.push(setInterval(() => this.track(this.reconcile()), 60_000));
    await acquireLease(this.engine.db.sequelize, this.lease);
    // Work starts at once and never waits for the bus: polling moves everything without it.
    this.loopDone = this.loop();
    this.track(this.subscribeBus());
    this.track(this.reconcile());
    this.logger.info({ worker: this.id, concurrency: this.config.WORKER_CONCURRENCY }, 'worker started');
  }

  /** Stop fetching, let running steps finish within the grace period, release the rest. */
  async stop(graceMs = this.config.SHUTDOWN_GRACE_MS): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.signal();
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribers) u();
    // The loop claims nothing more but keeps recording results until every attempt has ended.
    const all = () => Promise.all([...this.active.values()].map((a) => a.done));
    const finished = await Promise.race([all().then(() => true), delay(graceMs).then(() => false)]);
    if (!finished) {
      const left = [...this.active.values()];
      this.logger.warn({ steps: left.length }, 'shutdown grace period over; releasing running steps to other workers');
      for (const a of left) {
        a.controller.abort(new AbortReason('SHUTDOWN', 'worker shutting down'));
        a.abandon({ ok: false, error: { code: 'WORKER_LOST', message: `worker ${this.id} shut down before the step finished` } });
      }
      await all();
    }
    this.signal();
    await this.loopDone;
    await dropLease(this.engine.db.sequelize, this.lease);
    await Promise.allSettled([...this.tracked]);
    await this.engine.db.models.Worker.update({ stoppedAt: new Date(), running: 0 }, { where: { id: this.id } }).catch(() => undefined);
    this.logger.info({ worker: this.id }, 'worker stopped');
  }

  /** Wake-ups and cancel signals from other processes; retried in the background while the bus is down. */
  private async subscribeBus(): Promise<void> {
    const { bus } = this.engine;
    let wake: (() => void) | null = null;
    let abort: (() => void) | null = null;
    while (!this.stopping) {
      try {
        wake ??= await bus.subscribe('wake', ({ at }) => this.pokeAt(at));
        abort ??= await bus.subscribe('abort', ({ stepRunIds, reason }) => this.abortSteps(stepRunIds, reason));
        this.unsubscribers.push(wake, abort);
        if (this.stopping) for (const u of [wake, abort]) u();
        return;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'bus unavailable; polling until it is back');
        await delay(2_000);
      }
    }
  }

  /** Jobs were enqueued: fetch on the next turn. */
  poke(): void {
    this.wakePending = true;
    this.signal();
  }

  /** Wake the loop (a result to record, a job to fetch, or shutdown). */
  private signal(): void {
    const resolve = this.wakeResolve;
    this.wakeResolve = null;
    resolve?.();
  }

  private pokeAt(at: number): void {
    const ms = at - Date.now();
    if (ms <= 0) this.poke();
    else setTimeout(() => this.poke(), ms + 5).unref();
  }

  private async loop(): Promise<void> {
    for (;;) {
      const batch = this.ended.splice(0);
      // Slots held by attempts still running (those in `batch` are freed by this turn).
      const busy = this.active.size - batch.length;
      const free = this.stopping ? 0 : Math.max(0, this.config.WORKER_CONCURRENCY - busy);
      const fetch = this.wakePending ? free : 0;
      if (batch.length === 0 && fetch === 0) {
        if (this.stopping && this.active.size === 0) return;
        // Wait for a result, a wake-up, or the poll interval (then look in the queue anyway).
        const polled = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), this.config.WORKER_POLL_MS);
          this.wakeResolve = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        if (polled) this.wakePending = true;
        continue;
      }
      if (fetch > 0) this.wakePending = false;
      let claims: Claim[] = [];
      try {
        const turn = await this.engine.work(this.id, batch.map((b) => b.finished), { fetch, direct: free }, this.lease);
        claims = turn.claims;
        for (const b of batch) b.recorded();
        // Jobs left queued because another transaction held their run: look again shortly.
        if (turn.skipped > 0) this.pokeAt(Date.now() + 20);
      } catch (err) {
        this.logger.error({ err }, 'a worker turn failed; recording its results one by one');
        if (fetch > 0) this.wakePending = true;
        await Promise.all(batch.map((b) => this.recordAlone(b)));
        await delay(Math.min(this.config.WORKER_POLL_MS, 200));
      }
      for (const c of claims) this.execute(c);
      // A full batch from the queue means more may be waiting.
      if (fetch > 0 && claims.length >= fetch) this.wakePending = true;
      // Results are waiting while this turn's claims have just started: let those that return at
      // once (within a few microtasks) land first, so the next turn carries both. Otherwise the
      // slots split into groups whose turns alternate (seen: 3 + 7 of 10, twice the turns).
      if (claims.length && this.ended.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Record one result on its own, with retries. If the database keeps refusing a successful
   * result (an output it cannot store), the attempt is recorded as failed with the reason.
   */
  private async recordAlone(b: { finished: Finished; recorded: () => void }): Promise<void> {
    const { claim, outcome } = b.finished;
    try {
      await retry(() => this.engine.finishAttempt(claim, outcome, this.id), this.logger, 3);
      b.recorded();
      return;
    } catch (err) {
      this.logger.error({ err, step: claim.stepRunId }, 'could not record a step result');
      if (outcome.ok) {
        const failed: Outcome = { ok: false, error: { code: 'OUTPUT_NOT_STORED', message: `the step's output could not be stored: ${(err as Error).message}` } };
        try {
          await this.engine.finishAttempt(claim, failed, this.id);
          b.recorded();
          return;
        } catch {
          // The database is down: try again on a later turn.
        }
      }
    }
    setTimeout(() => {
      this.ended.push(b);
      this.signal();
    }, 1_000).unref();
  }

  private execute(claim: Claim): void {
    const controller = new AbortController();
    let settle!: (outcome: Outcome) => void;
    const outcomePromise = new Promise<Outcome>((resolve) => (settle = resolve));
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      settle(outcome);
    };
    const reporter = new Reporter(this.engine, claim, this.logger);
    let timeout: NodeJS.Timeout | undefined;
    if (claim.timeoutMs) {
      timeout = setTimeout(() => {
        controller.abort(new AbortReason('TIMEOUT', `timed out after ${claim.timeoutMs} ms`));
        // A handler that ignores its signal is abandoned after the grace period.
        setTimeout(() => finish(failure(new AbortReason('TIMEOUT', `timed out after ${claim.timeoutMs} ms (handler ignored its signal)`))), this.config.CANCEL_GRACE_MS).unref();
      }, claim.timeoutMs);
    }
    const handlerRun = this.runHandler(claim, controller.signal, reporter).then(
      (output) => finish(controller.signal.aborted ? failure(controller.signal.reason) : { ok: true, output }),
      (err) => finish(failure(controller.signal.aborted ? controller.signal.reason : err)),
    );
    this.track(handlerRun);
    const done = outcomePromise.then(async (outcome) => {
      clearTimeout(timeout);
      await reporter.close();
      // The loop records it on its next turn (with whatever else ended meanwhile) and frees the slot.
      await new Promise<void>((recorded) => {
        this.ended.push({
          finished: { claim, outcome, workerId: this.id },
          recorded: () => {
            this.active.delete(claim.stepRunId);
            recorded();
          },
        });
        this.signal();
      });
    });
    this.active.set(claim.stepRunId, { claim, controller, done, abandon: finish });
  }

  private async runHandler(claim: Claim, signal: AbortSignal, reporter: Reporter): Promise<unknown> {
    const type = this.engine.registry.get(claim.type);
    if (!type) throw Object.assign(new Error(`no handler for step type "${claim.type}" in worker ${this.id}`), { skeinCode: 'HANDLER_ERROR' });
    const parsed = type.input.safeParse(claim.with ?? undefined);
    if (!parsed.success) {
      throw Object.assign(new Error(`step "with" is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`), { skeinCode: 'INVALID_WITH' });
    }
    const ctx: StepContext<unknown> = {
      with: parsed.data,
      input: claim.input,
      steps: claim.steps,
      attempt: claim.attempt,
      runId: claim.runId,
      stepId: claim.stepId,
      signal,
      progress: (fraction, message) => reporter.progress(fraction, message),
      log: (line) => reporter.log(line),
    };
    return type.run(ctx);
  }

  private abortSteps(stepRunIds: string[], reason: string): void {
    for (const id of stepRunIds) {
      const a = this.active.get(id);
      if (!a || a.controller.signal.aborted) continue;
      a.controller.abort(new AbortReason('CANCELLED', reason));
      setTimeout(() => a.abandon(failure(new AbortReason('CANCELLED', `${reason} (handler ignored its signal; abandoned)`))), this.config.CANCEL_GRACE_MS).unref();
    }
  }

  /** Heartbeat; also learn of cancellations that the bus may have missed. */
  private async heartbeat(): Promise<void> {
    try {
      const cancelled = await withTransaction(this.engine.db.sequelize, async (tx) => {
        await tx.query(`UPDATE workers SET heartbeat_at = now(), running = $2 WHERE id = $1`, [this.id, this.active.size]);
        if (this.active.size === 0) return [];
        return tx.query<{ id: string }>(
          `SELECT s.id FROM step_runs s JOIN runs r ON r.id = s.run_id
           WHERE s.id = ANY($1::uuid[]) AND (r.status = 'CANCELLING' OR s.status <> 'RUNNING')`,
          [[...this.active.keys()]],
        );
      });
      if (cancelled.length) this.abortSteps(cancelled.map((c) => c.id), 'run cancelled');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  /** Reap steps of dead workers. Safe to run in every worker at once: fencing makes a second reap a no-op. */
  private async maintain(): Promise<void> {
    try {
      await this.engine.reapLostSteps(this.config.HEARTBEAT_MS * 4);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reaper failed');
    }
  }

  private async reconcile(): Promise<void> {
    try {
      await this.engine.reconcile();
    } catch (err) {
      this.logger.error({ err }, 'reconciler failed');
    }
  }

  private track<T>(p: Promise<T>): void {
    this.tracked.add(p);
    void p.finally(() => this.tracked.delete(p));
  }
}

/** Throttles progress to a few writes a second and batches log lines. */
class Reporter {
  private lastProgressAt = 0;
  private pendingProgress: { fraction: number; message: string | null } | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private lines: { line: string; at: Date }[] = [];
  private logTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly engine: Engine, private readonly claim: Claim, private readonly logger: Logger) {}

  progress(fraction: number, message?: string): void {
    if (this.closed || !Number.isFinite(fraction)) return;
    this.pendingProgress = { fraction: Math.max(0, Math.min(1, fraction)), message: message ?? null };
    const wait = this.lastProgressAt + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) this.flushProgress();
    else this.progressTimer ??= setTimeout(() => this.flushProgress(), wait);
  }

  log(line: string): void {
    if (this.closed) return;
    this.lines.push({ line: String(line), at: new Date() });
    if (this.lines.length >= 500) this.flushLogs();
    else this.logTimer ??= setTimeout(() => this.flushLogs(), LOG_FLUSH_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.pendingProgress = null;
    this.flushLogs();
    await this.chain;
  }

  private flushProgress(): void {
    this.progressTimer = null;
    const p = this.pendingProgress;
    if (!p) return;
    this.pendingProgress = null;
    this.lastProgressAt = Date.now();
    this.enqueue(async () => {
      const result = await this.engine.recordProgress(this.claim, p.fraction, p.message);
      // Coalesced with other steps of the run: send the latest value again unless a newer one comes.
      if (result === 'coalesced' && !this.closed) {
        this.pendingProgress ??= p;
        this.progressTimer ??= setTimeout(() => this.flushProgress(), 120);
      }
    });
  }

  private flushLogs(): void {
    if (this.logTimer) clearTimeout(this.logTimer);
    this.logTimer = null;
    const lines = this.lines.splice(0);
    if (lines.length) this.enqueue(() => this.engine.appendLogs(this.claim, lines));
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => this.logger.warn({ err: (err as Error).message }, 'progress/log write failed'));
  }
}

function failure(err: unknown): Outcome {
  return { ok: false, error: toStepError(err) };
}

export function toStepError(err: unknown): StepError {
  if (err instanceof AbortReason) return { code: err.code === 'SHUTDOWN' ? 'WORKER_LOST' : err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { skeinCode?: string }).skeinCode ?? (err.name === 'PermanentError' ? 'PERMANENT' : 'HANDLER_ERROR');
    return { code, message: err.message || err.name, stack: err.stack?.split('\n').slice(0, 20).join('\n') };
  }
  return { code: 'HANDLER_ERROR', message: typeof err === 'string' ? err : JSON.stringify(err) ?? 'unknown error' };
}

async function retry<T>(fn: () => Promise<T>, logger: Logger, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      logger.warn({ err: (err as Error).message, try: i }, 'database write failed; retrying');
      await delay(100 * 2 ** i);
    }
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
