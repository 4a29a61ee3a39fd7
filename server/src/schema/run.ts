import { Op, type WhereOptions } from 'sequelize';
import { RUN_STATUSES, type RunModel } from '../db/models/run.js';
import type { StepRunModel } from '../db/models/step-run.js';
import { allowedRunActions } from '../engine/lifecycle.js';
import { isUuid } from '../engine/engine.js';
import { badInput } from '../errors.js';
import { builder, type Context } from './builder.js';
import { RunEventRef, storedEvents } from './event.js';
import { StepRunRef } from './step-run.js';
import { WorkflowRef, workflowOrThrow } from './workflow.js';

export const RunStatusEnum = builder.enumType('RunStatus', { values: RUN_STATUSES });
export const RunActionEnum = builder.enumType('RunAction', {
  values: ['pause', 'resume', 'cancel', 'retry'] as const,
  description: 'What can be done to a run now (the UI enables exactly these).',
});

export const RunRef = builder.objectRef<RunModel>('Run');

export const ErrorInfoRef = builder.objectRef<{ message: string; code?: string; stepId?: string; stack?: string }>('ErrorInfo').implement({
  description: 'Why something failed: a message, a stable code (PERMANENT, TIMEOUT, WORKER_LOST, REJECTED, HANDLER_ERROR, …) and where.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.string({ nullable: true, resolve: (e) => e.code ?? null }),
    stepId: t.string({ nullable: true, resolve: (e) => e.stepId ?? null }),
    stack: t.string({ nullable: true, resolve: (e) => e.stack ?? null }),
  }),
});

RunRef.implement({
  description: 'One execution of one workflow version.',
  fields: (t) => ({
    id: t.exposeID('id'),
    workflow: t.field({ type: WorkflowRef, resolve: (r, _a, ctx) => workflowOrThrow(ctx, r.workflowId) }),
    workflowName: t.exposeString('workflowName'),
    workflowVersion: t.exposeInt('workflowVersion'),
    status: t.field({ type: RunStatusEnum, resolve: (r) => r.status }),
    input: t.field({ type: 'JSON', nullable: true, resolve: (r) => r.input ?? null }),
    output: t.field({ type: 'JSON', nullable: true, resolve: (r) => r.output ?? null }),
    error: t.field({ type: ErrorInfoRef, nullable: true, resolve: (r) => r.error }),
    progress: t.float({ description: 'Share of steps that have ended, 0..1.', resolve: (r) => (r.stepsTotal ? r.stepsDone / r.stepsTotal : 1) }),
    stepsTotal: t.exposeInt('stepsTotal'),
    stepsDone: t.exposeInt('stepsDone'),
    steps: t.field({
      type: [StepRunRef],
      resolve: (r, _a, ctx) => ctx.db.models.StepRun.findAll({ where: { runId: r.id }, order: [['position', 'ASC']] }) as Promise<StepRunModel[]>,
    }),
    step: t.field({
      type: StepRunRef,
      nullable: true,
      description: 'One step of the run by its id in the workflow.',
      args: { stepId: t.arg.string({ required: true }) },
      resolve: (r, { stepId }, ctx) => ctx.db.models.StepRun.findOne({ where: { runId: r.id, stepId } }) as Promise<StepRunModel | null>,
    }),
    events: t.field({
      type: [RunEventRef],
      description: 'Stored events after `afterSeq`, in order (at most `first`, default 1,000).',
      args: { afterSeq: t.arg.int(), first: t.arg.int() },
      resolve: (r, args, ctx) => storedEvents(ctx, r.id, args.afterSeq ?? 0, args.first ?? 1000),
    }),
    lastSeq: t.exposeInt('lastSeq'),
    idempotencyKey: t.string({ nullable: true, resolve: (r) => r.idempotencyKey }),
    createdBy: t.exposeString('createdBy'),
    allowedActions: t.field({ type: [RunActionEnum], resolve: (r) => allowedRunActions(r.status) }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.finishedAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (r) => r.updatedAt }),
    durationMs: t.int({
      nullable: true,
      resolve: (r) => (r.startedAt ? (r.finishedAt ?? new Date()).getTime() - r.startedAt.getTime() : null),
    }),
  }),
});

const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.string({ nullable: true, resolve: (p) => p.endCursor }) }),
});
const RunEdgeRef = builder.objectRef<{ cursor: string; node: RunModel }>('RunEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: RunRef, resolve: (e) => e.node }) }),
});

