import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import jsonata from 'jsonata';
import type { StepRegistry } from '../steps/registry.js';

export interface RetryPolicy {
  limit: number;
  delayMs: number;
  backoff: 'fixed' | 'exponential';
  maxDelayMs?: number;
  jitter: boolean;
}

export type StepTrigger = 'allSucceeded' | 'allDone';

export interface StepDefinition {
  id: string;
  type: string;
  description?: string;
  needs: string[];
  with?: unknown;
  retry?: RetryPolicy;
  timeoutMs?: number;
  if?: string;
  trigger: StepTrigger;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  inputSchema?: object;
  steps: StepDefinition[];
}

export interface Fault {
  code: string;
  path: string;
  message: string;
  steps?: string[];
}

export type ValidationResult =
  | { ok: true; definition: WorkflowDefinition; order: string[]; levels: string[][]; checksum: string }
  | { ok: false; faults: Fault[] };

export const LIMITS = {
  maxBytes: 1_000_000,
  maxSteps: 5_000,
  maxRetryLimit: 100,
  maxDelayMs: 86_400_000,
  maxTimeoutMs: 86_400_000,
  maxDescription: 10_000,
} as const;

const NAME_RE = /^[a-z][a-z0-9-]{0,99}$/;
const STEP_ID_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
const TOP_KEYS = new Set(['name', 'description', 'inputSchema', 'steps']);
const STEP_KEYS = new Set(['id', 'type', 'description', 'needs', 'with', 'retry', 'timeoutMs', 'if', 'trigger']);
const RETRY_KEYS = new Set(['limit', 'delayMs', 'backoff', 'maxDelayMs', 'jitter']);
const TRIGGERS: readonly string[] = ['allSucceeded', 'allDone'];
const RETRY_DEFAULTS = { delayMs: 1000, backoff: 'exponential', jitter: true } as const;

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats)) as AddFormats;

