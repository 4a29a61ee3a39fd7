import { DataTypes, Model, type Sequelize } from 'sequelize';

export class RunEventModel extends Model {
  declare runId: string;
  declare seq: number;
  declare type: string;
  declare stepId: string | null;
  declare status: string | null;
  declare progress: number | null;
  declare attempt: number | null;
  declare message: string | null;
  declare actor: string | null;
  declare data: unknown;
  declare at: Date;

  static setup(sequelize: Sequelize) {
    RunEventModel.init(
      {
        runId: { type: DataTypes.UUID, primaryKey: true },
        seq: { type: DataTypes.INTEGER, primaryKey: true },
        type: { type: DataTypes.TEXT, allowNull: false },
        stepId: { type: DataTypes.TEXT },
        status: { type: DataTypes.TEXT },
        progress: { type: DataTypes.REAL },
        attempt: { type: DataTypes.INTEGER },
        message: { type: DataTypes.TEXT },
        actor: { type: DataTypes.TEXT },
        data: { type: DataTypes.JSONB },
        at: { type: DataTypes.DATE, allowNull: false },
      },
      { sequelize, tableName: 'run_events', timestamps: false },
    );
  }
}
