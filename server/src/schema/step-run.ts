import { Op } from 'sequelize';
import { STEP_STATUSES, type AttemptRecord, type StepRunModel } from '../db/models/step-run.js';
import type { StepLogModel } from '../db/models/step-log.js';
import type { WorkflowDefinition } from '../engine/dag.js';
import { badInput } from '../errors.js';
import { builder } from './builder.js';
import { ErrorInfoRef } from './run.js';

export const StepStatusEnum = builder.enumType('StepStatus', { values: STEP_STATUSES });
export const StepRunRef = builder.objectRef<StepRunModel>('StepRun');

const AttemptRef = builder.objectRef<AttemptRecord>('StepAttempt').implement({
  description: 'One finished attempt of a step, with its error if it failed.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    status: t.exposeString('status'),
    error: t.field({ type: ErrorInfoRef, nullable: true, resolve: (a) => a.error ?? null }),
    workerId: t.string({ nullable: true, resolve: (a) => a.workerId ?? null }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.startedAt }),
    finishedAt: t.field({ type: 'DateTime', resolve: (a) => a.finishedAt }),
  }),
});

const StepLogRef = builder.objectRef<StepLogModel>('StepLog').implement({
  fields: (t) => ({
    id: t.int({ description: 'Cursor: pass as `after` to read on.', resolve: (l) => Number(l.id) }),
    attempt: t.exposeInt('attempt'),
    line: t.exposeString('line'),
    at: t.field({ type: 'DateTime', resolve: (l) => l.at }),
  }),
});

StepRunRef.implement({
  description: 'A step of a run: its current attempt, status, progress, output, error and history.',
  fields: (t) => ({
    id: t.exposeID('id'),
    runId: t.exposeID('runId'),
    stepId: t.exposeString('stepId'),
    type: t.exposeString('type'),
    status: t.field({ type: StepStatusEnum, resolve: (s) => s.status }),
    attempt: t.exposeInt('attempt'),
    maxAttempts: t.exposeInt('maxAttempts'),
    progress: t.float({ resolve: (s) => s.progress }),
    progressMessage: t.string({ nullable: true, resolve: (s) => s.progressMessage }),
    output: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.output ?? null }),
    error: t.field({ type: ErrorInfoRef, nullable: true, resolve: (s) => s.error }),
    skipReason: t.string({ nullable: true, resolve: (s) => s.skipReason }),
    needs: t.exposeStringList('needs'),
    with: t.field({
      type: 'JSON',
      nullable: true,
      resolve: async (s, _a, ctx) => {
        const run = await ctx.db.models.Run.findByPk(s.runId);
        const wf = run && (await ctx.db.models.Workflow.findByPk(run.workflowId));
        return wf ? ((ctx.engine.workflows.of(wf).definition as WorkflowDefinition).steps.find((d) => d.id === s.stepId)?.with ?? null) : null;
      },
    }),
    attempts: t.field({ type: [AttemptRef], resolve: (s) => s.attempts ?? [] }),
    logs: t.field({
      type: [StepLogRef],
      description: 'Log lines in order, after the `after` cursor (a StepLog id), at most `first` (default 500, max 5,000).',
      args: { after: t.arg.int(), first: t.arg.int(), attempt: t.arg.int() },
      resolve: (s, args, ctx) => {
        const first = args.first ?? 500;
        if (first < 1 || first > 5000) throw badInput('first must be between 1 and 5000', { argument: 'first' });
        return ctx.db.models.StepLog.findAll({
          where: {
            runId: s.runId,
            stepId: s.stepId,
            ...(args.after ? { id: { [Op.gt]: args.after } } : {}),
            ...(args.attempt ? { attempt: args.attempt } : {}),
          },
          order: [['id', 'ASC']],
          limit: first,
        });
      },
    }),
    queuedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.queuedAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.finishedAt }),
    workerId: t.string({ nullable: true, resolve: (s) => s.workerId }),
  }),
});

builder.mutationFields((t) => ({
  approveStep: t.field({
    type: StepRunRef,
    description: 'Decide a WAITING approval step: approved = SUCCEEDED with { approved, comment, by }; rejected = permanent failure with the comment.',
    args: {
      runId: t.arg.id({ required: true }),
      stepId: t.arg.string({ required: true }),
      approved: t.arg.boolean({ required: true }),
      comment: t.arg.string(),
    },
    resolve: (_r, args, ctx) =>
      ctx.engine.approveStep({ runId: String(args.runId), stepId: args.stepId, approved: args.approved, comment: args.comment, actor: ctx.actor }),
  }),
}));
