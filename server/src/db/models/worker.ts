import { DataTypes, Model, type Sequelize } from 'sequelize';

export class WorkerModel extends Model {
  declare id: string;
  declare hostname: string;
  declare pid: number;
  declare concurrency: number;
  declare running: number;
  declare stepTypes: string[];
  declare startedAt: Date;
  declare heartbeatAt: Date;
  declare stoppedAt: Date | null;

  static setup(sequelize: Sequelize) {
    WorkerModel.init(
      {
        id: { type: DataTypes.TEXT, primaryKey: true },
        hostname: { type: DataTypes.TEXT, allowNull: false },
        pid: { type: DataTypes.INTEGER, allowNull: false },
        concurrency: { type: DataTypes.INTEGER, allowNull: false },
        running: { type: DataTypes.INTEGER, allowNull: false },
        stepTypes: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false },
        startedAt: { type: DataTypes.DATE, allowNull: false },
        heartbeatAt: { type: DataTypes.DATE, allowNull: false },
        stoppedAt: { type: DataTypes.DATE },
      },
      { sequelize, tableName: 'workers', timestamps: false },
    );
  }
}
