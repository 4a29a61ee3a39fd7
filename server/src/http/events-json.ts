import pg from 'pg';
import { canPrepare } from '../db/tx.js';
import type { Context } from '../schema/builder.js';
import type { RunEventRow } from '../schema/event.js';

/**
 * `Run.events` as the JSON text GraphQL would write, byte for byte, written by Postgres (see
 * events-fast-path.ts). On a real Postgres a page comes by `COPY … TO STDOUT (FORMAT binary)`, so
 * its text stays UTF-8 bytes from Postgres's socket to the response's: pg would decode every
 * column of an ordinary row into a JavaScript string, to be encoded again on the way out. The bytes
 * are copied once, into slabs of memory that are used again once a response has been written: a
 * large answer then allocates next to nothing that the garbage collector has to find.
 */

/** A field of RunEvent, or `__typename`, as `eventsJson` writes it. */
export type EventField = keyof RunEventRow | '__typename';

/** One entry of an event's JSON object: the response key (alias or name) and the field. */
export interface EventEntry {
  key: string;
  field: EventField;
}

/**
 * How each column becomes JSON text in SQL. `text` columns are strings: when none needs escaping
 * (checked once per row of events: see eventsJsonSql) they are written as they are between
 * quotes, a null as NULL_MARK between quotes (replaced by `null` afterwards: cheaper than a test
 * per value); else through to_json. `quoted` values never need escaping and are never null. The
 * quotes go into the literals around the values.
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

/** A null string in plain text, between its quotes: `"\u0002\u0002"`, as long as the `null` that replaces it in place. */
const NULL_MARK = '\u0002\u0002';
const QUOTED_NULL = `"${NULL_MARK}"`;
const NULL_BYTES = Buffer.from('null');
/** Where a `data` value goes. */
const DATA_MARK = 1;

/** What one statement is asked for: the run's events after `afterSeq`, at most `first` of them. */
interface PageArgs {
  runId: string;
  afterSeq: number;
  first: number;
  entries: readonly EventEntry[];
  /** Only the events afterSeq < seq <= afterSeq + first (see eventsJson). */
  bounded: boolean;
  /** Strings written as they are (each row then says whether one needed escaping). */
  plain: boolean;
  /** Whether the run exists, and has events after the range, is asked too (one statement of a page does). */
  meta: boolean;
}

/**
 * The SQL of one page: each event's JSON text (`literal` writes the constant pieces between the
 * values), and the aggregates over a set of events: their texts comma-separated (in the order of
 * the subquery, seq: an aggregate above an index scan reads the rows in that order), their `data`
 * values as one JSON array, whether a string needs escaping (`plain` only: then the caller asks
 * again with `plain` false), whether a value is one JSON.stringify would write differently (the
 * caller then takes the normal path).
 */
function eventsJsonSql(page: PageArgs, literal: (piece: string) => string): { text: string; data: string; escape: string; odd: string } {
  const { entries, runId, plain } = page;
  const pieces: string[] = [];
  const exprs: string[] = [];
  let piece = '{';
  for (const { key, field } of entries) {
    piece += `${piece === '{' ? '' : ','}${JSON.stringify(key)}:`;
    if (field === '__typename') piece += '"RunEvent"';
    else if (field === 'runId') piece += JSON.stringify(runId);
    else {
      const c = JSON_OF[field]!;
      let sql = c.sql;
      let quoted = !!c.quoted;
      if (c.text && !plain) sql = c.nullable ? `coalesce(to_json(${c.text})::text, 'null')` : `to_json(${c.text})::text`;
      else if (c.text) {
        sql = c.nullable ? `coalesce(${c.text}, chr(2) || chr(2))` : c.text;
        quoted = true;
      }
      if (quoted) piece += '"';
      pieces.push(piece);
      exprs.push(sql);
      piece = quoted ? '"' : '';
    }
  }
  pieces.push(`${piece}}`);
  // One || chain: every piece is text and never null (values are coalesced above).
  const parts: string[] = [];
  pieces.forEach((p, i) => {
    parts.push(literal(p));
    if (i < exprs.length) parts.push(exprs[i]);
  });
  const fields = new Set(entries.map((e) => e.field));
  const strings = [...fields].map((f) => JSON_OF[f]?.text).filter((t): t is string => !!t);
  const odd: string[] = [];
  // JavaScript writes a float4's text back unchanged only as a plain decimal (Postgres writes
  // one for 1e-4 <= |p| < 1e6, and an exponent, NaN or Infinity otherwise), and -0 as 0. Tested
  // on the numbers: their text would be written once more.
  if (fields.has('progress')) odd.push(`coalesce(bool_or(CASE WHEN x.progress = 0 THEN x.progress::text <> '0' ELSE NOT (abs(x.progress) >= '1e-4'::real AND abs(x.progress) < '1e6'::real) END), false)`);
  // Outside these years JavaScript's ISO format differs (and 'infinity' is an error).
  if (fields.has('at')) odd.push(`coalesce(min(x.at) < timestamptz '1970-01-01 00:00:00+00' OR max(x.at) >= timestamptz '10000-01-01 00:00:00+00', false)`);
  return {
    text: `string_agg(${parts.join(' || ')}, ',')`,
    data: fields.has('data') ? `(json_agg(x.data) FILTER (WHERE x.data IS NOT NULL))::text` : 'NULL::text',
    escape: plain && strings.length ? `coalesce(string_agg(${strings.map((t) => `coalesce(${t}, '')`).join(' || ')}, '') ~ '[[:cntrl:]"\\\\]', false)` : 'false',
    odd: odd.length ? odd.join(' OR ') : 'false',
  };
}

