import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { assertRoleCanRun, prepareDatabase, resolveDatabase, startApp, type Role } from './app.js';
import { createLogger } from './logger.js';

const USAGE = `usage: skein <server|worker|all|migrate|start>
  server   the API (GraphQL, GraphiQL, the web app)
  worker   runs steps
  all      both in one process (default)
  migrate  create and migrate the database, then exit
  start    build the web app if it is missing, then run all`;

/** The CLI: one command, several roles. Owns signals and shutdown. */
async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'all';
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!['server', 'worker', 'all', 'migrate', 'start'].includes(command)) {
    process.stderr.write(`skein: unknown command "${command}"\n${USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);

  if (command === 'migrate') {
    const { url, embedded } = await resolveDatabase(config, logger);
    try {
      const db = await prepareDatabase(url, logger, { embedded: !!embedded });
      await db.close();
    } finally {
      await embedded?.stop();
    }
    logger.info('database is up to date');
    return;
  }
  const role: Role = command === 'start' ? 'all' : (command as Role);
  // server/worker without a shared Postgres and Redis: a ConfigError, one line and exit 1 (below).
  assertRoleCanRun(config, role);
  if (command === 'start') buildWebIfMissing(config.WEB_DIST, logger);

  const app = await startApp(config, role, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function buildWebIfMissing(webDist: string, logger: ReturnType<typeof createLogger>): void {
  if (existsSync(path.join(webDist, 'index.html'))) return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  logger.info('building the web app (first start)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) logger.warn('web build failed; the API and GraphiQL still run');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // A ConfigError is the user's to fix and says how: one line, no stack.
  const text = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`skein: ${text}\n`);
  process.exit(1);
});
