import { DataTypes, Model, type Sequelize } from 'sequelize';

export class StepLogModel extends Model {
  declare id: number;
  declare runId: string;
  declare stepId: string;
  declare attempt: number;
  declare line: string;
  declare at: Date;

  static setup(sequelize: Sequelize) {
    StepLogModel.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        runId: { type: DataTypes.UUID, allowNull: false },
        stepId: { type: DataTypes.TEXT, allowNull: false },
        attempt: { type: DataTypes.INTEGER, allowNull: false },
        line: { type: DataTypes.TEXT, allowNull: false },
        at: { type: DataTypes.DATE, allowNull: false },
      },
      { sequelize, tableName: 'step_logs', timestamps: false },
    );
  }
}
