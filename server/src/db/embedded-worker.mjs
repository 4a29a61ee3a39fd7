// The embedded Postgres, inside a worker thread: PGlite (Postgres compiled to WASM) served over the
// wire protocol, so a long query never blocks the app's event loop. pglite-socket's handler reads
// each connection's messages; the session queue below decides whose message PGlite runs next.
//
// Plain JavaScript on purpose: a worker thread does not inherit the tsx loader, and registering it
// in the thread costs about a second of start-up; this file only glues two packages together.
//
// Protocol with the parent (embedded.ts): workerData { dataDir, host, maxConnections }; posts
// { type: 'ready', port } or { type: 'error', message }; on { type: 'stop' } it closes the socket
// server and the database, then posts { type: 'stopped' }.
import { createServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

if (!parentPort) throw new Error('embedded-worker must run as a worker thread');
const parent = parentPort;
const { dataDir, host, maxConnections } = workerData;

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': ReadyForQuery outside a transaction block
const TERMINATE = 0x58; // 'X'
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);
const ROLLBACK = queryMessage('ROLLBACK');

/** A simple-protocol Query message. */
function queryMessage(sql) {
  const text = Buffer.from(`${sql}\0`);
  const msg = Buffer.alloc(5 + text.length);
  msg[0] = 0x51; // 'Q'
  msg.writeInt32BE(4 + text.length, 1);
  text.copy(msg, 5);
  return new Uint8Array(msg);
}

/**
 * Follows the backend's messages (type byte, int32 length, body) across output chunks, to tell
 * whether the last one was ReadyForQuery and with which transaction status.
 */
class ReplyTracker {
  header = Buffer.alloc(5);
  headerBytes = 0;
  remaining = 0;
  type = 0;
  /** The status byte of the last message when it was a complete ReadyForQuery, else 0. */
  ready = 0;

  feed(chunk) {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.type === READY_FOR_QUERY && this.remaining === 1) this.ready = chunk[i];
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header[this.headerBytes++] = chunk[i++];
      if (this.headerBytes === 5) {
        this.headerBytes = 0;
        this.type = this.header[0];
        this.remaining = this.header.readInt32BE(1) - 4;
        this.ready = 0;
      }
    }
  }
}

/**
 * PGlite is ONE Postgres session; every connection of the socket server speaks into it. A
 * statement is not one message: the extended protocol sends Parse, Bind, Describe, Execute and
 * Sync, and the session keeps the unnamed statement and portal between them. pglite-socket's own
 * queue gives the session away after every MESSAGE, first come first served, so whenever several
 * connections had statements waiting (behind a transaction, which it does hold the session for)
 * their messages ran interleaved: one connection's Bind bound the other's statement, with the
 * wrong parameters, or found it gone ("unnamed prepared statement does not exist").
 *
 * Here a connection that starts a message exchange owns the session until the backend says
 * ReadyForQuery with status Idle: to the end of its Sync (or simple Query), and on to the end of
 * any transaction block it opens. The session tells, not the message types: a Parse awaiting its
 * Sync, a Flush, a COPY in progress, a failed transaction ('E') all keep it. Other connections'
 * messages wait, in arrival order, and run once it is free. A connection that goes away while it
 * owns the session has its exchange ended (Sync) and its transaction rolled back for it.
 *
 * The same interface as pglite-socket's QueryQueueManager, which PGLiteSocketHandler calls.
 */
class SessionQueue {
  /** @type {Array<{ handlerId: number, message?: Uint8Array, onData?: (data: Uint8Array) => void, resolve: (n: number) => void, reject: (err: Error) => void }>} */
  waiting = [];
  /** The handler whose exchange or transaction holds the session, or null. */
  owner = null;
  draining = false;

  /** @param {PGlite} db */
  constructor(db) {
    this.db = db;
  }

  enqueue(handlerId, message, onData) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength() {
    return this.waiting.length;
  }

  clearQueueForHandler(handlerId) {
    this.waiting = this.waiting.filter((q) => {
      if (q.handlerId !== handlerId || !q.message) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A handler is going away: if it holds the session, end its exchange and transaction, free it. */
  clearTransactionIfNeeded(handlerId) {
    if (this.owner !== handlerId && !this.waiting.some((q) => q.handlerId === handlerId)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push({ handlerId, resolve, reject: resolve });
      void this.drain();
    });
  }

  async drain() {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const i = this.owner === null ? 0 : this.waiting.findIndex((q) => q.handlerId === this.owner);
        if (i < 0 || i >= this.waiting.length) return; // idle, or the owner's next message is not here yet
        const [q] = this.waiting.splice(i, 1);
        this.owner = q.handlerId;
        if (!q.message || q.message[0] === TERMINATE) {
          // Clean-up (or the client's Terminate, which PGlite would answer with nothing).
          await this.release().catch(() => undefined);
          q.resolve(0);
          continue;
        }
        const tracker = new ReplyTracker();
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(q.message, {
              onRawData: (data) => {
                bytes += data.length;
                tracker.feed(data);
                q.onData(data);
              },
            }),
          );
        } catch (err) {
          // PGlite itself failed (not a query: those answer with ErrorResponse). The handler drops
          // the connection on this, and its detach frees the session.
          q.reject(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
        if (tracker.ready === IDLE) this.owner = null;
        q.resolve(bytes);
      }
    } finally {
      this.draining = false;
    }
  }

  /** End the owner's unfinished exchange and transaction (answers go nowhere), and free the session. */
  async release() {
    try {
      const discard = { onRawData: () => undefined };
      await this.db.runExclusive(async () => {
        await this.db.execProtocolRawStream(SYNC, discard);
        if (this.db.isInTransaction()) await this.db.execProtocolRawStream(ROLLBACK, discard);
      });
    } finally {
      this.owner = null;
    }
  }
}

/** @type {PGlite | undefined} */
let db;
/** @type {import('node:net').Server | undefined} */
let server;
/** @type {Set<PGLiteSocketHandler>} */
const handlers = new Set();

const describe = (err) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

async function start() {
  db = await PGlite.create({ dataDir });
  const queue = new SessionQueue(db);
  server = createServer((socket) => {
    if (handlers.size >= maxConnections) {
      socket.on('error', () => undefined);
      socket.end('Too many connections\n');
      return;
    }
    const handler = new PGLiteSocketHandler({ queryQueue: queue, closeOnDetach: true });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    handler.attach(socket).catch(() => {
      forget();
      socket.destroy();
    });
  });
  server.maxConnections = maxConnections;
  const listening = server;
  const port = await new Promise((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(0, host, () => {
      listening.off('error', reject);
      listening.on('error', () => undefined); // a failed accept: that client sees it, the server goes on
      resolve(/** @type {import('node:net').AddressInfo} */ (listening.address()).port);
    });
  });
  parent.postMessage({ type: 'ready', port });
}

async function stop() {
  try {
    const closing = server ? new Promise((resolve) => server.close(() => resolve(undefined))) : undefined;
    await Promise.allSettled([...handlers].map((h) => h.detach(true)));
    handlers.clear();
    await closing;
  } finally {
    if (db && !db.closed) await db.close();
    parent.postMessage({ type: 'stopped' });
  }
}

parent.on('message', (msg) => {
  if (msg?.type === 'stop') stop().catch((err) => parent.postMessage({ type: 'error', message: describe(err) }));
});

start().catch((err) => parent.postMessage({ type: 'error', message: describe(err) }));
