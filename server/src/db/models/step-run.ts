import { DataTypes, Model, type Sequelize } from 'sequelize';

export const STEP_STATUSES = ['PENDING', 'QUEUED', 'RUNNING', 'RETRYING', 'WAITING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface AttemptRecord {
  attempt: number;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  error?: StepError | null;
  workerId?: string | null;
  startedAt: string | null;
  finishedAt: string;
}

export interface StepError {
  message: string;
  /** PERMANENT, TIMEOUT, WORKER_LOST, CANCELLED, REJECTED, INVALID_WITH, HANDLER_ERROR */
  code: string;
  stack?: string;
}

export class StepRunModel extends Model {
  declare id: string;
  declare runId: string;
  declare stepId: string;
  declare position: number;
  declare type: string;
  declare needs: string[];
  declare status: StepStatus;
  declare attempt: number;
  declare seriesStart: number;
  declare maxAttempts: number;
  declare progress: number;
  declare progressMessage: string | null;
  declare output: unknown;
  declare error: StepError | null;
  declare skipReason: string | null;
  declare jobId: string | null;
  declare workerId: string | null;
  declare attempts: AttemptRecord[];
  declare queuedAt: Date | null;
  declare startedAt: Date | null;
  declare finishedAt: Date | null;
  declare updatedAt: Date;

  static setup(sequelize: Sequelize) {
    StepRunModel.init(
      {
        id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
        runId: { type: DataTypes.UUID, allowNull: false },
        stepId: { type: DataTypes.TEXT, allowNull: false },
        position: { type: DataTypes.INTEGER, allowNull: false },
        type: { type: DataTypes.TEXT, allowNull: false },
        needs: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false },
        status: { type: DataTypes.TEXT, allowNull: false },
        attempt: { type: DataTypes.INTEGER, allowNull: false },
        seriesStart: { type: DataTypes.INTEGER, allowNull: false },
        maxAttempts: { type: DataTypes.INTEGER, allowNull: false },
        progress: { type: DataTypes.REAL, allowNull: false },
        progressMessage: { type: DataTypes.TEXT },
        output: { type: DataTypes.JSONB },
        error: { type: DataTypes.JSONB },
        skipReason: { type: DataTypes.TEXT },
        jobId: { type: DataTypes.UUID },
        workerId: { type: DataTypes.TEXT },
        attempts: { type: DataTypes.JSONB, allowNull: false },
        queuedAt: { type: DataTypes.DATE },
        startedAt: { type: DataTypes.DATE },
        finishedAt: { type: DataTypes.DATE },
      },
      { sequelize, tableName: 'step_runs', createdAt: false },
    );
  }
}
