import { builder } from './builder.js';
import './scalars.js';
import './workflow.js';
import './run.js';
import './step-run.js';
import './event.js';
import './queue.js';
import './live.js';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: false });
