import { Op } from 'sequelize';
import type { RunEventMessage } from '../pubsub.js';
import { badInput } from '../errors.js';
import { builder, type Context } from './builder.js';

export const RunEventRef = builder.objectRef<RunEventMessage>('RunEvent').implement({
  description: 'A change in a run, with a per-run sequence number (`seq`) that has no gaps.',
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    runId: t.exposeID('runId'),
    type: t.exposeString('type'),
    stepId: t.string({ nullable: true, resolve: (e) => e.stepId }),
    status: t.string({ nullable: true, resolve: (e) => e.status }),
    progress: t.float({ nullable: true, resolve: (e) => e.progress }),
    attempt: t.int({ nullable: true, resolve: (e) => e.attempt }),
    message: t.string({ nullable: true, resolve: (e) => e.message }),
    actor: t.string({ nullable: true, resolve: (e) => e.actor }),
    data: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.data ?? null }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
  }),
});

/** Stored events of a run after `afterSeq`, in order. */
export async function eventsOf(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number, beforeSeq?: number): Promise<RunEventMessage[]> {
  if (first < 1 || first > 10_000) throw badInput('first must be between 1 and 10000', { argument: 'first' });
  const rows = await ctx.db.models.RunEvent.findAll({
    where: {
      runId,
      seq: beforeSeq === undefined ? { [gt]: afterSeq } : { [gt]: afterSeq, [lt]: beforeSeq },
    },
    order: [['seq', 'ASC']],
    limit: first,
    raw: true,
  });
  return rows.map((r) => ({ ...(r as unknown as RunEventMessage), at: new Date(r.at).toISOString() }));
}

const gt = Op.gt;
const lt = Op.lt;
