import type { MigrationFn } from 'umzug';
import type { Sequelize } from 'sequelize';

/**
 * The engine's tables. Status columns are text with CHECK constraints so a bad write fails loudly.
 * Indexes follow the queries: run lists (newest first, by workflow, by status), steps of a run,
 * running steps by worker (the reaper), events after a seq, logs of a step in order.
 */
export const up: MigrationFn<Sequelize> = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE workflows (
      id          serial PRIMARY KEY,
      name        text NOT NULL,
      version     integer NOT NULL,
      description text,
      definition  jsonb NOT NULL,
      checksum    text NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE (name, version)
    );
    CREATE INDEX workflows_name_checksum ON workflows (name, checksum);

    CREATE TABLE runs (
      id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workflow_id      integer NOT NULL REFERENCES workflows(id),
      workflow_name    text NOT NULL,
      workflow_version integer NOT NULL,
      status           text NOT NULL CHECK (status IN ('QUEUED','RUNNING','PAUSING','PAUSED','CANCELLING','CANCELLED','SUCCEEDED','FAILED')),
      input            jsonb,
      output           jsonb,
      error            jsonb,
      steps_total      integer NOT NULL,
      steps_done       integer NOT NULL DEFAULT 0,
      idempotency_key  text,
      last_seq         integer NOT NULL DEFAULT 0,
      created_by       text NOT NULL DEFAULT 'anonymous',
      created_at       timestamptz NOT NULL DEFAULT now(),
      started_at       timestamptz,
      finished_at      timestamptz,
      updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX runs_idempotency ON runs (workflow_name, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
    CREATE INDEX runs_by_workflow ON runs (workflow_name, created_at DESC, id DESC);
    CREATE INDEX runs_by_status ON runs (status, created_at DESC, id DESC);

    CREATE TABLE step_runs (
      id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      run_id           uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step_id          text NOT NULL,
      position         integer NOT NULL,
      type             text NOT NULL,
      needs            text[] NOT NULL DEFAULT '{}',
      needs_left       integer NOT NULL,
      status           text NOT NULL CHECK (status IN ('PENDING','QUEUED','RUNNING','RETRYING','WAITING','SUCCEEDED','FAILED','SKIPPED','CANCELLED')),
      attempt          integer NOT NULL DEFAULT 0,
      series_start     integer NOT NULL DEFAULT 0,
      max_attempts     integer NOT NULL,
      progress         real NOT NULL DEFAULT 0,
      progress_message text,
      output           jsonb,
      error            jsonb,
      skip_reason      text,
      job_id           uuid,
      worker_id        text,
      attempts         jsonb NOT NULL DEFAULT '[]',
      queued_at        timestamptz,
      started_at       timestamptz,
      finished_at      timestamptz,
      updated_at       timestamptz NOT NULL DEFAULT now(),
      UNIQUE (run_id, step_id)
    );
    CREATE INDEX step_runs_running ON step_runs (worker_id) WHERE status = 'RUNNING';
    CREATE INDEX step_runs_live ON step_runs (status, updated_at) WHERE status IN ('QUEUED','RETRYING');

    CREATE TABLE run_events (
      run_id   uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      seq      integer NOT NULL,
      type     text NOT NULL,
      step_id  text,
      status   text,
      progress real,
      attempt  integer,
      message  text,
      actor    text,
      data     jsonb,
      at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, seq)
    );

    CREATE TABLE step_logs (
      id       bigserial PRIMARY KEY,
      run_id   uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step_id  text NOT NULL,
      attempt  integer NOT NULL,
      line     text NOT NULL,
      at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX step_logs_by_step ON step_logs (run_id, step_id, id);

    CREATE TABLE workers (
      id           text PRIMARY KEY,
      hostname     text NOT NULL,
      pid          integer NOT NULL,
      concurrency  integer NOT NULL,
      running      integer NOT NULL DEFAULT 0,
      step_types   text[] NOT NULL DEFAULT '{}',
      started_at   timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now(),
      stopped_at   timestamptz
    );
  `);
};

export const down: MigrationFn<Sequelize> = async ({ context: sequelize }) => {
  await sequelize.query(`DROP TABLE IF EXISTS step_logs, run_events, step_runs, runs, workflows, workers CASCADE`);
};
