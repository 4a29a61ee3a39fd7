import pg from 'pg';
import { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../logger.js';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-progress-coalescing.js';
import { initModels, type Models } from './models/index.js';

// Bigint counts (COUNT(*)) arrive as strings; int8 ids are never above 2^53 here.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

/** Numbered migrations, in order. Add a file under migrations/ and list it here. */
const migrations = [
  { name: '001-initial', ...m001 },
  { name: '002-progress-coalescing', ...m002 },
];

/** Arbitrary but fixed: every Skein process migrating one database takes this advisory lock. */
const MIGRATION_LOCK = 0x736b65696e; // "skein"

export interface Database {
  sequelize: Sequelize;
  models: Models;
  url: string;
  close(): Promise<void>;
}

export function openDatabase(url: string, opts: { poolMax?: number; logger?: Logger } = {}): Database {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: opts.poolMax ?? 10, min: 0, idle: 10_000, acquire: 60_000 },
    define: { underscored: true },
    // The engine prepares its hot statements by name (parsed once per connection). Postgres would
    // switch such a statement to a generic plan after five runs and keep it: planned while the
    // tables were small (a fresh database), that plan is a sequential scan of step_runs, and it
    // stays one as the table grows (3,500 rows scanned to update 10, seen in the bench). Custom
    // plans are made for each run with the real arguments and table sizes; unnamed statements
    // (everything else) are planned that way anyway.
    dialectOptions: { options: '-c plan_cache_mode=force_custom_plan' },
  });
  const models = initModels(sequelize);
  return { sequelize, models, url, close: () => sequelize.close() };
}

/** Create the database named in `url` when it does not exist yet (racing creators are fine). */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (err) {
      // 42P04 duplicate_database, 23505 unique_violation: another process created it first.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** Apply pending migrations under an advisory lock, so processes starting together do not race. */
export async function migrate(db: Database, logger?: Logger): Promise<string[]> {
  const lock = new pg.Client({ connectionString: db.url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const umzug = new Umzug({
      migrations,
      context: db.sequelize,
      storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: 'skein_migrations' }),
      logger: undefined,
    });
    const done = await umzug.up();
    const names = done.map((m) => m.name);
    if (names.length) logger?.info({ migrations: names }, 'database migrated');
    return names;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
