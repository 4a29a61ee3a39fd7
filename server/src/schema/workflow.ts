import type { WorkflowModel } from '../db/models/workflow.js';
import type { StepDefinition, WorkflowDefinition } from '../engine/dag.js';
import { notFound } from '../errors.js';
import { builder } from './builder.js';
import { RunConnection, listRuns } from './run.js';

export const WorkflowRef = builder.objectRef<WorkflowModel>('Workflow');
const WorkflowStepRef = builder.objectRef<StepDefinition>('WorkflowStep');

WorkflowStepRef.implement({
  description: 'A step as the workflow defines it.',
  fields: (t) => ({
    id: t.exposeString('id'),
    type: t.exposeString('type'),
    description: t.string({ nullable: true, resolve: (s) => s.description ?? null }),
    needs: t.exposeStringList('needs'),
    with: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.with ?? null }),
    if: t.string({ nullable: true, resolve: (s) => s.if ?? null }),
    trigger: t.exposeString('trigger'),
    retry: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.retry ?? null }),
    timeoutMs: t.int({ nullable: true, resolve: (s) => s.timeoutMs ?? null }),
  }),
});

WorkflowRef.implement({
  description: 'One version of a registered workflow. Runs keep the version they started with.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    version: t.exposeInt('version'),
    description: t.string({ nullable: true, resolve: (w) => w.description }),
    checksum: t.exposeString('checksum'),
    definition: t.field({ type: 'JSON', resolve: (w) => w.definition }),
    inputSchema: t.field({ type: 'JSON', nullable: true, resolve: (w) => (w.definition as unknown as WorkflowDefinition).inputSchema ?? null }),
    steps: t.field({ type: [WorkflowStepRef], resolve: (w) => (w.definition as unknown as WorkflowDefinition).steps }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.createdAt }),
    latestVersion: t.int({
      resolve: async (w, _a, ctx) => (await ctx.db.models.Workflow.max<number, WorkflowModel>('version', { where: { name: w.name } })) ?? w.version,
    }),
    versions: t.field({
      type: [WorkflowRef],
      description: 'Every version of this workflow, newest first.',
      resolve: (w, _a, ctx) => ctx.db.models.Workflow.findAll({ where: { name: w.name }, order: [['version', 'DESC']] }),
    }),
    runs: t.field({
      type: RunConnection,
      args: { first: t.arg.int(), after: t.arg.string(), allVersions: t.arg.boolean({ defaultValue: true }) },
      resolve: (w, args, ctx) => listRuns(ctx, { workflow: w.name, version: args.allVersions === false ? w.version : undefined, first: args.first, after: args.after }),
    }),
  }),
});

builder.queryFields((t) => ({
  workflows: t.field({
    type: [WorkflowRef],
    description: 'The latest version of every workflow, by name.',
    resolve: async (_r, _a, ctx) =>
      ctx.db.models.Workflow.findAll({
        where: ctx.db.sequelize.literal(`version = (SELECT max(w2.version) FROM workflows w2 WHERE w2.name = "WorkflowModel"."name")`),
        order: [['name', 'ASC']],
      }),
  }),
  workflow: t.field({
    type: WorkflowRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }), version: t.arg.int() },
    resolve: (_r, { name, version }, ctx) =>
      ctx.db.models.Workflow.findOne({ where: version == null ? { name } : { name, version }, order: [['version', 'DESC']] }),
  }),
}));

builder.mutationFields((t) => ({
  registerWorkflow: t.field({
    type: WorkflowRef,
    description:
      'Register a workflow definition. The same definition as the latest version returns it; a changed one makes version N+1; an invalid one is refused whole (INVALID_DEFINITION, every fault in extensions.faults).',
    args: { definition: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_r, { definition }, ctx) => (await ctx.engine.registerWorkflow(definition)).workflow,
  }),
}));

export async function workflowOrThrow(ctx: { db: { models: { Workflow: typeof WorkflowModel } } }, id: number): Promise<WorkflowModel> {
  const w = await ctx.db.models.Workflow.findByPk(id);
  if (!w) throw notFound('workflow', String(id));
  return w;
}
