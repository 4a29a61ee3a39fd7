// The transaction helper on a real Postgres: pipelined statements, failures of statements nobody
// awaited, and a worker's leased connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabaseExists, openDatabase, type Database } from '../src/db/sequelize.js';
import { dropLease, withTransaction, type Lease } from '../src/db/tx.js';
import { dropDatabase, testDatabaseUrl, waitFor } from './support.js';

const dbUrl = testDatabaseUrl('tx');
let db: Database;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  await ensureDatabaseExists(dbUrl);
  db = openDatabase(dbUrl);
  await db.sequelize.query(`CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)`);
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await db?.close();
  await dropDatabase(dbUrl);
});

const rows = async () => (await db.sequelize.query(`SELECT id, v FROM t ORDER BY id`))[0];
// Node reports unhandled rejections once the microtasks have run: after one macrotask they are in.
const reported = () => new Promise((resolve) => setImmediate(resolve));

describe('withTransaction', () => {
  it('commits statements nobody waited for, in the order they were sent', async () => {
    const seen = await withTransaction(db.sequelize, async (tx) => {
      void tx.query(`INSERT INTO t (id, v) VALUES (1, 'a')`);
      void tx.query(`UPDATE t SET v = v || 'b' WHERE id = 1`);
      return tx.query<{ v: string }>(`SELECT v FROM t WHERE id = 1`, [], 'tx_test_read');
    });
    expect(seen).toEqual([{ v: 'ab' }]);
    expect(await rows()).toEqual([{ id: 1, v: 'ab' }]);
  });

  it('fails and rolls back when a statement nobody waited for fails, without an unhandled rejection', async () => {
    let afterCommit = false;
    await expect(
      withTransaction(db.sequelize, async (tx) => {
        void tx.query(`INSERT INTO t (id, v) VALUES (2, 'kept?')`);
        void tx.query(`INSERT INTO t (id, v) VALUES (1, 'duplicate key')`);
        void tx.query(`INSERT INTO t (id, v) VALUES (3, 'after the failure')`);
        tx.afterCommit(() => (afterCommit = true));
      }),
    ).rejects.toThrow(/duplicate key/);
    await reported();
    expect(unhandled).toEqual([]);
    expect(afterCommit).toBe(false);
    expect(await rows()).toEqual([{ id: 1, v: 'ab' }]);
    // The connection is fine for the next transaction.
    await withTransaction(db.sequelize, async (tx) => void (await tx.query(`INSERT INTO t (id, v) VALUES (2, 'b')`)));
    expect(await rows()).toHaveLength(2);
  });

  it('keeps a leased connection across transactions and replaces it once it has failed', async () => {
    const lease: Lease = { client: null };
    const pid = (tx: Parameters<Parameters<typeof withTransaction>[1]>[0]) => tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`).then((r) => r[0].pid);
    try {
      const first = await withTransaction(db.sequelize, pid, lease);
      expect(await withTransaction(db.sequelize, pid, lease)).toBe(first);
      // The server ends that session; once the client has noticed, the next transaction gets a
      // new connection instead of failing.
      await db.sequelize.query(`SELECT pg_terminate_backend($1)`, { bind: [first] });
      await waitFor(() => lease.client?._invalid, 'the client to notice its session ended');
      const second = await withTransaction(db.sequelize, pid, lease);
      expect(second).not.toBe(first);
      expect(await withTransaction(db.sequelize, pid, lease)).toBe(second);
    } finally {
      await dropLease(db.sequelize, lease);
    }
    expect(lease.client).toBeNull();
    await reported();
    expect(unhandled).toEqual([]);
  });
});
