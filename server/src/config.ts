import { z } from 'zod';

/**
 * Every setting Skein reads, parsed once from the environment. Nothing else in the code base reads
 * `process.env`: parts receive the typed `Config` they need.
 */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intFromEnv = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const urlWithScheme = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    }, `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`);

export const configSchema = z.object({
  /**
   * Postgres holding Skein's tables and pg-boss's schema. Created and migrated on start. Unset: an
   * embedded Postgres (PGlite) with its data under SKEIN_DATA_DIR — role `all` (and `migrate`) only.
   */
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']).optional(),
  /**
   * Redis for the event bus (subscriptions, wake-ups, cancel signals across processes). Unset: an
   * in-process bus — role `all` only, since separate servers and workers need a shared bus.
   */
  REDIS_URL: urlWithScheme(['redis', 'rediss']).optional(),
  /** Folder of the embedded Postgres's data (in `<dir>/pg`), used when DATABASE_URL is unset. */
  SKEIN_DATA_DIR: z.string().trim().min(1).default('./.skein'),
  /** HTTP port of the API server (GraphQL, GraphiQL, the SPA, /health, /metrics). */
  PORT: intFromEnv(4000, 0, 65535),
  /** Address the API server binds. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Steps one worker process runs at the same time. */
  WORKER_CONCURRENCY: intFromEnv(10, 1, 1000),
  /** Folder of workflow definitions (JSON or YAML) registered on start; missing folder = none. */
  WORKFLOWS_DIR: z.string().min(1).default('./workflows'),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** A module (path or package) whose exports include step types made with `defineStep`. */
  STEP_TYPES_MODULE: z.string().min(1).optional(),
  /** How long running steps may finish after SIGTERM before they are released to other workers. */
  SHUTDOWN_GRACE_MS: intFromEnv(10_000, 0, 600_000),
  /** How long a cancelled handler that ignores its abort signal is waited for before it is abandoned. */
  CANCEL_GRACE_MS: intFromEnv(5_000, 0, 600_000),
  /** Fallback polling interval of the worker loop when no wake-up arrives. */
  WORKER_POLL_MS: intFromEnv(1_000, 50, 60_000),
  /** Worker heartbeat interval; a worker silent for 4 heartbeats is presumed dead. */
  HEARTBEAT_MS: intFromEnv(3_000, 100, 60_000),
  /** Folder with the built web app served at `/`. */
  WEB_DIST: z.string().min(1).default('./web/dist'),
  /** Largest accepted HTTP request body, in bytes (definitions are capped at 1 MB). */
  MAX_BODY_BYTES: intFromEnv(2_000_000, 1_000, 100_000_000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parse an environment. Throws a ConfigError whose message names each bad variable and why. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** The configuration of this process. Exits with code 1 and one line on a bad value. */
export function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`skein: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
