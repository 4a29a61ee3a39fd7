import type { MigrationFn } from 'umzug';
import type { Sequelize } from 'sequelize';

/** When the last progress event of a run was stored: progress events are coalesced to 10/s per run. */
export const up: MigrationFn<Sequelize> = async ({ context: sequelize }) => {
  await sequelize.query(`ALTER TABLE runs ADD COLUMN progress_event_at timestamptz`);
};

export const down: MigrationFn<Sequelize> = async ({ context: sequelize }) => {
  await sequelize.query(`ALTER TABLE runs DROP COLUMN progress_event_at`);
};
