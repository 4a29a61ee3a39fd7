import { z } from 'zod';
import type { WorkerModel } from '../db/models/worker.js';
import { STEP_QUEUE } from '../engine/queue.js';
import { builder } from './builder.js';

interface QueueStats {
  name: string;
  queued: number;
  deferred: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  oldestQueuedAt: Date | null;
  liveWorkers: number;
}

const QueueStatsRef = builder.objectRef<QueueStats>('QueueStats').implement({
  description: 'Depth of a job queue and whether any live worker serves it (a queue with none says so).',
  fields: (t) => ({
    name: t.exposeString('name'),
    queued: t.exposeInt('queued', { description: 'Jobs ready to start now.' }),
    deferred: t.exposeInt('deferred', { description: 'Jobs waiting for a retry delay.' }),
    active: t.exposeInt('active'),
    completed: t.exposeInt('completed'),
    failed: t.exposeInt('failed'),
    cancelled: t.exposeInt('cancelled'),
    oldestQueuedAt: t.field({ type: 'DateTime', nullable: true, resolve: (q) => q.oldestQueuedAt }),
    liveWorkers: t.exposeInt('liveWorkers'),
    warning: t.string({
      nullable: true,
      resolve: (q) => (q.liveWorkers === 0 && q.queued + q.deferred > 0 ? 'no live worker serves this queue: start one with `npx skein worker`' : null),
    }),
  }),
});

/** A worker is alive while it heartbeats (every HEARTBEAT_MS; presumed dead after 4 missed). */
const ALIVE_MS = 15_000;

const WorkerInfoRef = builder.objectRef<WorkerModel>('WorkerInfo').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    hostname: t.exposeString('hostname'),
    pid: t.exposeInt('pid'),
    concurrency: t.exposeInt('concurrency'),
    running: t.exposeInt('running'),
    stepTypes: t.exposeStringList('stepTypes'),
    startedAt: t.field({ type: 'DateTime', resolve: (w) => w.startedAt }),
    heartbeatAt: t.field({ type: 'DateTime', resolve: (w) => w.heartbeatAt }),
    stoppedAt: t.field({ type: 'DateTime', nullable: true, resolve: (w) => w.stoppedAt }),
    alive: t.boolean({ resolve: (w) => !w.stoppedAt && Date.now() - w.heartbeatAt.getTime() < ALIVE_MS }),
  }),
});

const StepTypeRef = builder.objectRef<{ type: string; description?: string; kind?: string; input: z.ZodType }>('StepType').implement({
  description: 'A step type this server knows, with the JSON Schema of its `with`.',
  fields: (t) => ({
    type: t.exposeString('type'),
    description: t.string({ nullable: true, resolve: (s) => s.description ?? null }),
    kind: t.string({ resolve: (s) => s.kind ?? 'task' }),
    withSchema: t.field({
      type: 'JSON',
      nullable: true,
      resolve: (s) => {
        try {
          return z.toJSONSchema(s.input, { unrepresentable: 'any', io: 'input' });
        } catch {
          return null;
        }
      },
    }),
  }),
});

builder.queryFields((t) => ({
  queues: t.field({
    type: [QueueStatsRef],
    resolve: async (_r, _a, ctx) => {
      const [rows] = (await ctx.db.sequelize.query(
        `SELECT
           count(*) FILTER (WHERE state IN ('created','retry') AND start_after <= now())::int AS queued,
           count(*) FILTER (WHERE state IN ('created','retry') AND start_after > now())::int AS deferred,
           count(*) FILTER (WHERE state = 'active')::int AS active,
           count(*) FILTER (WHERE state = 'completed')::int AS completed,
           count(*) FILTER (WHERE state = 'failed')::int AS failed,
           count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled,
           min(created_on) FILTER (WHERE state IN ('created','retry') AND start_after <= now()) AS oldest
         FROM pgboss.job WHERE name = $1`,
        { bind: [STEP_QUEUE] },
      )) as unknown as [Array<Record<string, number | Date | null>>];
      const [live] = (await ctx.db.sequelize.query(
        `SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL AND heartbeat_at > now() - $1 * interval '1 millisecond'`,
        { bind: [ALIVE_MS] },
      )) as unknown as [Array<{ n: number }>];
      const r = rows[0];
      return [
        {
          name: STEP_QUEUE,
          queued: Number(r.queued),
          deferred: Number(r.deferred),
          active: Number(r.active),
          completed: Number(r.completed),
          failed: Number(r.failed),
          cancelled: Number(r.cancelled),
          oldestQueuedAt: (r.oldest as Date | null) ?? null,
          liveWorkers: live[0].n,
        },
      ];
    },
  }),
  workers: t.field({
    type: [WorkerInfoRef],
    args: { includeStopped: t.arg.boolean({ defaultValue: false }) },
    description: 'Worker processes, most recent heartbeat first (stopped ones only when asked).',
    resolve: (_r, args, ctx) =>
      ctx.db.models.Worker.findAll({
        where: args.includeStopped ? {} : { stoppedAt: null },
        order: [['heartbeatAt', 'DESC']],
        limit: 200,
      }),
  }),
  stepTypes: t.field({ type: [StepTypeRef], resolve: (_r, _a, ctx) => ctx.engine.registry.list() }),
}));
