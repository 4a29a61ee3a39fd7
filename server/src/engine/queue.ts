import PgBoss from 'pg-boss';
import type { Logger } from '../logger.js';

/** The one pg-boss queue that carries step jobs. */
export const STEP_QUEUE = 'skein-steps';

/** Job payload: which attempt of which step to run. Untrusted until parsed (see worker). */
export interface StepJob {
  runId: string;
  stepRunId: string;
  stepId: string;
  attempt: number;
}

export async function startBoss(url: string, logger: Logger, opts: { supervise: boolean }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: 'pgboss',
    max: 4,
    supervise: opts.supervise,
    schedule: false,
    migrate: true,
  });
  boss.on('error', (err: Error) => logger.error({ err }, 'pg-boss error'));
  await boss.start();
  // Our engine owns retries and timeouts (step_runs is the truth): pg-boss never retries a job.
  await boss.createQueue(STEP_QUEUE, { name: STEP_QUEUE, retryLimit: 0, expireInSeconds: 86_399, retentionMinutes: 60 * 24 * 7 } as PgBoss.Queue).catch((err: Error) => {
    if (!/already exists|duplicate/i.test(err.message)) throw err;
  });
  return boss;
}
