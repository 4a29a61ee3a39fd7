import type { RunModel } from '../db/models/run.js';
import { RunEventSubscription } from '../live/run-events.js';
import { isUuid } from '../engine/engine.js';
import { notFound } from '../errors.js';
import type { Payload, RunEventMessage, TopicName } from '../pubsub.js';
import { builder, type Context } from './builder.js';
import { eventsOf, RunEventRef } from './event.js';
import { RunRef } from './run.js';

/** A push queue consumed as an async iterator; `close` ends it. */
class Channel<T> {
  private items: T[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Next batch of items, or null once closed; resolves early (empty) after `timeoutMs`. */
  async take(timeoutMs: number): Promise<T[] | null> {
    if (!this.items.length && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.closed) return null;
    return this.items.splice(0);
  }
}

/**
 * Subscribe on the bus; when the bus is down, go on without it (lists refresh on the next change).
 */
async function subscribeOrPoll<T extends TopicName>(ctx: Context, topic: T, handler: (payload: Payload<T>) => void): Promise<() => void> {
  try {
    return await ctx.bus.subscribe(topic, handler);
  } catch {
    return () => undefined;
  }
}

async function assertRun(ctx: Context, runId: string): Promise<void> {
  if (!isUuid(runId) || !(await ctx.db.models.Run.findByPk(runId, { attributes: ['id'] }))) throw notFound('run', runId);
}

/**
 * Every event of a run after `afterSeq`, exactly once and in order (see RunEventSubscription).
 * An unknown run fails here, at subscribe time, as a NOT_FOUND error result.
 */
export async function runEventStream(ctx: Context, id: string, afterSeq: number): Promise<RunEventSubscription> {
  await assertRun(ctx, id);
  // The bus topic and the shared feed are keyed by the id as Postgres prints it.
  const runId = id.toLowerCase();
  return RunEventSubscription.open(ctx.feeds, (id, after, limit, before) => eventsOf(ctx, id, after, limit, before), runId, afterSeq);
}

/** The run after each change (coalesced: at most one fetch per `everyMs`). */
async function* runStream(ctx: Context, runId: string): AsyncGenerator<RunModel> {
  await assertRun(ctx, runId);
  const changes = new Channel<number>();
  const { detach } = await ctx.feeds.attach(runId, (events) => changes.push(events.length));
  try {
    let run = await ctx.db.models.Run.findByPk(runId);
    if (run) yield run;
    for (;;) {
      const batch = await changes.take(30_000);
      if (batch === null) return;
      const fresh = await ctx.db.models.Run.findByPk(runId);
      if (!fresh) return;
      if (!run || batch.length || fresh.updatedAt.getTime() !== run.updatedAt.getTime()) {
        run = fresh;
        yield fresh;
      }
      await sleep(100);
    }
  } finally {
    changes.close();
    detach();
  }
}

/** Runs whose status or progress changed, coalesced to a few per second. */
async function* runsStream(ctx: Context): AsyncGenerator<RunModel> {
  const changed = new Channel<string>();
  const unsubscribe = await subscribeOrPoll(ctx, 'runs', ({ runId }) => changed.push(runId));
  try {
    for (;;) {
      const batch = await changed.take(60_000);
      if (batch === null) return;
      const ids = [...new Set(batch)];
      if (!ids.length) continue;
      const runs = await ctx.db.models.Run.findAll({ where: { id: ids } });
      for (const r of runs) yield r;
      await sleep(250);
    }
  } finally {
    changed.close();
    unsubscribe();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

builder.subscriptionType({});
builder.subscriptionFields((t) => ({
  runEvents: t.field({
    type: RunEventRef,
    description: 'Stored events after afterSeq, then live: no gaps, no duplicates. Resubscribe with the last seq you saw.',
    args: { runId: t.arg.id({ required: true }), afterSeq: t.arg.int() },
    subscribe: (_r, args, ctx) => runEventStream(ctx, String(args.runId), args.afterSeq ?? 0),
    resolve: (event: RunEventMessage) => event,
  }),
  runUpdated: t.field({
    type: RunRef,
    description: 'The run now, then after each change.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_r, args, ctx) => runStream(ctx, String(args.id)),
    resolve: (run: RunModel) => run,
  }),
  runsChanged: t.field({
    type: RunRef,
    description: "Any run's status or progress changed (coalesced); feeds lists.",
    subscribe: (_r, _a, ctx) => runsStream(ctx),
    resolve: (run: RunModel) => run,
  }),
}));
