import { describe, expect, it } from 'vitest';
import { exampleInput, parseInput } from './inputCheck';

const schema = {
  type: 'object',
  required: ['day'],
  properties: { day: { type: 'string', default: '2024-06-01' }, n: { type: 'integer' }, mode: { enum: ['a', 'b'] } },
};

describe('input check', () => {
  it('accepts valid input and names each fault', () => {
    expect(parseInput('{"day":"x","n":3}', schema)).toEqual({ ok: true, value: { day: 'x', n: 3 } });
    const bad = parseInput('{"n":1.5,"mode":"c"}', schema);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.faults).toEqual(['input.day is required', 'input.n must be integer, not number', 'input.mode must be one of "a", "b"']);
    expect(parseInput('{nope', schema).ok).toBe(false);
    expect(parseInput('[]', schema)).toEqual({ ok: false, faults: ['input must be object, not array'] });
  });

  it('builds a starting input from defaults', () => {
    expect(exampleInput(schema)).toEqual({ day: '2024-06-01' });
    expect(exampleInput(undefined)).toEqual({});
  });
});