/** Compile a workflow's inputSchema with the same Ajv settings registration uses (startRun reuses this). */
export function compileInputSchema(schema: object): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function formatPath(base: string, segments: readonly PropertyKey[]): string {
  let out = base;
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Validate and normalize a raw workflow definition, reporting every fault at once. */
export function validateDefinition(raw: unknown, registry: StepRegistry): ValidationResult {
  const faults: Fault[] = [];
  const add = (code: string, path: string, message: string, steps?: string[]) => {
    faults.push(steps ? { code, path, message, steps } : { code, path, message });
  };

  let json: string | undefined;
  try {
    json = JSON.stringify(raw);
  } catch (err) {
    return { ok: false, faults: [{ code: 'INVALID_SHAPE', path: '', message: `definition is not JSON-serializable: ${(err as Error).message}` }] };
  }
  const bytes = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  if (bytes > LIMITS.maxBytes) {
    return { ok: false, faults: [{ code: 'TOO_LARGE', path: '', message: `definition is ${bytes} bytes of JSON; the limit is ${LIMITS.maxBytes}` }] };
  }
  if (!isPlainObject(raw)) {
    return { ok: false, faults: [{ code: 'INVALID_SHAPE', path: '', message: `definition must be an object, got ${describe(raw)}` }] };
  }

  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.has(key)) add('INVALID_SHAPE', formatPath('', [key]), `unknown field "${key}" (allowed: ${[...TOP_KEYS].join(', ')})`);
  }

  const name = raw.name;
  if (typeof name !== 'string') {
    add('INVALID_SHAPE', 'name', name === undefined ? 'name is required' : `name must be a string, got ${describe(name)}`);
  } else if (!NAME_RE.test(name)) {
    add('INVALID_NAME', 'name', `name "${name.slice(0, 120)}" must be a slug: 1-100 lowercase letters, digits or hyphens, starting with a letter`);
  }

  const description = raw.description;
  if (description !== undefined) {
    if (typeof description !== 'string') add('INVALID_SHAPE', 'description', `description must be a string, got ${describe(description)}`);
    else if (description.length > LIMITS.maxDescription) add('INVALID_SHAPE', 'description', `description is longer than ${LIMITS.maxDescription} characters`);
  }

  const inputSchema = raw.inputSchema;
  if (inputSchema !== undefined) {
    if (!isPlainObject(inputSchema)) {
      add('INVALID_INPUT_SCHEMA', 'inputSchema', `inputSchema must be a JSON Schema object, got ${describe(inputSchema)}`);
    } else {
      try {
        compileInputSchema(inputSchema);
      } catch (err) {
        add('INVALID_INPUT_SCHEMA', 'inputSchema', `inputSchema does not compile: ${(err as Error).message}`);
      }
    }
  }

  const rawSteps = raw.steps;
  const steps: StepDefinition[] = [];
  const stepIndex: number[] = [];
  const firstIndexById = new Map<string, number>();

  if (rawSteps === undefined) {
    add('INVALID_SHAPE', 'steps', 'steps is required');
  } else if (!Array.isArray(rawSteps)) {
    add('INVALID_SHAPE', 'steps', `steps must be an array, got ${describe(rawSteps)}`);
  } else if (rawSteps.length === 0) {
    add('NO_STEPS', 'steps', 'a workflow needs at least one step');
  } else {
    if (rawSteps.length > LIMITS.maxSteps) {
      add('TOO_MANY_STEPS', 'steps', `${rawSteps.length} steps; the limit is ${LIMITS.maxSteps}`);
    }
    rawSteps.forEach((rawStep: unknown, i: number) => {
      const step = validateStep(rawStep, i, registry, add);
      if (!step) return;
      const prior = firstIndexById.get(step.id);
      if (prior !== undefined) {
        add('DUPLICATE_STEP_ID', `steps[${i}].id`, `step id "${step.id}" is already used by steps[${prior}]`, [step.id]);
        return;
      }
      firstIndexById.set(step.id, i);
      steps.push(step);
      stepIndex.push(i);
    });

    const known = new Set<string>();
    rawSteps.forEach((rawStep: unknown) => {
      if (isPlainObject(rawStep) && typeof rawStep.id === 'string') known.add(rawStep.id);
    });
    steps.forEach((step, k) => {
      const i = stepIndex[k];
      const rawNeeds = (rawSteps[i] as Record<string, unknown>).needs;
      if (!Array.isArray(rawNeeds)) return;
      rawNeeds.forEach((need: unknown, j: number) => {
        if (typeof need !== 'string') return;
        if (need === step.id) add('SELF_NEED', `steps[${i}].needs[${j}]`, `step "${step.id}" needs itself`, [step.id]);
        else if (!known.has(need)) add('UNKNOWN_NEED', `steps[${i}].needs[${j}]`, `step "${step.id}" needs "${need}", which is not a step of this workflow`, [step.id]);
      });
    });

    const graphSteps = steps.map((s) => ({ ...s, needs: s.needs.filter((n) => n !== s.id && firstIndexById.has(n)) }));
    for (const cycle of findCycles(graphSteps)) {
      const start = cycle[0];
      add('CYCLE', `steps[${firstIndexById.get(start)}].needs`, `cycle: ${[...cycle, start].join(' → ')}`, cycle);
    }
  }

  if (faults.length > 0) return { ok: false, faults };

  const definition: WorkflowDefinition = { name: name as string, steps };
  if (description !== undefined) definition.description = description as string;
  if (inputSchema !== undefined) definition.inputSchema = inputSchema as object;
  let checksum: string;
  try {
    checksum = definitionChecksum(definition);
  } catch (err) {
    return { ok: false, faults: [{ code: 'INVALID_SHAPE', path: '', message: `definition is too deeply nested: ${(err as Error).message}` }] };
  }
  return { ok: true, definition, order: topologicalOrder(steps), levels: executionLevels(steps), checksum };
}

