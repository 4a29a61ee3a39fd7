import type { Sequelize } from 'sequelize';
import { RunEventModel } from './run-event.js';
import { RunModel } from './run.js';
import { StepLogModel } from './step-log.js';
import { StepRunModel } from './step-run.js';
import { WorkerModel } from './worker.js';
import { WorkflowModel } from './workflow.js';

export interface Models {
  Workflow: typeof WorkflowModel;
  Run: typeof RunModel;
  StepRun: typeof StepRunModel;
  RunEvent: typeof RunEventModel;
  StepLog: typeof StepLogModel;
  Worker: typeof WorkerModel;
}

export function initModels(sequelize: Sequelize): Models {
  WorkflowModel.setup(sequelize);
  RunModel.setup(sequelize);
  StepRunModel.setup(sequelize);
  RunEventModel.setup(sequelize);
  StepLogModel.setup(sequelize);
  WorkerModel.setup(sequelize);
  return { Workflow: WorkflowModel, Run: RunModel, StepRun: StepRunModel, RunEvent: RunEventModel, StepLog: StepLogModel, Worker: WorkerModel };
}