/** Statement names by text: one name for one text in this process, so no connection sees two. */
const statementNames = new Map<string, string>();

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (!name && statementNames.size < 200) statementNames.set(text, (name = `skein-events-json-${statementNames.size}`));
  return name;
}

/**
 * A page as one ordinary statement (on the embedded Postgres, which has no COPY to a client): one
 * row of (found, text, data, escape, odd, count, more). Its text depends only on which columns are
 * asked for, in which order: every key (alias) travels as a parameter, inside the pieces.
 */
function eventsJsonStatement(page: PageArgs): { text: string; values: unknown[] } {
  const values: unknown[] = [page.runId, page.afterSeq, page.first];
  const sql = eventsJsonSql(page, (piece) => `$${values.push(piece)}::text`);
  const range = page.bounded ? 'seq > $2 AND seq <= $2 + $3' : 'seq > $2';
  const text = [
    'SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)',
    sql.text,
    sql.data,
    sql.escape,
    sql.odd,
    'count(*)::int',
    page.bounded ? 'EXISTS (SELECT 1 FROM run_events WHERE run_id = $1 AND seq > $2 + $3)' : 'false',
  ].join(', ');
  return { text: `${text} FROM (SELECT * FROM run_events WHERE run_id = $1 AND ${range} ORDER BY seq LIMIT $3) x`, values };
}

/**
 * Events per row of a page sent by COPY (~50 kB of text here). A row is one CopyData message: pg
 * reads it without growing its buffer, and each row's text and checks are over few events
 * (Postgres's regular expressions and string aggregates cost less on short strings).
 */
const CHUNK = 200;

/**
 * The same page as a binary COPY, in rows of (lo, found, more, text, data, escape, odd, count):
 * for a bounded page one row per CHUNK events (seq ranges, in order, each read by its own index
 * range scan), else one row; with `meta`, first a row (null, found, more). COPY takes no
 * parameters: every value is a literal (a checked UUID, integers, escaped strings).
 */
function eventsCopyStatement(page: PageArgs): string {
  const run = `${pg.escapeLiteral(page.runId)}::uuid`;
  const after = `${page.afterSeq}`;
  const end = `${page.afterSeq + page.first}`;
  const sql = eventsJsonSql(page, (piece) => `${pg.escapeLiteral(piece)}::text`);
  const aggregates = `${sql.text}, ${sql.data}, ${sql.escape}, ${sql.odd}, count(*)::int`;
  const rows = page.bounded
    ? `SELECT c.lo, NULL::bool, NULL::bool, s.* FROM generate_series(${after}, ${end} - 1, ${CHUNK}) AS c(lo) CROSS JOIN LATERAL (SELECT ${aggregates} FROM (SELECT * FROM run_events WHERE run_id = ${run} AND seq > c.lo AND seq <= least(c.lo::bigint + ${CHUNK}, ${end}) ORDER BY seq) x) s`
    : `SELECT ${after}, NULL::bool, NULL::bool, ${aggregates} FROM (SELECT * FROM run_events WHERE run_id = ${run} AND seq > ${after} ORDER BY seq LIMIT ${page.first}) x`;
  const more = page.bounded ? `EXISTS (SELECT 1 FROM run_events WHERE run_id = ${run} AND seq > ${end})` : 'false';
  const meta = page.meta ? `SELECT NULL::int, EXISTS (SELECT 1 FROM runs WHERE id = ${run}), ${more}, NULL::text, NULL::text, NULL::bool, NULL::bool, NULL::int UNION ALL ` : '';
  return `COPY (${meta}${rows}) TO STDOUT (FORMAT binary)`;
}

