import { DataTypes, Model, type Sequelize } from 'sequelize';

export class WorkflowModel extends Model {
  declare id: number;
  declare name: string;
  declare version: number;
  declare description: string | null;
  declare definition: Record<string, unknown>;
  declare checksum: string;
  declare createdAt: Date;

  static setup(sequelize: Sequelize) {
    WorkflowModel.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.TEXT, allowNull: false },
        version: { type: DataTypes.INTEGER, allowNull: false },
        description: { type: DataTypes.TEXT },
        definition: { type: DataTypes.JSONB, allowNull: false },
        checksum: { type: DataTypes.TEXT, allowNull: false },
      },
      { sequelize, tableName: 'workflows', updatedAt: false },
    );
  }
}
