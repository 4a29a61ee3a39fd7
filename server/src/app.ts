import { createServer, type Server } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { parse as parseYaml } from 'yaml';
import type PgBoss from 'pg-boss';
import { ConfigError, type Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.js';
import { ensureDatabaseExists, migrate, openDatabase, type Database } from './db/sequelize.js';
import { disablePreparedStatements } from './db/tx.js';
import { Engine } from './engine/engine.js';
import { startBoss } from './engine/queue.js';
import { buildYoga } from './http/yoga.js';
import { RunFeeds } from './live/run-feed.js';
import { eventsOf } from './schema/event.js';
import type { Logger } from './logger.js';
import { LocalBus, RedisBus, type Bus } from './pubsub.js';
import { loadUserSteps, StepRegistry } from './steps/registry.js';
import { Worker } from './worker/worker.js';
import { SkeinError } from './errors.js';

export type Role = 'server' | 'worker' | 'all';

export interface App {
  db: Database;
  boss: PgBoss;
  bus: Bus;
  engine: Engine;
  worker?: Worker;
  http?: Server;
  port?: number;
  /** The embedded Postgres, when DATABASE_URL is unset. */
  embedded?: EmbeddedPostgres;
  stop(): Promise<void>;
}

/**
 * Separate `server` and `worker` processes meet only through Postgres and Redis, so they need both
 * named; the embedded Postgres and the in-process bus serve one `all` process.
 */
export function assertRoleCanRun(config: Pick<Config, 'DATABASE_URL' | 'REDIS_URL'>, role: Role, opts: { bus?: Bus } = {}): void {
  if (role === 'all') return;
  const missing = [!config.REDIS_URL && !opts.bus ? 'REDIS_URL' : null, !config.DATABASE_URL ? 'DATABASE_URL' : null].filter(Boolean);
  if (missing.length === 0) return;
  throw new ConfigError(
    `"skein ${role}" needs ${missing.join(' and ')}: separate server and worker processes share one Postgres and one Redis. ` +
      'Set them, or run "skein all" (one process, with an embedded Postgres and an in-process bus when they are unset)',
  );
}

/** The Postgres to use: DATABASE_URL, or (unset) the embedded one, started here. */
export async function resolveDatabase(config: Pick<Config, 'DATABASE_URL' | 'SKEIN_DATA_DIR'>, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.SKEIN_DATA_DIR,
    onCrash: (err) => logger.error({ err }, 'the embedded Postgres stopped unexpectedly; restart Skein'),
  });
  logger.info(
    { dataDir: embedded.dataDir, fresh: embedded.fresh, startMs: embedded.startMs },
    `embedded Postgres (PGlite), data in ${embedded.dataDir}; set DATABASE_URL=postgres://user:password@host:5432/skein to use a real Postgres`,
  );
  return { url: embedded.url, embedded };
}

/**
 * Create and migrate the database, under an advisory lock. The embedded Postgres has exactly one
 * database, so it is never created.
 */
export async function prepareDatabase(url: string, logger: Logger, opts: { embedded?: boolean } = {}): Promise<Database> {
  if (!opts.embedded && (await ensureDatabaseExists(url))) logger.info({ database: new URL(url).pathname.slice(1) }, 'created database');
  const db = openDatabase(url, { logger });
  if (opts.embedded) disablePreparedStatements(db.sequelize);
  try {
    await migrate(db, logger);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** Wire the parts a role needs and start them. `stop()` shuts down in order. */
export async function startApp(config: Config, role: Role, logger: Logger, opts: { bus?: Bus } = {}): Promise<App> {
  assertRoleCanRun(config, role, opts);
  const registry = new StepRegistry();
  if (config.STEP_TYPES_MODULE) {
    const added = await loadUserSteps(registry, config.STEP_TYPES_MODULE);
    logger.info({ module: config.STEP_TYPES_MODULE, types: added }, 'loaded user step types');
  }
  const { url, embedded } = await resolveDatabase(config, logger);
  let db: Database | undefined;
  let boss: PgBoss | undefined;
  try {
    db = await prepareDatabase(url, logger, { embedded: !!embedded });
    boss = await startBoss(url, logger, { supervise: role !== 'server' });
  } catch (err) {
    await boss?.stop({ graceful: false, wait: true }).catch(() => undefined);
    await db?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  if (!config.REDIS_URL && !opts.bus) logger.info('in-process event bus (REDIS_URL is unset)');
  const bus = opts.bus ?? (config.REDIS_URL ? new RedisBus(config.REDIS_URL, logger) : new LocalBus());
  const engine = new Engine(db, boss, bus, registry, logger);
  const app: App = { db, boss, bus, engine, embedded, stop: async () => undefined };

  if (role !== 'worker') await loadWorkflowFiles(engine, config.WORKFLOWS_DIR, logger);

  if (role !== 'server') {
    app.worker = new Worker(engine, config, logger);
    await app.worker.start();
  }

  if (role !== 'worker') {
    const feeds = new RunFeeds(
      bus,
      (runId, afterSeq, limit, beforeSeq) => eventsOf({ db }, runId, afterSeq, limit, beforeSeq),
      async (runId) => (await db.models.Run.findByPk(runId, { attributes: ['lastSeq'] }))?.lastSeq ?? 0,
      logger,
    );
    const yoga = buildYoga({ engine, db, bus, feeds, logger, maxBodyBytes: config.MAX_BODY_BYTES, webDist: config.WEB_DIST, role });
    const server = createServer(yoga);
    const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
    useServer(
      {
        execute: ((args: { rootValue: { execute: (a: unknown) => unknown } }) => args.rootValue.execute(args)) as never,
        subscribe: ((args: { rootValue: { subscribe: (a: unknown) => unknown } }) => args.rootValue.subscribe(args)) as never,
        onSubscribe: async (ctx, _id, params) => {
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params,
          });
          const args = {
            schema,
            operationName: params.operationName,
            document: parse(params.query),
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          if (errors.length) return errors;
          return args;
        },
      },
      wss,
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const address = server.address();
    app.http = server;
    app.port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ url: `http://localhost:${app.port}/`, graphiql: `http://localhost:${app.port}/graphql`, role }, 'skein API listening');
  }

  app.stop = async () => {
    if (app.http) {
      app.http.closeAllConnections?.();
      await new Promise<void>((resolve) => app.http!.close(() => resolve()));
    }
    if (app.worker) await app.worker.stop();
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await bus.close();
    await db.close();
    // Last: everything above talks to it.
    await embedded?.stop();
  };
  return app;
}

/** Register every workflow file in the folder; a bad file is reported by name and skipped. */
export async function loadWorkflowFiles(engine: Engine, dir: string, logger: Logger): Promise<{ loaded: string[]; failed: string[] }> {
  const loaded: string[] = [];
  const failed: string[] = [];
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.(json|ya?ml)$/i.test(f)).sort();
  } catch {
    logger.info({ dir }, 'no workflows folder; nothing to load');
    return { loaded, failed };
  }
  for (const file of files) {
    const full = path.join(dir, file);
    try {
      const text = await readFile(full, 'utf8');
      const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
      const { workflow, created } = await engine.registerWorkflow(raw);
      loaded.push(file);
      logger.info({ file, workflow: workflow.name, version: workflow.version, created }, 'workflow file loaded');
    } catch (err) {
      failed.push(file);
      const faults = err instanceof SkeinError ? (err.extensions.faults as unknown[] | undefined) : undefined;
      logger.error({ file: full, error: (err as Error).message, faults }, 'workflow file skipped');
    }
  }
  return { loaded, failed };
}