function validateStep(
  rawStep: unknown,
  i: number,
  registry: StepRegistry,
  add: (code: string, path: string, message: string, steps?: string[]) => void,
): StepDefinition | undefined {
  const base = `steps[${i}]`;
  if (!isPlainObject(rawStep)) {
    add('INVALID_SHAPE', base, `step must be an object, got ${describe(rawStep)}`);
    return undefined;
  }
  const bad = (code: string, path: string, message: string) => add(code, path, message);

  for (const key of Object.keys(rawStep)) {
    if (!STEP_KEYS.has(key)) bad('INVALID_SHAPE', formatPath(base, [key]), `unknown step field "${key}" (allowed: ${[...STEP_KEYS].join(', ')})`);
  }

  const id = rawStep.id;
  if (typeof id !== 'string') {
    bad('INVALID_SHAPE', `${base}.id`, id === undefined ? 'step id is required' : `step id must be a string, got ${describe(id)}`);
  } else if (!STEP_ID_RE.test(id)) {
    bad('INVALID_STEP_ID', `${base}.id`, `step id "${id.slice(0, 120)}" must be 1-100 letters, digits, _ or -, starting with a letter or _`);
  }

  const type = rawStep.type;
  if (typeof type !== 'string') {
    bad('INVALID_SHAPE', `${base}.type`, type === undefined ? 'step type is required' : `step type must be a string, got ${describe(type)}`);
  } else {
    const stepType = registry.get(type);
    if (!stepType) {
      const knownTypes = registry.list().map((t) => t.type).sort();
      bad('UNKNOWN_TYPE', `${base}.type`, `unknown step type "${type.slice(0, 120)}"; known types: ${knownTypes.join(', ')}`);
    } else {
      try {
        const parsed = stepType.input.safeParse(rawStep.with);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) bad('INVALID_WITH', formatPath(`${base}.with`, issue.path), issue.message);
        }
      } catch (err) {
        bad('INVALID_WITH', `${base}.with`, `the "${type}" input schema threw: ${(err as Error).message}`);
      }
    }
  }

  const description = rawStep.description;
  if (description !== undefined) {
    if (typeof description !== 'string') bad('INVALID_SHAPE', `${base}.description`, `description must be a string, got ${describe(description)}`);
    else if (description.length > LIMITS.maxDescription) bad('INVALID_SHAPE', `${base}.description`, `description is longer than ${LIMITS.maxDescription} characters`);
  }

  const needs: string[] = [];
  const rawNeeds = rawStep.needs;
  if (rawNeeds !== undefined) {
    if (!Array.isArray(rawNeeds)) {
      bad('INVALID_SHAPE', `${base}.needs`, `needs must be an array of step ids, got ${describe(rawNeeds)}`);
    } else {
      rawNeeds.forEach((need: unknown, j: number) => {
        if (typeof need !== 'string') bad('INVALID_SHAPE', `${base}.needs[${j}]`, `needs entries must be step ids (strings), got ${describe(need)}`);
        else if (!needs.includes(need)) needs.push(need);
      });
    }
  }

  let retry: RetryPolicy | undefined;
  if (rawStep.retry !== undefined) {
    retry = validateRetry(rawStep.retry, `${base}.retry`, bad);
  }

  const timeoutMs = rawStep.timeoutMs;
  if (timeoutMs !== undefined && !(isInt(timeoutMs) && timeoutMs >= 1 && timeoutMs <= LIMITS.maxTimeoutMs)) {
    bad('INVALID_TIMEOUT', `${base}.timeoutMs`, `timeoutMs must be an integer from 1 to ${LIMITS.maxTimeoutMs} (ms), got ${JSON.stringify(timeoutMs)}`);
  }

  const cond = rawStep.if;
  if (cond !== undefined) {
    if (typeof cond !== 'string') {
      bad('INVALID_IF', `${base}.if`, `if must be a JSONata expression string, got ${describe(cond)}`);
    } else if (cond.trim() === '') {
      bad('INVALID_IF', `${base}.if`, 'if must not be empty');
    } else {
      try {
        jsonata(cond);
      } catch (err) {
        bad('INVALID_IF', `${base}.if`, `if does not parse: ${(err as Error).message}`);
      }
    }
  }

  const trigger = rawStep.trigger;
  if (trigger !== undefined && !(typeof trigger === 'string' && TRIGGERS.includes(trigger))) {
    bad('INVALID_TRIGGER', `${base}.trigger`, `trigger must be one of ${TRIGGERS.join(', ')}, got ${JSON.stringify(trigger)}`);
  }

  if (typeof id !== 'string' || !STEP_ID_RE.test(id)) return undefined;
  const step: StepDefinition = { id, type: type as string, needs, trigger: (trigger as StepTrigger | undefined) ?? 'allSucceeded' };
  if (typeof description === 'string') step.description = description;
  if (rawStep.with !== undefined) step.with = rawStep.with;
  if (retry) step.retry = retry;
  if (timeoutMs !== undefined) step.timeoutMs = timeoutMs as number;
  if (typeof cond === 'string') step.if = cond;
  return step;
}

