import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../config.js';

/**
 * The embedded Postgres of the zero-service mode (no DATABASE_URL): PGlite served over the wire
 * protocol from a worker thread, on 127.0.0.1 and a free port. The rest of Skein gets an ordinary
 * connection string and cannot tell the difference — except that PGlite is ONE Postgres session
 * shared by every connection. The thread hands that session to one connection at a time, for a
 * whole statement (Parse to Sync, or a simple Query) and on to the end of any transaction the
 * statement opens; the other connections' statements wait their turn (see SessionQueue in
 * embedded-worker.mjs). So a query awaited on another connection while a transaction is open
 * waits forever (see db/tx.ts), and a statement prepared by name is seen by every connection.
 */
export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (PGlite has one database). */
  url: string;
  /** Where the data lives (<SKEIN_DATA_DIR>/pg). */
  dataDir: string;
  /** True when this start created the data directory. */
  fresh: boolean;
  /** Milliseconds from the call until the server accepted connections. */
  startMs: number;
  /** Close the socket server and the database, end the worker thread, release the data dir. */
  stop(): Promise<void>;
}

/**
 * Connections the socket server accepts. They all share one session, so this only has to cover
 * every pool: Sequelize (10) + pg-boss (4) + the migration lock client (1), with room to spare.
 */
export const EMBEDDED_MAX_CONNECTIONS = 64;

const STOP_TIMEOUT_MS = 10_000;

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  maxConnections?: number;
  readyTimeoutMs?: number;
  /** Called when the thread dies while it should be serving (not on stop()). */
  onCrash?: (err: Error) => void;
}): Promise<EmbeddedPostgres> {
  const started = Date.now();
  const root = path.resolve(opts.dataDir);
  const dataDir = path.join(root, 'pg');
  await mkdir(root, { recursive: true });
  const releaseLock = await lockDataDir(path.join(root, 'pg.lock'), dataDir);
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));

  let worker: Worker | undefined;
  let port: number;
  try {
    const thread = spawnWorker({ dataDir, host: '127.0.0.1', maxConnections: opts.maxConnections ?? EMBEDDED_MAX_CONNECTIONS });
    worker = thread;
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('embedded Postgres did not start in time')), opts.readyTimeoutMs ?? 120_000);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        thread.off('message', onMessage);
        thread.off('error', onError);
        thread.off('exit', onExit);
        fn();
      };
      const onMessage = (msg: { type: string; port?: number; message?: string }) => {
        if (msg.type === 'ready') done(() => resolve(msg.port!));
        else if (msg.type === 'error') done(() => reject(new Error(`embedded Postgres failed to start: ${msg.message}`)));
      };
      const onError = (err: Error) => done(() => reject(new Error(`embedded Postgres failed to start: ${err.message}`)));
      const onExit = (code: number) => done(() => reject(new Error(`embedded Postgres thread exited (code ${code}) before it was ready`)));
      thread.on('message', onMessage);
      thread.on('error', onError);
      thread.on('exit', onExit);
    });
  } catch (err) {
    await worker?.terminate().catch(() => undefined);
    await releaseLock();
    throw err;
  }

  const thread = worker;
  let stopping: Promise<void> | undefined;
  thread.on('error', (err) => {
    if (!stopping) opts.onCrash?.(err);
  });
  thread.on('exit', (code) => {
    if (!stopping) opts.onCrash?.(new Error(`embedded Postgres thread exited (code ${code})`));
  });
  const stop = () =>
    (stopping ??= (async () => {
      try {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
          const finish = () => {
            clearTimeout(timer);
            resolve();
          };
          thread.on('message', (msg: { type: string }) => {
            if (msg.type === 'stopped' || msg.type === 'error') finish();
          });
          thread.once('exit', finish);
          thread.postMessage({ type: 'stop' });
        });
      } finally {
        await thread.terminate().catch(() => undefined);
        await releaseLock();
      }
    })());

  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dataDir, fresh, startMs: Date.now() - started, stop };
}

/** The thread's file is plain JavaScript (see there); execArgv [] keeps it free of the parent's loaders. */
function spawnWorker(workerData: { dataDir: string; host: string; maxConnections: number }): Worker {
  return new Worker(new URL('./embedded-worker.mjs', import.meta.url), { workerData, execArgv: [] });
}

/**
 * One process per data directory: two PGlite instances on the same files would corrupt them.
 * A lock file holds the owner's pid; a lock whose process is gone is taken over.
 */
const heldLocks = new Set<string>();

async function lockDataDir(lockPath: string, dataDir: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      heldLocks.add(lockPath);
      return async () => {
        if (!heldLocks.delete(lockPath)) return;
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      // Our own pid on a lock we do not hold: a previous life of this container or pid namespace.
      const inUse = pid === process.pid ? heldLocks.has(lockPath) : pid > 0 && pidAlive(pid);
      if (inUse) {
        throw new ConfigError(`the embedded Postgres data in ${dataDir} is in use by process ${pid}; stop it, or set SKEIN_DATA_DIR to another folder, or DATABASE_URL to a real Postgres`);
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
