import { dropDatabase, freePort, startServer, stopProcess, waitForHealth } from './stack.ts';

/**
 * Starts the real stack for the specs: a fresh database, the server with its in-process worker,
 * the fixture workflows and the built SPA. Tests read the URL from SKEIN_E2E_URL.
 */
export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const db = `skein_e2e_${Date.now()}`;
  const url = `http://127.0.0.1:${port}`;
  const child = startServer({
    PORT: String(port),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    WORKFLOWS_DIR: 'e2e/fixtures/workflows',
    WEB_DIST: process.env.SKEIN_E2E_WEB_DIST ?? 'web/dist',
    LOG_LEVEL: 'warn',
  });
  process.env.SKEIN_E2E_URL = url;
  process.env.SKEIN_E2E_DB = db;
  process.env.SKEIN_E2E_PID = String(child.pid);
  try {
    await waitForHealth(url, child);
  } catch (e) {
    if (child.pid) await stopProcess(child.pid);
    dropDatabase(db);
    throw e;
  }
}
