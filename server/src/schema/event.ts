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

/** A field of RunEvent, or `__typename`, as `eventsJson` writes it. */
export type EventField = keyof RunEventRow | '__typename';

/** One entry of an event's JSON object: the response key (alias or name) and the field. */
export interface EventEntry {
  key: string;
  field: EventField;
}

/**
 * How each column becomes JSON text in SQL. `text` columns are strings: when none needs escaping
 * (checked once over the whole page) they are written as they are between quotes, a null as
 * NULL_MARK between quotes (replaced by `null` afterwards, once over the whole text: cheaper
 * than a test per value); else through to_json. `quoted` values never need escaping and are
 * never null. The quotes go into the literals around the values.
 */
const JSON_OF: Partial<Record<EventField, { sql: string; text?: string; nullable?: boolean; quoted?: boolean }>> = {
  seq: { sql: 'x.seq::text' },
  type: { sql: 'x.type', text: 'x.type' },
  stepId: { sql: 'x.step_id', text: 'x.step_id', nullable: true },
  status: { sql: 'x.status', text: 'x.status', nullable: true },
  progress: { sql: `coalesce(x.progress::text, 'null')` },
  attempt: { sql: `coalesce(x.attempt::text, 'null')` },
  message: { sql: 'x.message', text: 'x.message', nullable: true },
  actor: { sql: 'x.actor', text: 'x.actor', nullable: true },
  // Spliced in by JavaScript (see below): a control character never occurs in the rest of the text.
  data: { sql: `CASE WHEN x.data IS NULL THEN 'null' ELSE chr(1) END` },
  at: { sql: `to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, quoted: true },
};

/** A null string in a plain page, written between quotes: `"\u0002"` becomes `null`. */
const NULL_MARK = '\u0002';
const QUOTED_NULL = `"${NULL_MARK}"`;

const DATA_MARK = '\u0001';

/** Statement names by text: one name for one text in this process, so no connection sees two. */
const jsonStatements = new Map<string, string>();

function jsonStatementName(ctx: Pick<Context, 'db'>, text: string): string | undefined {
  if (!canPrepare(ctx.db.sequelize)) return undefined;
  let name = jsonStatements.get(text);
  if (!name && jsonStatements.size < 200) jsonStatements.set(text, (name = `skein-events-json-${jsonStatements.size}`));
  return name;
}

/**
 * The statement that writes a page of events as the text of their JSON objects, comma-separated,
 * in Postgres: nothing is decoded per field in JavaScript. Its text depends only on which
 * columns are asked for, in which order; every key (alias) travels as a parameter, inside the
 * literal pieces between the values (`$4` and on).
 *
 * Columns: whether the run exists; the text; the `data` values in order (JSON); whether a string
 * needs escaping (`plain` only: then the caller asks again with `plain` false); whether a value is
 * one JSON.stringify would write differently (the caller then takes the normal path); the number
 * of events; whether the run has events after the range (`bounded` only).
 *
 * The aggregates take the rows in the order of the subquery (seq): an aggregate above a LIMIT
 * over an index scan reads them in that order (no sort is spent on an ORDER BY in each of them).
 * `bounded` pages hold the events with afterSeq < seq <= afterSeq + first (see eventsJson).
 */
function eventsJsonStatement(entries: readonly EventEntry[], runId: string, plain: boolean, bounded = false): { text: string; pieces: string[] } {
  const pieces: string[] = [];
  const values: string[] = [];
  let literal = '{';
  for (const { key, field } of entries) {
    literal += `${literal === '{' ? '' : ','}${JSON.stringify(key)}:`;
    if (field === '__typename') literal += '"RunEvent"';
    else if (field === 'runId') literal += JSON.stringify(runId);
    else {
      const c = JSON_OF[field]!;
      let sql = c.sql;
      let quoted = !!c.quoted;
      if (c.text && !plain) sql = c.nullable ? `coalesce(to_json(${c.text})::text, 'null')` : `to_json(${c.text})::text`;
      else if (c.text) {
        sql = c.nullable ? `coalesce(${c.text}, chr(2))` : c.text;
        quoted = true;
      }
      if (quoted) literal += '"';
      pieces.push(literal);
      values.push(sql);
      literal = quoted ? '"' : '';
    }
  }
  pieces.push(`${literal}}`);
  // One || chain: every piece is text and never null (values are coalesced above).
  const parts: string[] = [];
  pieces.forEach((_, i) => {
    parts.push(`$${i + 4}::text`);
    if (i < values.length) parts.push(values[i]);
  });
  const fields = new Set(entries.map((e) => e.field));
  const strings = [...fields].map((f) => JSON_OF[f]?.text).filter((t): t is string => !!t);
  const odd: string[] = [];
  // JavaScript writes a float4's text back unchanged only as a plain decimal, and -0 as 0.
  if (fields.has('progress')) odd.push(`coalesce(string_agg(x.progress::text, ',') ~ '[^-0-9.,]|(^|,)-0(,|$)', false)`);
  // Outside these years JavaScript's ISO format differs (and 'infinity' is an error).
  if (fields.has('at')) odd.push(`coalesce(min(x.at) < timestamptz '1970-01-01 00:00:00+00' OR max(x.at) >= timestamptz '10000-01-01 00:00:00+00', false)`);
  const text = [
    `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)`,
    `string_agg(${parts.join(' || ')}, ',')`,
    fields.has('data') ? `(json_agg(x.data) FILTER (WHERE x.data IS NOT NULL))::text` : 'NULL',
    plain && strings.length ? `coalesce(string_agg(${strings.map((t) => `coalesce(${t}, '')`).join(' || ')}, '') ~ '[[:cntrl:]"\\\\]', false)` : 'false',
    odd.length ? odd.join(' OR ') : 'false',
    'count(*)::int',
    bounded ? `EXISTS (SELECT 1 FROM run_events WHERE run_id = $1 AND seq > $2 + $3)` : 'false',
  ].join(', ');
  const range = bounded ? 'seq > $2 AND seq <= $2 + $3' : 'seq > $2';
  return {
    text: `${text} FROM (SELECT * FROM run_events WHERE run_id = $1 AND ${range} ORDER BY seq LIMIT $3) x`,
    pieces,
  };
}

type JsonRow = [found: boolean, body: string | null, data: string | null, escape: boolean, odd: boolean, count: number, more: boolean];

/** A statement's row, and whether its strings were written as they are (`plain`). */
interface JsonPage {
  row: JsonRow;
  plain: boolean;
}

/** A page of at least this many events is written by two statements at once, on two connections. */
const SPLIT_AT = 2_000;

/** One statement's page (as plain text, or escaped by Postgres where a string needs it). */
async function eventsJsonPage(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number, entries: readonly EventEntry[], bounded: boolean): Promise<JsonPage> {
  const manager = ctx.db.sequelize.connectionManager;
  const conn = (await manager.getConnection({ type: 'read' })) as unknown as pg.Client;
  try {
    const run = async (plain: boolean) => {
      const { text, pieces } = eventsJsonStatement(entries, runId, plain, bounded);
      const query: pg.QueryArrayConfig = { name: jsonStatementName(ctx, text), text, values: [runId, afterSeq, first, ...pieces], rowMode: 'array' };
      return (await conn.query<JsonRow>(query)).rows[0];
    };
    const row = await run(true);
    // A string with a quote, a backslash or a control character: the same, escaped by Postgres.
    return row[3] ? { row: await run(false), plain: false } : { row, plain: true };
  } finally {
    await manager.releaseConnection(conn as never);
  }
}

/**
 * `Run.events` of a run as the JSON text of the list GraphQL would write for these entries,
 * byte for byte, built by Postgres, in chunks to concatenate. Null when the run does not exist
 * or a value is one only the normal path writes right (the caller then takes that path).
 * `runId` is the run's id as Postgres writes it (lower case); `first` has been checked.
 *
 * A long page is written in two halves at once, by two backends (Postgres spends most of the
 * time here writing text, one core per statement): events afterSeq < seq <= afterSeq + first/2,
 * and the rest up to afterSeq + first. Seqs have no gaps, so that is the page; if the halves hold
 * fewer than `first` events while the run has more after them (a gap after all), one statement
 * writes the page. Not on the embedded Postgres, where statements run one at a time anyway.
 */
export async function eventsJson(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number, entries: readonly EventEntry[]): Promise<string[] | null> {
  let pages: JsonPage[] | null = null;
  if (first >= SPLIT_AT && afterSeq + first < 2 ** 31 && canPrepare(ctx.db.sequelize)) {
    const half = first >> 1;
    pages = await Promise.all([
      eventsJsonPage(ctx, runId, afterSeq, half, entries, true),
      eventsJsonPage(ctx, runId, afterSeq + half, first - half, entries, true),
    ]);
    if (pages[0].row[5] + pages[1].row[5] < first && pages[1].row[6]) pages = null;
  }
  pages ??= [await eventsJsonPage(ctx, runId, afterSeq, first, entries, false)];
  if (!pages[0].row[0] || pages.some((p) => p.row[4])) return null;
  // Chunks, not one string: joined here they would be copied once more for nothing.
  const chunks: string[] = ['['];
  for (const { row, plain } of pages) {
    let body = row[1];
    if (body === null) continue;
    // A plain page holds no control character but these marks (the escape check saw to it).
    if (plain && body.includes(NULL_MARK)) body = body.replaceAll(QUOTED_NULL, 'null');
    if (chunks.length > 1) chunks.push(',');
    if (row[2] === null) {
      chunks.push(body);
      continue;
    }
    // `data` as the normal path writes it: parsed from its JSON, then written by JSON.stringify.
    const data = JSON.parse(row[2]) as unknown[];
    const parts = body.split(DATA_MARK);
    if (parts.length !== data.length + 1) return null;
    chunks.push(parts[0]);
    for (let i = 0; i < data.length; i++) chunks.push(JSON.stringify(data[i]), parts[i + 1]);
  }
  chunks.push(']');
  return chunks;
}
