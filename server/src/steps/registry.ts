import type { StepType } from './define.js';
import { approvalStep } from './approval.js';
import { failStep } from './fail.js';
import { httpStep } from './http.js';
import { noopStep } from './noop.js';
import { sleepStep } from './sleep.js';
import { transformStep } from './transform.js';

/** The step types a process knows: the built-ins plus the user's module, if any. */
export class StepRegistry {
  private readonly types = new Map<string, StepType>();

  constructor(types: StepType[] = builtInSteps) {
    for (const t of types) this.add(t);
  }

  add(type: StepType): void {
    if (this.types.has(type.type)) throw new Error(`step type "${type.type}" is defined twice`);
    this.types.set(type.type, type);
  }

  get(type: string): StepType | undefined {
    return this.types.get(type);
  }

  has(type: string): boolean {
    return this.types.has(type);
  }

  list(): StepType[] {
    return [...this.types.values()];
  }
}

export const builtInSteps: StepType[] = [noopStep, sleepStep, httpStep, transformStep, approvalStep, failStep];

/** Load user step types: every export of the module that looks like a `defineStep` result. */
export async function loadUserSteps(registry: StepRegistry, moduleName: string, cwd = process.cwd()): Promise<string[]> {
  const { pathToFileURL } = await import('node:url');
  const path = await import('node:path');
  const specifier = moduleName.startsWith('.') || path.isAbsolute(moduleName)
    ? pathToFileURL(path.resolve(cwd, moduleName)).href
    : moduleName;
  const mod = (await import(specifier)) as Record<string, unknown>;
  const added: string[] = [];
  const candidates = Object.values(mod).flatMap((value) => (Array.isArray(value) ? value : [value]));
  for (const value of candidates) {
    if (isStepType(value)) {
      registry.add(value);
      added.push(value.type);
    }
  }
  if (added.length === 0) throw new Error(`STEP_TYPES_MODULE ${moduleName} exports no step types (use defineStep)`);
  return added;
}

function isStepType(value: unknown): value is StepType {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<StepType>;
  return typeof v.type === 'string' && typeof v.run === 'function' && typeof v.input === 'object';
}