function validateRetry(
  raw: unknown,
  base: string,
  bad: (code: string, path: string, message: string) => void,
): RetryPolicy | undefined {
  if (!isPlainObject(raw)) {
    bad('INVALID_RETRY', base, `retry must be an object, got ${describe(raw)}`);
    return undefined;
  }
  let ok = true;
  const fail = (path: string, message: string) => {
    ok = false;
    bad('INVALID_RETRY', path, message);
  };
  for (const key of Object.keys(raw)) {
    if (!RETRY_KEYS.has(key)) fail(formatPath(base, [key]), `unknown retry field "${key}" (allowed: ${[...RETRY_KEYS].join(', ')})`);
  }
  const { limit, delayMs, backoff, maxDelayMs, jitter } = raw;
  if (!(isInt(limit) && limit >= 0 && limit <= LIMITS.maxRetryLimit)) {
    fail(`${base}.limit`, `retry.limit must be an integer from 0 to ${LIMITS.maxRetryLimit}, got ${JSON.stringify(limit) ?? 'nothing'}`);
  }
  const delayOk = delayMs === undefined || (isInt(delayMs) && delayMs >= 0 && delayMs <= LIMITS.maxDelayMs);
  if (!delayOk) fail(`${base}.delayMs`, `retry.delayMs must be an integer from 0 to ${LIMITS.maxDelayMs}, got ${JSON.stringify(delayMs)}`);
  if (backoff !== undefined && backoff !== 'fixed' && backoff !== 'exponential') {
    fail(`${base}.backoff`, `retry.backoff must be "fixed" or "exponential", got ${JSON.stringify(backoff)}`);
  }
  if (maxDelayMs !== undefined) {
    const effectiveDelay = delayOk ? ((delayMs as number | undefined) ?? RETRY_DEFAULTS.delayMs) : 0;
    if (!(isInt(maxDelayMs) && maxDelayMs >= 0 && maxDelayMs <= LIMITS.maxDelayMs)) {
      fail(`${base}.maxDelayMs`, `retry.maxDelayMs must be an integer from 0 to ${LIMITS.maxDelayMs}, got ${JSON.stringify(maxDelayMs)}`);
    } else if (maxDelayMs < effectiveDelay) {
      fail(`${base}.maxDelayMs`, `retry.maxDelayMs (${maxDelayMs}) must be at least delayMs (${effectiveDelay})`);
    }
  }
  if (jitter !== undefined && typeof jitter !== 'boolean') {
    fail(`${base}.jitter`, `retry.jitter must be a boolean, got ${JSON.stringify(jitter)}`);
  }
  if (!ok) return undefined;
  const policy: RetryPolicy = {
    limit: limit as number,
    delayMs: (delayMs as number | undefined) ?? RETRY_DEFAULTS.delayMs,
    backoff: (backoff as RetryPolicy['backoff'] | undefined) ?? RETRY_DEFAULTS.backoff,
    jitter: (jitter as boolean | undefined) ?? RETRY_DEFAULTS.jitter,
  };
  if (maxDelayMs !== undefined) policy.maxDelayMs = maxDelayMs as number;
  return policy;
}