interface RunPage {
  edges: { cursor: string; node: RunModel }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  where: WhereOptions;
}

export const RunConnection = builder.objectRef<RunPage>('RunConnection').implement({
  description: 'Runs, newest first, with cursor pagination.',
  fields: (t) => ({
    edges: t.field({ type: [RunEdgeRef], resolve: (p) => p.edges }),
    nodes: t.field({ type: [RunRef], resolve: (p) => p.edges.map((e) => e.node) }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p.pageInfo }),
    totalCount: t.int({ resolve: (p, _a, ctx) => ctx.db.models.Run.count({ where: p.where }) }),
  }),
});

const encodeCursor = (r: RunModel) => Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at);
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) throw badInput(`cursor "${cursor}" is not one this API gave out`, { argument: 'after' });
  return { createdAt, id };
}

export async function listRuns(
  ctx: Context,
  args: { workflow?: string | null; version?: number; status?: readonly string[] | null; first?: number | null; after?: string | null },
): Promise<RunPage> {
  const first = args.first ?? 50;
  if (first < 1 || first > 500) throw badInput('first must be between 1 and 500', { argument: 'first' });
  const where: Record<string | symbol, unknown> = {};
  if (args.workflow) where.workflowName = args.workflow;
  if (args.version) where.workflowVersion = args.version;
  if (args.status?.length) where.status = { [Op.in]: args.status };
  const filter = { ...where } as WhereOptions;
  if (args.after) {
    const c = decodeCursor(args.after);
    where[Op.or] = [{ createdAt: { [Op.lt]: c.createdAt } }, { createdAt: c.createdAt, id: { [Op.lt]: c.id } }];
  }
  const rows = await ctx.db.models.Run.findAll({ where: where as WhereOptions, order: [['createdAt', 'DESC'], ['id', 'DESC']], limit: first + 1 });
  const page = rows.slice(0, first);
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node), node })),
    pageInfo: { hasNextPage: rows.length > first, endCursor: page.length ? encodeCursor(page[page.length - 1]) : null },
    where: filter,
  };
}

builder.queryFields((t) => ({
  runs: t.field({
    type: RunConnection,
    args: { workflow: t.arg.string(), status: t.arg({ type: [RunStatusEnum] }), first: t.arg.int(), after: t.arg.string() },
    resolve: (_r, args, ctx) => listRuns(ctx, args),
  }),
  run: t.field({
    type: RunRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => (isUuid(String(id)) ? ctx.db.models.Run.findByPk(String(id)) : null),
  }),
}));

builder.mutationFields((t) => ({
  startRun: t.field({
    type: RunRef,
    description: 'Start a run of the latest (or given) version. The same idempotencyKey returns the same run, never a second one.',
    args: {
      workflow: t.arg.string({ required: true }),
      input: t.arg({ type: 'JSON' }),
      idempotencyKey: t.arg.string(),
      version: t.arg.int(),
      reason: t.arg.string(),
    },
    resolve: (_r, args, ctx) =>
      ctx.engine.startRun({ workflow: args.workflow, version: args.version, input: args.input, idempotencyKey: args.idempotencyKey, actor: ctx.actor, reason: args.reason }),
  }),
  pauseRun: t.field({
    type: RunRef,
    description: 'Pause: no new step starts, queued steps are withdrawn, running steps finish (PAUSING), then PAUSED. Nothing fails.',
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_r, { id, reason }, ctx) => ctx.engine.pauseRun(String(id), { actor: ctx.actor, reason }),
  }),
  resumeRun: t.field({
    type: RunRef,
    description: 'Resume a paused run: schedules every step that is ready.',
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_r, { id, reason }, ctx) => ctx.engine.resumeRun(String(id), { actor: ctx.actor, reason }),
  }),
  cancelRun: t.field({
    type: RunRef,
    description: 'Cancel: queued steps are withdrawn, running handlers are aborted through their signal (CANCELLING), then CANCELLED. retryRun can run it on later.',
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_r, { id, reason }, ctx) => ctx.engine.cancelRun(String(id), { actor: ctx.actor, reason }),
  }),
  retryRun: t.field({
    type: RunRef,
    description: 'Re-run a FAILED or CANCELLED run from where it stopped: only steps that did not succeed run again; attempt numbers go on counting.',
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_r, { id, reason }, ctx) => ctx.engine.retryRun(String(id), { actor: ctx.actor, reason }),
  }),
}));
