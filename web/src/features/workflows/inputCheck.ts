/**
 * A small client-side JSON Schema check (type, required, enum, properties, items) so that obvious
 * mistakes are named before submit. The server validates fully and answers INVALID_INPUT.
 */

type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkAgainstSchema(value: unknown, schema: unknown, path = 'input'): string[] {
  if (!isSchema(schema)) return [];
  const faults: string[] = [];
  const t = schema.type;
  if (typeof t === 'string' || Array.isArray(t)) {
    const types = (Array.isArray(t) ? t : [t]).filter((x): x is string => typeof x === 'string');
    if (types.length && !types.some((x) => matchesType(value, x))) {
      faults.push(`${path} must be ${types.join(' or ')}, not ${typeOf(value)}`);
      return faults;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    faults.push(`${path} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (isSchema(value)) {
    if (Array.isArray(schema.required)) {
      for (const r of schema.required) if (typeof r === 'string' && !(r in value)) faults.push(`${path}.${r} is required`);
    }
    if (isSchema(schema.properties)) {
      for (const [k, sub] of Object.entries(schema.properties)) {
        if (k in value) faults.push(...checkAgainstSchema(value[k], sub, `${path}.${k}`));
      }
      if (schema.additionalProperties === false) {
        for (const k of Object.keys(value)) if (!(k in schema.properties)) faults.push(`${path}.${k} is not allowed`);
      }
    }
  }
  if (Array.isArray(value) && isSchema(schema.items)) {
    value.forEach((item, i) => faults.push(...checkAgainstSchema(item, schema.items, `${path}[${i}]`)));
  }
  return faults;
}

/** A starting input from the schema's defaults (or examples), so the form is never blank. */
export function exampleInput(schema: unknown): unknown {
  if (!isSchema(schema)) return {};
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.type === 'object' || isSchema(schema.properties)) {
    const out: Record<string, unknown> = {};
    const props = isSchema(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const [k, sub] of Object.entries(props)) {
      if (isSchema(sub) && ('default' in sub || Array.isArray(sub.examples) || required.includes(k))) out[k] = exampleInput(sub);
    }
    return out;
  }
  switch (schema.type) {
    case 'string': return '';
    case 'number': case 'integer': return 0;
    case 'boolean': return false;
    case 'array': return [];
    default: return null;
  }
}

export type ParsedInput = { ok: true; value: unknown } | { ok: false; faults: string[] };

export function parseInput(text: string, schema: unknown): ParsedInput {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    return { ok: false, faults: [`not valid JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const faults = checkAgainstSchema(value, schema);
  return faults.length ? { ok: false, faults } : { ok: true, value };
}