/** Memory for pages' text, 256 kB at a time; up to 32 slabs wait to be used again. */
const SLAB = 256 * 1024;
const idleSlabs: Buffer[] = [];

function takeSlab(): Buffer {
  return idleSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB);
}

function giveSlabs(slabs: readonly Buffer[]): void {
  for (const slab of slabs) if (slab.length === SLAB && idleSlabs.length < 32) idleSlabs.push(slab);
}

/** The text of a page's events, comma-separated, copied into slabs as it comes: `pieces` in order. */
class PageText {
  readonly slabs: Buffer[] = [];
  readonly pieces: Buffer[] = [];
  private slab: Buffer | null = null;
  private start = 0;
  private used = 0;

  /** Appends one row's text (after a comma, unless it is the first); a text is never split. */
  add(text: Buffer): void {
    const comma = this.pieces.length || this.used > this.start ? 1 : 0;
    const length = comma + text.length;
    if (length > SLAB) {
      // Larger than a slab: memory of its own (not kept).
      this.close();
      const own = Buffer.allocUnsafe(length);
      if (comma) own[0] = 0x2c;
      text.copy(own, comma);
      this.pieces.push(own);
      return;
    }
    if (!this.slab || this.used + length > SLAB) {
      this.close();
      this.slab = takeSlab();
      this.slabs.push(this.slab);
      this.start = this.used = 0;
    }
    if (comma) this.slab[this.used] = 0x2c;
    text.copy(this.slab, this.used + comma);
    this.used += length;
  }

  /** The text so far as pieces (call once all rows are in). */
  close(): Buffer[] {
    if (this.slab && this.used > this.start) this.pieces.push(this.slab.subarray(this.start, this.used));
    this.start = this.used;
    return this.pieces;
  }

  release(): void {
    giveSlabs(this.slabs);
    this.slabs.length = 0;
  }
}

/** One row of a page (its text goes to the page's `text`). */
interface PageRow {
  data: string | null;
  escape: boolean;
  odd: boolean;
  count: number;
}

/** A page: its rows, its text, whether its strings were written as they are, and the meta answers (if asked). */
interface JsonPage {
  rows: PageRow[];
  text: PageText | string[];
  plain: boolean;
  found?: boolean;
  more?: boolean;
}

/** The 11-byte signature of binary COPY data (then flags and the length of a header extension). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const isTrue = (b: Buffer | null): boolean => b !== null && b[0] === 1;

/**
 * The rows of binary COPY data as they come, message by message: each row's fields (views of the
 * message, valid during `onRow` only: pg reuses its read buffer) go to `onRow` at once. A row split
 * across messages is joined first (Postgres sends a row per message, the header with the first).
 */
export class CopyRows {
  /** What went wrong (`push` runs inside pg's message handling: it records, it never throws). */
  error: Error | null = null;
  ended = false;
  private rest: Buffer | null = null;
  private started = false;

  /** `onRow` returns an error message to stop. */
  constructor(private readonly onRow: (fields: readonly (Buffer | null)[]) => string | undefined) {}

  push(chunk: Buffer): void {
    if (this.error || this.ended) return;
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let at = 0;
    if (!this.started) {
      if (buf.length < 19 || buf.length < 19 + buf.readInt32BE(15)) {
        this.rest = Buffer.from(buf);
        return;
      }
      if (!buf.subarray(0, 11).equals(COPY_SIGNATURE)) {
        this.error = new Error('events JSON: not binary COPY data');
        return;
      }
      at = 19 + buf.readInt32BE(15);
      this.started = true;
    }
    const fields: (Buffer | null)[] = [];
    while (at + 2 <= buf.length) {
      const count = buf.readInt16BE(at);
      if (count === -1) {
        this.ended = true;
        return;
      }
      fields.length = 0;
      let p = at + 2;
      while (fields.length < count && p + 4 <= buf.length) {
        const length = buf.readInt32BE(p);
        if (length >= 0 && p + 4 + length > buf.length) break;
        fields.push(length < 0 ? null : buf.subarray(p + 4, p + 4 + length));
        p += 4 + Math.max(length, 0);
      }
      if (fields.length < count) break;
      const error = this.onRow(fields);
      if (error) {
        this.error = new Error(`events JSON: ${error}`);
        return;
      }
      at = p;
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at));
  }
}

