import type { Sequelize } from 'sequelize';

/** A pg-boss `db` adapter: its SQL runs on the connection of our transaction. */
export interface BossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * An open transaction. Every query inside it — ours and pg-boss's — goes through `query` or
 * `bossDb`, i.e. the transaction's own connection. Never await another connection while one is
 * open: on embedded Postgres (one shared session) that deadlocks.
 *
 * Statements are sent in the order `query` is called. Where the connection pipelines (every
 * database but the embedded one), a statement is written at once, without waiting for the answer
 * to the one before: a statement whose result is not needed before the next one can be left
 * un-awaited and costs no round trip of its own. `BEGIN` goes out with the first statement and
 * `COMMIT` with the last, and a failed statement fails the transaction even if nobody awaited it.
 */
export interface Tx {
  /**
   * A statement on the transaction's connection. With `name`, it is prepared once per connection
   * and reused (for the hot path's fixed statements: parsed once, not every time).
   */
  query<Row = Record<string, unknown>>(text: string, values?: unknown[], name?: string): Promise<Row[]>;
  bossDb: BossDb;
  /** Run after a successful commit (publishing, waking workers). Errors are the callee's. */
  afterCommit(fn: () => void): void;
}

interface PgResult {
  rows: Record<string, unknown>[];
}

interface PgClient {
  query(text: string, values?: unknown[]): Promise<PgResult>;
  query(config: { name: string; text: string; values?: unknown[] }): Promise<PgResult>;
  /** node-pg 8.23+: write each query at once instead of after the previous one's answer. */
  pipeline: boolean;
  connection?: { stream?: { cork?: () => void; uncork?: () => void } };
  /** Set by Sequelize when the connection failed. */
  _invalid?: boolean;
}

interface ConnectionManager {
  getConnection(options?: { type?: 'read' | 'write' }): Promise<PgClient>;
  releaseConnection(connection: PgClient): void;
  destroyConnection(connection: PgClient): Promise<void>;
}

/**
 * Databases whose connections share one session (the embedded Postgres): a statement prepared by
 * name on one connection would clash with the same name on another, so nothing is prepared there,
 * and nothing is pipelined (its wire protocol is served one message exchange at a time).
 */
const sharedSession = new WeakSet<Sequelize>();

export function disablePreparedStatements(sequelize: Sequelize): void {
  sharedSession.add(sequelize);
}

/** Whether statements may be prepared by name on this database's connections. */
export function canPrepare(sequelize: Sequelize): boolean {
  return !sharedSession.has(sequelize);
}

const ignore = () => undefined;

/**
 * The one place that opens transactions (READ COMMITTED, on a connection of Sequelize's pool).
 * Commits when `fn` resolves and every statement it sent succeeded; otherwise rolls back and
 * rethrows the first failure.
 */
export async function withTransaction<T>(sequelize: Sequelize, fn: (tx: Tx) => Promise<T>, lease?: Lease): Promise<T> {
  const manager = sequelize.connectionManager as unknown as ConnectionManager;
  const prepare = canPrepare(sequelize);
  const pipelined = prepare; // the same databases: any but the embedded one
  if (lease?.client?._invalid) await dropLease(sequelize, lease);
  const client = lease?.client ?? (await manager.getConnection({ type: 'write' }));
  if (lease) lease.client = client;
  client.pipeline = pipelined;
  const callbacks: Array<() => void> = [];
  const sent: Promise<PgResult>[] = [];
  // Without pipelining, a statement is handed to the client only once the one before has
  // answered (node-pg's own queueing of concurrent queries is deprecated).
  let tail: Promise<unknown> = Promise.resolve();
  // Statements sent in one tick leave in one socket write (a write is a costly system call here).
  const stream = client.connection?.stream;
  let corked = false;
  const cork = () => {
    if (corked || !stream?.cork || !stream.uncork) return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork!();
    });
  };
  const send = (text: string, values?: unknown[], name?: string): Promise<PgResult> => {
    if (pipelined) cork();
    const run = () => (name && prepare ? client.query({ name, text, values }) : client.query(text, values));
    const p = pipelined ? run() : tail.then(run, run);
    if (!pipelined) tail = p.catch(ignore);
    p.catch(ignore); // awaited at commit, whether or not the caller awaits it
    sent.push(p);
    return p;
  };
  let healthy = true;
  try {
    send('BEGIN');
    const tx: Tx = {
      query: <Row>(text: string, values?: unknown[], name?: string) => {
        const rows = send(text, values, name).then((r) => r.rows as Row[]);
        rows.catch(ignore); // a caller may leave it un-awaited: its failure fails the transaction instead
        return rows;
      },
      bossDb: { executeSql: (text, values) => send(text, values) },
      afterCommit: (cb) => callbacks.push(cb),
    };
    let result: T;
    try {
      result = await fn(tx);
      // COMMIT goes out behind anything still in flight; a failed statement turns it into a rollback.
      const commit = send('COMMIT');
      const outcomes = await Promise.allSettled(sent);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      await commit;
    } catch (err) {
      await Promise.allSettled(sent);
      await client.query('ROLLBACK').catch(() => {
        healthy = false;
      });
      throw err;
    }
    for (const cb of callbacks) cb();
    return result;
  } finally {
    client.pipeline = false;
    if (!healthy) {
      if (lease) lease.client = null;
      await manager.destroyConnection(client).catch(ignore);
    } else if (!lease) manager.releaseConnection(client);
  }
}

/**
 * A connection kept by one caller across transactions (a worker's loop, whose turns run one after
 * another): its turns never wait behind other work for a pool connection, and the statements it
 * prepared stay prepared. One transaction at a time; `dropLease` gives the connection back.
 */
export interface Lease {
  client: PgClient | null;
}

/** Take the lease's connection now (a worker does at start, before any burst of API work). */
export async function acquireLease(sequelize: Sequelize, lease: Lease): Promise<void> {
  if (lease.client) return;
  lease.client = await (sequelize.connectionManager as unknown as ConnectionManager).getConnection({ type: 'write' });
}

export async function dropLease(sequelize: Sequelize, lease: Lease): Promise<void> {
  const client = lease.client;
  lease.client = null;
  if (!client) return;
  const manager = sequelize.connectionManager as unknown as ConnectionManager;
  if (client._invalid) await manager.destroyConnection(client).catch(ignore);
  else manager.releaseConnection(client);
}
