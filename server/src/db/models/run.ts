import { DataTypes, Model, type Sequelize } from 'sequelize';

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING', 'CANCELLED', 'SUCCEEDED', 'FAILED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export class RunModel extends Model {
  declare id: string;
  declare workflowId: number;
  declare workflowName: string;
  declare workflowVersion: number;
  declare status: RunStatus;
  declare input: unknown;
  declare output: unknown;
  declare error: { message: string; code?: string; stepId?: string } | null;
  declare stepsTotal: number;
  declare stepsDone: number;
  declare idempotencyKey: string | null;
  declare lastSeq: number;
  declare createdBy: string;
  declare createdAt: Date;
  declare startedAt: Date | null;
  declare finishedAt: Date | null;
  declare updatedAt: Date;

  static setup(sequelize: Sequelize) {
    RunModel.init(
      {
        id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
        workflowId: { type: DataTypes.INTEGER, allowNull: false },
        workflowName: { type: DataTypes.TEXT, allowNull: false },
        workflowVersion: { type: DataTypes.INTEGER, allowNull: false },
        status: { type: DataTypes.TEXT, allowNull: false },
        input: { type: DataTypes.JSONB },
        output: { type: DataTypes.JSONB },
        error: { type: DataTypes.JSONB },
        stepsTotal: { type: DataTypes.INTEGER, allowNull: false },
        stepsDone: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        idempotencyKey: { type: DataTypes.TEXT },
        lastSeq: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        createdBy: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'anonymous' },
        startedAt: { type: DataTypes.DATE },
        finishedAt: { type: DataTypes.DATE },
      },
      { sequelize, tableName: 'runs' },
    );
  }
}
