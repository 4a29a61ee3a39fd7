import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  downstreamOf,
  executionLevels,
  topologicalOrder,
  validateDefinition,
  type Fault,
  type StepDefinition,
} from '../src/engine/dag.js';
import { StepRegistry } from '../src/steps/registry.js';

const registry = new StepRegistry();

function faultsOf(raw: unknown): Fault[] {
  const result = validateDefinition(raw, registry);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.faults;
}

function okOf(raw: unknown) {
  const result = validateDefinition(raw, registry);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.faults, null, 2)}`);
  return result;
}

function codes(faults: Fault[]) {
  return faults.map((f) => [f.code, f.path]);
}

const wf = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'test-wf', steps, ...extra });
const noop = (id: string, needs?: string[], extra: Record<string, unknown> = {}) => ({ id, type: 'noop', ...(needs ? { needs } : {}), ...extra });

describe('validateDefinition: fault codes', () => {
  it('TOO_LARGE: over 1,000,000 bytes of JSON, reported alone', () => {
    const faults = faultsOf({ name: 'BAD NAME', steps: [noop('a', [], { description: 'x'.repeat(1_000_001) })] });
    expect(codes(faults)).toEqual([['TOO_LARGE', '']]);
  });

  it('INVALID_SHAPE: not an object', () => {
    expect(codes(faultsOf(null))).toEqual([['INVALID_SHAPE', '']]);
    expect(codes(faultsOf([1, 2]))).toEqual([['INVALID_SHAPE', '']]);
    expect(codes(faultsOf('name: x'))).toEqual([['INVALID_SHAPE', '']]);
  });

  it('INVALID_SHAPE: missing and ill-typed fields, unknown keys', () => {
    expect(codes(faultsOf({}))).toEqual([
      ['INVALID_SHAPE', 'name'],
      ['INVALID_SHAPE', 'steps'],
    ]);
    expect(codes(faultsOf({ name: 7, steps: {}, description: 3, extra: true }))).toEqual([
      ['INVALID_SHAPE', 'extra'],
      ['INVALID_SHAPE', 'name'],
      ['INVALID_SHAPE', 'description'],
      ['INVALID_SHAPE', 'steps'],
    ]);
    expect(codes(faultsOf(wf([42, { type: 'noop' }, { id: 'b', type: 5, needs: 'a', colour: 'red' }, noop('c', [null as never])])))).toEqual([
      ['INVALID_SHAPE', 'steps[0]'],
      ['INVALID_SHAPE', 'steps[1].id'],
      ['INVALID_SHAPE', 'steps[2].colour'],
      ['INVALID_SHAPE', 'steps[2].type'],
      ['INVALID_SHAPE', 'steps[2].needs'],
      ['INVALID_SHAPE', 'steps[3].needs[0]'],
    ]);
  });

  it('INVALID_NAME: not a slug', () => {
    for (const name of ['', 'Upper', '1abc', 'has space', 'under_score', 'a'.repeat(101)]) {
      expect(codes(faultsOf(wf([noop('a')], { name })))).toEqual([['INVALID_NAME', 'name']]);
    }
    okOf(wf([noop('a')], { name: 'a' + '-9'.repeat(49) + 'z' }));
  });

  it('TOO_MANY_STEPS: 5,001 steps refused', () => {
    const steps = Array.from({ length: 5001 }, (_, i) => noop(`s${i}`));
    const faults = faultsOf(wf(steps));
    expect(codes(faults)).toEqual([['TOO_MANY_STEPS', 'steps']]);
  });

  it('NO_STEPS: empty steps', () => {
    expect(codes(faultsOf(wf([])))).toEqual([['NO_STEPS', 'steps']]);
  });

  it('INVALID_STEP_ID: bad ids', () => {
    const faults = faultsOf(wf([noop(''), noop('1abc'), noop('has space'), noop('a.b'), noop('x'.repeat(101)), noop('_ok'), noop('Ok-1_2')]));
    expect(codes(faults)).toEqual([0, 1, 2, 3, 4].map((i) => ['INVALID_STEP_ID', `steps[${i}].id`]));
  });

  it('DUPLICATE_STEP_ID: the later occurrence is named', () => {
    const faults = faultsOf(wf([noop('a'), noop('b'), noop('a')]));
    expect(codes(faults)).toEqual([['DUPLICATE_STEP_ID', 'steps[2].id']]);
    expect(faults[0].message).toContain('steps[0]');
  });

  it('UNKNOWN_NEED', () => {
    const faults = faultsOf(wf([noop('a'), noop('b', ['a', 'ghost'])]));
    expect(codes(faults)).toEqual([['UNKNOWN_NEED', 'steps[1].needs[1]']]);
    expect(faults[0].message).toContain('ghost');
  });

  it('SELF_NEED', () => {
    expect(codes(faultsOf(wf([noop('a', ['a'])])))).toEqual([['SELF_NEED', 'steps[0].needs[0]']]);
  });

  it('CYCLE: a 2-cycle names both steps', () => {
    const faults = faultsOf(wf([noop('a', ['b']), noop('b', ['a']), noop('c', ['a'])]));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ code: 'CYCLE', path: 'steps[0].needs', steps: ['a', 'b'] });
    expect(faults[0].message).toContain('a → b → a');
  });

  it('CYCLE: a 3-cycle in run order', () => {
    // a needs c, b needs a, c needs b: work flows a → b → c → a.
    const faults = faultsOf(wf([noop('root'), noop('a', ['c', 'root']), noop('b', ['a']), noop('c', ['b'])]));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ code: 'CYCLE', steps: ['a', 'b', 'c'] });
    expect(faults[0].message).toContain('a → b → c → a');
  });

  it('CYCLE: two separate cycles give two faults', () => {
    const faults = faultsOf(wf([noop('a', ['b']), noop('b', ['a']), noop('x'), noop('p', ['r']), noop('q', ['p']), noop('r', ['q'])]));
    expect(faults.map((f) => f.code)).toEqual(['CYCLE', 'CYCLE']);
    expect(faults.map((f) => f.steps)).toEqual([
      ['a', 'b'],
      ['p', 'q', 'r'],
    ]);
  });

  it('CYCLE: a 5,000-step ring does not overflow the stack', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => noop(`s${i}`, [`s${(i + 4999) % 5000}`]));
    const faults = faultsOf(wf(steps));
    expect(faults).toHaveLength(1);
    expect(faults[0].code).toBe('CYCLE');
    expect(faults[0].steps).toHaveLength(5000);
  });

  it('UNKNOWN_TYPE lists the known types', () => {
    const faults = faultsOf(wf([{ id: 'a', type: 'teleport' }]));
    expect(codes(faults)).toEqual([['UNKNOWN_TYPE', 'steps[0].type']]);
    for (const t of ['noop', 'sleep', 'http', 'transform', 'approval', 'fail']) expect(faults[0].message).toContain(t);
  });

  it('INVALID_WITH: one fault per zod issue, with the issue path', () => {
    const faults = faultsOf(
      wf([
        { id: 'h', type: 'http', with: { url: 'ftp://example.com', method: 'GOT', headers: { a: 1 } } },
        { id: 's', type: 'sleep' },
        { id: 'n', type: 'noop', with: { x: 1 } },
        { id: 't', type: 'transform', with: { expression: '(' } },
      ]),
    );
    expect(codes(faults)).toEqual([
      ['INVALID_WITH', 'steps[0].with.url'],
      ['INVALID_WITH', 'steps[0].with.method'],
      ['INVALID_WITH', 'steps[0].with.headers.a'],
      ['INVALID_WITH', 'steps[1].with'],
      ['INVALID_WITH', 'steps[2].with'],
      ['INVALID_WITH', 'steps[3].with.expression'],
    ]);
  });

  it('INVALID_IF: JSONata that does not parse', () => {
    const faults = faultsOf(wf([noop('a', [], { if: 'steps.a.output = (' }), noop('b', [], { if: '' }), noop('c', [], { if: 3 }), noop('d', [], { if: 'input.x > 1' })]));
    expect(codes(faults)).toEqual([
      ['INVALID_IF', 'steps[0].if'],
      ['INVALID_IF', 'steps[1].if'],
      ['INVALID_IF', 'steps[2].if'],
    ]);
  });

  it('INVALID_RETRY: each bad field', () => {
    const faults = faultsOf(
      wf([
        noop('a', [], { retry: { limit: 101 } }),
        noop('b', [], { retry: { limit: 1.5, delayMs: -1, backoff: 'linear', jitter: 'yes', extra: 1 } }),
        noop('c', [], { retry: { limit: 2, delayMs: 500, maxDelayMs: 100 } }),
        noop('d', [], { retry: { delayMs: 86_400_001 } }),
        noop('e', [], { retry: 3 }),
        noop('f', [], { retry: { limit: 0, maxDelayMs: 999 } }),
      ]),
    );
    expect(codes(faults)).toEqual([
      ['INVALID_RETRY', 'steps[0].retry.limit'],
      ['INVALID_RETRY', 'steps[1].retry.extra'],
      ['INVALID_RETRY', 'steps[1].retry.limit'],
      ['INVALID_RETRY', 'steps[1].retry.delayMs'],
      ['INVALID_RETRY', 'steps[1].retry.backoff'],
      ['INVALID_RETRY', 'steps[1].retry.jitter'],
      ['INVALID_RETRY', 'steps[2].retry.maxDelayMs'],
      ['INVALID_RETRY', 'steps[3].retry.limit'],
      ['INVALID_RETRY', 'steps[3].retry.delayMs'],
      ['INVALID_RETRY', 'steps[4].retry'],
      ['INVALID_RETRY', 'steps[5].retry.maxDelayMs'],
    ]);
  });

  it('INVALID_TIMEOUT', () => {
    const faults = faultsOf(wf([0, 1.5, 86_400_001, '100', -5].map((t, i) => noop(`s${i}`, [], { timeoutMs: t }))));
    expect(codes(faults)).toEqual([0, 1, 2, 3, 4].map((i) => ['INVALID_TIMEOUT', `steps[${i}].timeoutMs`]));
    okOf(wf([noop('a', [], { timeoutMs: 1 }), noop('b', [], { timeoutMs: 86_400_000 })]));
  });

  it('INVALID_TRIGGER', () => {
    const faults = faultsOf(wf([noop('a', [], { trigger: 'anySucceeded' }), noop('b', [], { trigger: true })]));
    expect(codes(faults)).toEqual([
      ['INVALID_TRIGGER', 'steps[0].trigger'],
      ['INVALID_TRIGGER', 'steps[1].trigger'],
    ]);
  });

  it('INVALID_INPUT_SCHEMA: not an object, or does not compile', () => {
    expect(codes(faultsOf(wf([noop('a')], { inputSchema: 'string' })))).toEqual([['INVALID_INPUT_SCHEMA', 'inputSchema']]);
    expect(codes(faultsOf(wf([noop('a')], { inputSchema: [] })))).toEqual([['INVALID_INPUT_SCHEMA', 'inputSchema']]);
    expect(codes(faultsOf(wf([noop('a')], { inputSchema: { type: 'strnig' } })))).toEqual([['INVALID_INPUT_SCHEMA', 'inputSchema']]);
    expect(codes(faultsOf(wf([noop('a')], { inputSchema: { $ref: '#/definitions/missing' } })))).toEqual([['INVALID_INPUT_SCHEMA', 'inputSchema']]);
    okOf(wf([noop('a')], { inputSchema: { type: 'object', properties: { day: { type: 'string', format: 'date' } }, required: ['day'] } }));
  });
});

describe('validateDefinition: many faults at once', () => {
  it('reports every fault, not just the first', () => {
    const faults = faultsOf({
      name: 'Not A Slug',
      colour: 'blue',
      inputSchema: { type: 12 },
      steps: [
        { id: 'a', type: 'noop', needs: ['b'] },
        { id: 'b', type: 'noop', needs: ['a'] },
        { id: 'a', type: 'noop' },
        { id: '9bad', type: 'noop' },
        { id: 'c', type: 'warp' },
        { id: 'd', type: 'sleep', with: { ms: 'soon' } },
        { id: 'e', type: 'noop', needs: ['e', 'nobody'], if: ')(' },
        { id: 'f', type: 'noop', retry: { limit: -1 }, timeoutMs: 0, trigger: 'whenever' },
      ],
    });
    expect(codes(faults)).toEqual([
      ['INVALID_SHAPE', 'colour'],
      ['INVALID_NAME', 'name'],
      ['INVALID_INPUT_SCHEMA', 'inputSchema'],
      ['DUPLICATE_STEP_ID', 'steps[2].id'],
      ['INVALID_STEP_ID', 'steps[3].id'],
      ['UNKNOWN_TYPE', 'steps[4].type'],
      ['INVALID_WITH', 'steps[5].with.ms'],
      ['INVALID_IF', 'steps[6].if'],
      ['INVALID_RETRY', 'steps[7].retry.limit'],
      ['INVALID_TIMEOUT', 'steps[7].timeoutMs'],
      ['INVALID_TRIGGER', 'steps[7].trigger'],
      ['SELF_NEED', 'steps[6].needs[0]'],
      ['UNKNOWN_NEED', 'steps[6].needs[1]'],
      ['CYCLE', 'steps[0].needs'],
    ]);
  });
});

describe('validateDefinition: large valid DAGs', () => {
  it('a 5,000-step chain: ok, one step per level, no stack overflow', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => noop(`s${i}`, i === 0 ? [] : [`s${i - 1}`]));
    const result = okOf(wf(steps.slice().reverse()));
    expect(result.order).toEqual(steps.map((s) => s.id));
    expect(result.levels).toHaveLength(5000);
    expect(result.levels[4999]).toEqual(['s4999']);
    expect(downstreamOf(result.definition.steps, 's4998')).toEqual(['s4999']);
    expect(downstreamOf(result.definition.steps, 's0')).toHaveLength(4999);
  });

  it('a 5,000-step fan-out and join: three levels', () => {
    const leaves = Array.from({ length: 4998 }, (_, i) => noop(`leaf${i}`, ['root']));
    const steps = [noop('root'), ...leaves, noop('join', leaves.map((l) => l.id))];
    const result = okOf(wf(steps));
    expect(result.order).toEqual(steps.map((s) => s.id));
    expect(result.levels.map((l) => l.length)).toEqual([1, 4998, 1]);
    expect(result.levels[2]).toEqual(['join']);
  });
});

describe('ordering helpers', () => {
  const step = (id: string, needs: string[] = []): StepDefinition => ({ id, type: 'noop', needs, trigger: 'allSucceeded' });

  it('topologicalOrder keeps definition order among ready steps', () => {
    const steps = [step('d', ['b', 'c']), step('b', ['a']), step('a'), step('c', ['a']), step('e')];
    expect(topologicalOrder(steps)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(executionLevels(steps)).toEqual([['a', 'e'], ['b', 'c'], ['d']]);
  });

  it('executionLevels uses the deepest need', () => {
    const steps = [step('a'), step('b', ['a']), step('c', ['b']), step('d', ['a', 'c'])];
    expect(executionLevels(steps)).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('downstreamOf returns all transitive dependents', () => {
    const steps = [step('a'), step('b', ['a']), step('c', ['a']), step('d', ['b']), step('e')];
    expect(downstreamOf(steps, 'a')).toEqual(['b', 'c', 'd']);
    expect(downstreamOf(steps, 'd')).toEqual([]);
    expect(downstreamOf(steps, 'nope')).toEqual([]);
  });

  it('topologicalOrder throws on a cycle', () => {
    expect(() => topologicalOrder([step('a', ['b']), step('b', ['a'])])).toThrow(/cycle/);
  });
});

describe('normalization and checksum', () => {
  it('fills in defaults', () => {
    const result = okOf(
      wf([
        { id: 'a', type: 'noop' },
        { id: 'b', type: 'fail', needs: ['a'], with: { times: 1 }, retry: { limit: 2 } },
        { id: 'c', type: 'noop', needs: ['b'], trigger: 'allDone', retry: { limit: 1, delayMs: 10, backoff: 'fixed', jitter: false, maxDelayMs: 50 } },
      ]),
    );
    const [a, b, c] = result.definition.steps;
    expect(a).toEqual({ id: 'a', type: 'noop', needs: [], trigger: 'allSucceeded' });
    expect(b.retry).toEqual({ limit: 2, delayMs: 1000, backoff: 'exponential', jitter: true });
    expect(b.with).toEqual({ times: 1 });
    expect(c).toMatchObject({ trigger: 'allDone', retry: { limit: 1, delayMs: 10, backoff: 'fixed', jitter: false, maxDelayMs: 50 } });
    expect(result.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key reordering and changes with the definition', () => {
    const one = {
      name: 'sum',
      description: 'd',
      inputSchema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } },
      steps: [
        { id: 'x', type: 'sleep', with: { ms: 5 }, retry: { limit: 1, delayMs: 2 } },
        { id: 'y', type: 'noop', needs: ['x'] },
      ],
    };
    const two = {
      steps: [
        { retry: { delayMs: 2, limit: 1 }, with: { ms: 5 }, type: 'sleep', id: 'x' },
        { needs: ['x'], type: 'noop', id: 'y' },
      ],
      inputSchema: { properties: { b: { type: 'number' }, a: { type: 'string' } }, type: 'object' },
      description: 'd',
      name: 'sum',
    };
    const sum1 = okOf(one).checksum;
    expect(okOf(two).checksum).toBe(sum1);
    // Spelling out a default normalizes to the same definition.
    const explicit = structuredClone(one);
    (explicit.steps[1] as Record<string, unknown>).trigger = 'allSucceeded';
    expect(okOf(explicit).checksum).toBe(sum1);

    const changed = structuredClone(one);
    changed.steps[0].with = { ms: 6 };
    expect(okOf(changed).checksum).not.toBe(sum1);
    const renamed = structuredClone(one);
    renamed.name = 'sum-2';
    expect(okOf(renamed).checksum).not.toBe(sum1);
  });
});

describe('example workflows', () => {
  const dir = new URL('../../workflows/', import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));

  it('the folder has the expected examples', () => {
    expect(files).toEqual(expect.arrayContaining(['diamond-etl.json', 'approval-flow.yaml', 'flaky-retries.json', 'fanout-200.json']));
  });

  it.each(files)('%s validates', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    const result = okOf(raw);
    expect(result.definition.name).toBe(file.replace(/\.(json|ya?ml)$/, ''));
  });

  it('fanout-200 has one root, 200 parallel steps and one join', () => {
    const result = okOf(JSON.parse(readFileSync(join(dir, 'fanout-200.json'), 'utf8')));
    expect(result.levels.map((l) => l.length)).toEqual([1, 200, 1]);
  });
});
