// The embedded Postgres, inside a worker thread: PGlite (Postgres compiled to WASM) served over the
// wire protocol by pglite-socket, so a long query never blocks the app's event loop.
//
// Plain JavaScript on purpose: a worker thread does not inherit the tsx loader, and registering it
// in the thread costs about a second of start-up; this file only glues two packages together.
//
// Protocol with the parent (embedded.ts): workerData { dataDir, host, maxConnections }; posts
// { type: 'ready', port } or { type: 'error', message }; on { type: 'stop' } it closes the socket
// server and the database, then posts { type: 'stopped' }.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

if (!parentPort) throw new Error('embedded-worker must run as a worker thread');
const parent = parentPort;
const { dataDir, host, maxConnections } = workerData;

/** @type {PGlite | undefined} */
let db;
/** @type {PGLiteSocketServer | undefined} */
let server;

const describe = (err) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

async function start() {
  db = await PGlite.create({ dataDir });
  server = new PGLiteSocketServer({ db, host, port: 0, maxConnections });
  await server.start();
  const port = Number(/:(\d+)$/.exec(server.getServerConn())?.[1]);
  parent.postMessage({ type: 'ready', port });
}

async function stop() {
  try {
    await server?.stop();
  } finally {
    if (db && !db.closed) await db.close();
    parent.postMessage({ type: 'stopped' });
  }
}

parent.on('message', (msg) => {
  if (msg?.type === 'stop') stop().catch((err) => parent.postMessage({ type: 'error', message: describe(err) }));
});

start().catch((err) => parent.postMessage({ type: 'error', message: describe(err) }));
