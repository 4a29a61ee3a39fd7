import type { Sequelize } from 'sequelize';
import type { WorkflowModel } from '../db/models/workflow.js';
import type { Models } from '../db/models/index.js';
import { SkeinError } from '../errors.js';
import type { StepRegistry } from '../steps/registry.js';
import { compileInputSchema, validateDefinition, type StepDefinition, type WorkflowDefinition } from './dag.js';
import type { ValidateFunction } from 'ajv';

/** A registered workflow version, with the lookups the engine needs, compiled once. */
export interface CompiledWorkflow {
  id: number;
  name: string;
  version: number;
  definition: WorkflowDefinition;
  steps: Map<string, StepDefinition>;
  /** Direct dependents of each step. */
  dependents: Map<string, string[]>;
  /** Steps with no dependents: their outputs make the run's output. */
  sinks: string[];
  inputValidator?: ValidateFunction;
}

export function compileWorkflow(row: { id: number; name: string; version: number; definition: unknown }): CompiledWorkflow {
  const definition = row.definition as WorkflowDefinition;
  const steps = new Map(definition.steps.map((s) => [s.id, s]));
  const dependents = new Map<string, string[]>(definition.steps.map((s) => [s.id, []]));
  for (const s of definition.steps) for (const n of s.needs) dependents.get(n)?.push(s.id);
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    definition,
    steps,
    dependents,
    sinks: definition.steps.filter((s) => dependents.get(s.id)!.length === 0).map((s) => s.id),
    inputValidator: definition.inputSchema ? compileInputSchema(definition.inputSchema) : undefined,
  };
}

export type WorkflowRow = { id: number; name: string; version: number; definition: unknown };

/**
 * Compiled workflow versions by id. A version never changes once written, so entries never go
 * stale; one cache per engine (ids are per database, and a process may hold several).
 */
export class WorkflowCache {
  private readonly byId = new Map<number, CompiledWorkflow>();

  /** The compiled version of a row already at hand. */
  of(row: WorkflowRow): CompiledWorkflow {
    let hit = this.byId.get(row.id);
    if (!hit) {
      hit = compileWorkflow(row);
      this.byId.set(row.id, hit);
    }
    return hit;
  }

  /** The compiled version with this id, loading the row with `load` on a miss. */
  async get(id: number, load: () => Promise<WorkflowRow>): Promise<CompiledWorkflow> {
    return this.byId.get(id) ?? this.of(await load());
  }
}

export interface RegisterResult {
  workflow: WorkflowModel;
  created: boolean;
}

/**
 * Validate and store a definition. The same definition as the latest version returns that version;
 * anything else becomes version N+1. Invalid definitions are refused whole with every fault.
 */
export async function registerWorkflow(sequelize: Sequelize, models: Models, registry: StepRegistry, raw: unknown): Promise<RegisterResult> {
  if (JSON.stringify(raw ?? null).includes('\\u0000')) {
    throw new SkeinError('INVALID_DEFINITION', 'invalid workflow definition: it contains the character U+0000, which cannot be stored', {
      faults: [{ code: 'INVALID_CHARACTER', path: '', message: 'the definition contains U+0000' }],
    });
  }
  const result = validateDefinition(raw, registry);
  if (!result.ok) {
    const summary = result.faults.slice(0, 5).map((f) => `${f.path || '(definition)'}: ${f.message}`).join('; ');
    throw new SkeinError('INVALID_DEFINITION', `invalid workflow definition (${result.faults.length} fault${result.faults.length === 1 ? '' : 's'}): ${summary}`, {
      faults: result.faults,
    });
  }
  const { definition, checksum } = result;
  return sequelize.transaction(async (transaction) => {
    // Serialise registrations of one name so versions never collide.
    await sequelize.query(`SELECT pg_advisory_xact_lock(hashtext('skein.workflow:' || $1))`, { bind: [definition.name], transaction });
    const latest = await models.Workflow.findOne({ where: { name: definition.name }, order: [['version', 'DESC']], transaction });
    if (latest && latest.checksum === checksum) return { workflow: latest, created: false };
    const workflow = await models.Workflow.create(
      {
        name: definition.name,
        version: (latest?.version ?? 0) + 1,
        description: definition.description ?? null,
        definition,
        checksum,
      },
      { transaction },
    );
    return { workflow, created: true };
  });
}