/** Find one cycle per strongly connected component (iterative Tarjan), each as step ids in run order. */
function findCycles(steps: StepDefinition[]): string[][] {
  const n = steps.length;
  const indexOf = new Map<string, number>();
  steps.forEach((s, i) => indexOf.set(s.id, i));
  // Edges go need -> dependent, i.e. the direction work flows.
  const out: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const need of s.needs) {
      const j = indexOf.get(need);
      if (j !== undefined && j !== i) out[j].push(i);
    }
  });
  for (const list of out) list.sort((a, b) => a - b);

  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const comps: number[][] = [];
  let counter = 0;
  const callStack: Array<[node: number, edge: number]> = [];

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    callStack.push([root, 0]);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (callStack.length > 0) {
      const frame = callStack[callStack.length - 1];
      const v = frame[0];
      if (frame[1] < out[v].length) {
        const w = out[v][frame[1]++];
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callStack.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
        continue;
      }
      callStack.pop();
      if (callStack.length > 0) {
        const parent = callStack[callStack.length - 1][0];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1) comps.push(comp);
      }
    }
  }

  const cycles = comps.map((comp) => {
    const inComp = new Set(comp);
    const start = Math.min(...comp);
    // Shortest cycle through the earliest step of the component (BFS back to start).
    const prev = new Map<number, number>();
    const queue = [start];
    let found = -1;
    for (let q = 0; q < queue.length && found === -1; q++) {
      const v = queue[q];
      for (const w of out[v]) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          found = v;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path: number[] = [];
    for (let v = found; v !== start; v = prev.get(v)!) path.push(v);
    path.push(start);
    return path.reverse().map((k) => steps[k].id);
  });
  return cycles.sort((a, b) => indexOf.get(a[0])! - indexOf.get(b[0])!);
}

/** Kahn's order over the DAG; among ready steps the earlier in the definition goes first. Throws on a cycle or unknown need. */
export function topologicalOrder(steps: StepDefinition[]): string[] {
  const { dependents, indegree } = buildGraph(steps);
  const heap = new MinHeap();
  indegree.forEach((d, i) => {
    if (d === 0) heap.push(i);
  });
  const order: string[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(steps[i].id);
    for (const j of dependents[i]) {
      if (--indegree[j] === 0) heap.push(j);
    }
  }
  if (order.length !== steps.length) throw new Error('workflow steps contain a cycle');
  return order;
}

/** Group steps into levels: level 0 has no needs, level k is one past the deepest of its needs. */
export function executionLevels(steps: StepDefinition[]): string[][] {
  const indexOf = new Map<string, number>();
  steps.forEach((s, i) => indexOf.set(s.id, i));
  const level = new Int32Array(steps.length);
  for (const id of topologicalOrder(steps)) {
    const i = indexOf.get(id)!;
    let l = 0;
    for (const need of steps[i].needs) l = Math.max(l, level[indexOf.get(need)!] + 1);
    level[i] = l;
  }
  const levels: string[][] = [];
  steps.forEach((s, i) => {
    (levels[level[i]] ??= []).push(s.id);
  });
  return levels;
}

/** Every step that transitively depends on stepId (not stepId itself), in definition order. */
export function downstreamOf(steps: StepDefinition[], stepId: string): string[] {
  const { dependents, indexOf } = buildGraph(steps, false);
  const start = indexOf.get(stepId);
  if (start === undefined) return [];
  const seen = new Uint8Array(steps.length);
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    for (const j of dependents[queue[q]]) {
      if (!seen[j] && j !== start) {
        seen[j] = 1;
        queue.push(j);
      }
    }
  }
  return steps.filter((_, i) => seen[i]).map((s) => s.id);
}

function buildGraph(steps: StepDefinition[], strict = true) {
  const indexOf = new Map<string, number>();
  steps.forEach((s, i) => {
    if (strict && indexOf.has(s.id)) throw new Error(`duplicate step id "${s.id}"`);
    if (!indexOf.has(s.id)) indexOf.set(s.id, i);
  });
  const dependents: number[][] = steps.map(() => []);
  const indegree = new Int32Array(steps.length);
  steps.forEach((s, i) => {
    for (const need of new Set(s.needs)) {
      const j = indexOf.get(need);
      if (j === undefined) {
        if (strict) throw new Error(`step "${s.id}" needs unknown step "${need}"`);
        continue;
      }
      dependents[j].push(i);
      indegree[i]++;
    }
  });
  return { indexOf, dependents, indegree };
}

class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** JSON with object keys sorted recursively, so equal definitions serialize identically. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** sha256 hex of the canonical JSON of a normalized definition; identical definitions share it. */
export function definitionChecksum(definition: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}