/**
 * A page by binary COPY: each row's text is copied into the page's slabs as it comes, the rest
 * decoded.
 */
class CopyPage extends pg.Query {
  readonly page: JsonPage;
  private readonly reader: CopyRows;
  private lo = -Infinity;

  constructor(args: PageArgs) {
    super(eventsCopyStatement(args));
    const page: JsonPage = (this.page = { rows: [], text: new PageText(), plain: args.plain });
    this.reader = new CopyRows((f) => {
      if (f.length !== 8) return `${f.length} columns`;
      if (f[0] === null) {
        page.found = isTrue(f[1]);
        page.more = isTrue(f[2]);
        return;
      }
      // In seq order (generate_series drives the nested loop); checked, as the text goes out in this order.
      const lo = f[0].readInt32BE(0);
      if (lo <= this.lo) return 'rows out of order';
      this.lo = lo;
      if (f[3]) (page.text as PageText).add(f[3]);
      page.rows.push({ data: f[4] && f[4].toString(), escape: isTrue(f[5]), odd: isTrue(f[6]), count: f[7] ? f[7].readInt32BE(0) : 0 });
    });
  }

  /** Called by pg for each CopyData message. */
  handleCopyData(msg: { chunk: Buffer }): void {
    this.reader.push(msg.chunk);
  }

  async result(conn: pg.Client): Promise<JsonPage> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.on('error', reject);
        this.on('end', () => resolve());
        void conn.query(this);
      });
      if (this.reader.error) throw this.reader.error;
      if (!this.reader.ended) throw new Error('events JSON: the COPY data ended early');
      return this.page;
    } catch (err) {
      (this.page.text as PageText).release();
      throw err;
    }
  }
}

type JsonRow = [found: boolean, text: string | null, data: string | null, escape: boolean, odd: boolean, count: number, more: boolean];

/** A page by one ordinary statement (prepared where the database allows), its text a string. */
async function queryPage(ctx: Pick<Context, 'db'>, conn: pg.Client, page: PageArgs): Promise<JsonPage> {
  const { text, values } = eventsJsonStatement(page);
  const query: pg.QueryArrayConfig = { name: canPrepare(ctx.db.sequelize) ? statementName(text) : undefined, text, values, rowMode: 'array' };
  const [found, body, data, escape, odd, count, more] = (await conn.query<JsonRow>(query)).rows[0];
  return { rows: [{ data, escape, odd, count }], text: body === null ? [] : [body], plain: page.plain, found, more };
}

const release = (page: JsonPage): void => {
  if (page.text instanceof PageText) page.text.release();
};

/**
 * One page, on a connection of its own: plain, or, if a string needs escaping, again with every
 * string through to_json. By COPY on a real Postgres; by one statement on the embedded one.
 */
async function eventsJsonPage(ctx: Pick<Context, 'db'>, args: Omit<PageArgs, 'plain'>): Promise<JsonPage> {
  const copy = canPrepare(ctx.db.sequelize);
  const manager = ctx.db.sequelize.connectionManager;
  const conn = (await manager.getConnection({ type: 'read' })) as unknown as pg.Client;
  try {
    const run = (plain: boolean) => (copy ? new CopyPage({ ...args, plain }).result(conn) : queryPage(ctx, conn, { ...args, plain }));
    const page = await run(true);
    if (!page.rows.some((r) => r.escape)) return page;
    // A string with a quote, a backslash or a control character: the same, escaped by Postgres.
    release(page);
    return await run(false);
  } finally {
    await manager.releaseConnection(conn as never);
  }
}

/** `"\u0002\u0002"` → `null`, in place, in plain text (the marks are the only control characters there). */
function nullsInPlace(text: Buffer): boolean {
  for (let i = text.indexOf(2); i !== -1; i = text.indexOf(2, i + 3)) {
    if (text[i - 1] !== 0x22 || text[i + 1] !== 2 || text[i + 2] !== 0x22) return false;
    NULL_BYTES.copy(text, i - 1);
  }
  return true;
}

