import type { Sequelize, Transaction } from 'sequelize';

/** A pg-boss `db` adapter: its SQL runs on the connection of our transaction. */
export interface BossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * An open transaction. Every query inside it — ours and pg-boss's — goes through `query` or
 * `bossDb`, i.e. the transaction's own connection. Never await another connection while one is
 * open: on embedded Postgres (one shared session) that deadlocks.
 */
export interface Tx {
  transaction: Transaction;
  /**
   * A statement on the transaction's connection. With `name`, it is prepared once per connection
   * and reused (for the hot path's fixed statements: parsed and planned once, not every time).
   */
  query<Row = Record<string, unknown>>(text: string, values?: unknown[], name?: string): Promise<Row[]>;
  bossDb: BossDb;
  /** Run after a successful commit (publishing, waking workers). Errors are the callee's. */
  afterCommit(fn: () => void): void;
}

interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  query(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Databases whose connections share one session (the embedded Postgres): a statement prepared by
 * name on one connection would clash with the same name on another, so nothing is prepared there.
 */
const sharedSession = new WeakSet<Sequelize>();

export function disablePreparedStatements(sequelize: Sequelize): void {
  sharedSession.add(sequelize);
}

/** Whether statements may be prepared by name on this database's connections. */
export function canPrepare(sequelize: Sequelize): boolean {
  return !sharedSession.has(sequelize);
}

/** The one place that opens transactions. */
export async function withTransaction<T>(sequelize: Sequelize, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const callbacks: Array<() => void> = [];
  const prepare = canPrepare(sequelize);
  const result = await sequelize.transaction(async (transaction) => {
    // Sequelize 6 keeps the pg client of a transaction on `connection`.
    const client = (transaction as unknown as { connection: PgClientLike }).connection;
    const tx: Tx = {
      transaction,
      query: async <Row>(text: string, values?: unknown[], name?: string) =>
        (await (name && prepare ? client.query({ name, text, values }) : client.query(text, values))).rows as Row[],
      bossDb: { executeSql: (text, values) => client.query(text, values) },
      afterCommit: (cb) => callbacks.push(cb),
    };
    return fn(tx);
  });
  for (const cb of callbacks) cb();
  return result;
}
