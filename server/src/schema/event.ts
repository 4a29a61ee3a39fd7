import type pg from 'pg';
import type { RunEventMessage } from '../pubsub.js';
import { badInput } from '../errors.js';
import { canPrepare } from '../db/tx.js';
import { builder, type Context } from './builder.js';

/**
 * A run event as GraphQL resolves it: from the bus (`at` an ISO string) or from `Run.events` (`at`
 * in epoch milliseconds, which the DateTime scalar takes as it takes a Date, without allocating one).
 */
export type RunEventRow = Omit<RunEventMessage, 'at'> & { at: string | number };

export const RunEventRef = builder.objectRef<RunEventRow>('RunEvent').implement({
  description: 'A change in a run, with a per-run sequence number (`seq`) that has no gaps.',
  fields: (t) => ({
    // Every field is a plain property: no resolver, so compiled queries read it inline.
    seq: t.exposeInt('seq'),
    runId: t.exposeID('runId'),
    type: t.exposeString('type'),
    stepId: t.exposeString('stepId', { nullable: true }),
    status: t.exposeString('status', { nullable: true }),
    progress: t.exposeFloat('progress', { nullable: true }),
    attempt: t.exposeInt('attempt', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
    actor: t.exposeString('actor', { nullable: true }),
    data: t.expose('data', { type: 'JSON', nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

// run_id is the one asked for: not sent back 10,000 times. `at` last, in one of two forms.
const COLUMNS = `seq, type, step_id, status, progress, attempt, message, actor, data`;
// `at` to the millisecond, computed by Postgres: no timestamp parsing in JavaScript.
const AT_ISO = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const AT_MS = `(extract(epoch FROM date_trunc('milliseconds', at)) * 1000)::float8`;

type Row = [number, string, string | null, string | null, number | null, number | null, string | null, string | null, unknown, string | number];

/**
 * One plain statement on the primary key (run_id, seq), prepared once per connection (see canPrepare), on a
 * connection of Sequelize's pool, rows as arrays: no model instances, and one object per event,
 * all of one shape (pg's own row objects are built key by key, at several times the cost).
 */
async function selectEvents(ctx: Pick<Context, 'db'>, name: string, at: string, runId: string, afterSeq: number, first: number, beforeSeq?: number): Promise<RunEventRow[]> {
  if (first < 1 || first > 10_000) throw badInput('first must be between 1 and 10000', { argument: 'first' });
  const before = beforeSeq === undefined ? '' : ' AND seq < $4';
  const query: pg.QueryArrayConfig = {
    // Not on the embedded Postgres, whose connections share one session (names would clash).
    name: canPrepare(ctx.db.sequelize) ? `skein-events-${name}${before ? '-before' : ''}` : undefined,
    text: `SELECT ${COLUMNS}, ${at} FROM run_events WHERE run_id = $1 AND seq > $2${before} ORDER BY seq LIMIT $3`,
    values: beforeSeq === undefined ? [runId, afterSeq, first] : [runId, afterSeq, first, beforeSeq],
    rowMode: 'array',
  };
  const manager = ctx.db.sequelize.connectionManager;
  const conn = (await manager.getConnection({ type: 'read' })) as unknown as pg.Client;
  let rows: Row[];
  try {
    rows = (await conn.query<Row>(query)).rows;
  } finally {
    await manager.releaseConnection(conn as never);
  }
  const events = new Array<RunEventRow>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    events[i] = { runId, seq: r[0], type: r[1], stepId: r[2], status: r[3], progress: r[4], attempt: r[5], message: r[6], actor: r[7], data: r[8], at: r[9] };
  }
  return events;
}

/** Stored events of a run after `afterSeq` (before `beforeSeq`), in order, as they travel on the bus. */
export function eventsOf(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number, beforeSeq?: number): Promise<RunEventMessage[]> {
  return selectEvents(ctx, 'iso', AT_ISO, runId, afterSeq, first, beforeSeq) as Promise<RunEventMessage[]>;
}

/** The same for `Run.events`, with `at` in epoch milliseconds (no string to parse, no Date to allocate). */
export function storedEvents(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number): Promise<RunEventRow[]> {
  return selectEvents(ctx, 'ms', AT_MS, runId, afterSeq, first);
}