/** A page of at least this many events is written by two statements at once, on two connections. */
const SPLIT_AT = 2_000;

/** The JSON text of a list of events, as bytes to write in order; `release` once they have been written. */
export interface EventsJson {
  chunks: Buffer[];
  length: number;
  release(): void;
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * `Run.events` of a run as the JSON text of the list GraphQL would write for these entries,
 * byte for byte, built by Postgres. Null when the run does not exist or a value is one only the
 * normal path writes right (the caller then takes that path). `runId` is the run's id as Postgres
 * writes it (lower case); `first` has been checked.
 *
 * A long page is written in two halves at once, by two backends (Postgres spends most of the
 * time here writing text, one core per statement): events afterSeq < seq <= afterSeq + first/2,
 * and the rest up to afterSeq + first. Seqs have no gaps, so that is the page; if the first half is
 * short while the second holds any (the run gained events between the two snapshots), or the
 * halves hold fewer than `first` events while the run has more after them (a gap after all), one
 * statement writes the page. Not on the embedded Postgres, where statements run one at a time anyway.
 */
export async function eventsJson(ctx: Pick<Context, 'db'>, runId: string, afterSeq: number, first: number, entries: readonly EventEntry[]): Promise<EventsJson | null> {
  let pages: JsonPage[] | null = null;
  if (first >= SPLIT_AT && afterSeq + first < 2 ** 31 && canPrepare(ctx.db.sequelize)) {
    const half = first >> 1;
    const settled = await Promise.allSettled([
      eventsJsonPage(ctx, { runId, afterSeq, first: half, entries, bounded: true, meta: false }),
      eventsJsonPage(ctx, { runId, afterSeq: afterSeq + half, first: first - half, entries, bounded: true, meta: true }),
    ]);
    pages = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      pages.forEach(release);
      throw failed.reason;
    }
    const [low, high] = pages.map((p) => p.rows.reduce((m, r) => m + r.count, 0));
    // Each half reads its own snapshot. Events come in seq order, so a short first half with a
    // second that holds any (the run gained events between the two snapshots) leaves a hole; so
    // does a short page while the run has more after it (a gap in the seqs after all).
    if ((low < half && high > 0) || (low + high < first && pages[1].more)) {
      pages.forEach(release);
      pages = null;
    }
  }
  pages ??= [await eventsJsonPage(ctx, { runId, afterSeq, first, entries, bounded: false, meta: true })];
  const done = pages;
  const text = textOf(done);
  if (!text) done.forEach(release);
  return text && { ...text, release: () => done.forEach(release) };
}

/** The pages' text with nulls and `data` values in place, or null where only the normal path writes it right. */
function textOf(pages: JsonPage[]): Omit<EventsJson, 'release'> | null {
  if (!pages.some((p) => p.found) || pages.some((p) => p.rows.some((r) => r.odd))) return null;
  const chunks: Buffer[] = [OPEN];
  let length = 1;
  const push = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
  };
  for (const page of pages) {
    const pieces = page.text instanceof PageText ? page.text.close() : page.text.map((t) => Buffer.from(page.plain && t.includes(NULL_MARK) ? t.replaceAll(QUOTED_NULL, 'null') : t));
    if (!pieces.length) continue;
    // Plain text holds no control character but the marks (the escape check saw to it).
    if (page.plain && page.text instanceof PageText && !pieces.every(nullsInPlace)) return null;
    if (chunks.length > 1) push(COMMA);
    // `data` as the normal path writes it: parsed from its JSON, then written by JSON.stringify.
    const data = page.rows.flatMap((r) => (r.data === null ? [] : (JSON.parse(r.data) as unknown[])));
    let next = 0;
    for (const piece of pieces) {
      let from = 0;
      for (let i = data.length ? piece.indexOf(DATA_MARK) : -1; i !== -1; i = piece.indexOf(DATA_MARK, from)) {
        if (next === data.length) return null;
        push(piece.subarray(from, i));
        push(Buffer.from(JSON.stringify(data[next++])));
        from = i + 1;
      }
      push(from ? piece.subarray(from) : piece);
    }
    if (next !== data.length) return null;
  }
  push(CLOSE);
  return { chunks, length };
}
