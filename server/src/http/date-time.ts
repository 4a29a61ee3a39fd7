import type { GraphQLScalarType } from 'graphql';

/** Years 0000–9999: where toISOString writes `YYYY-MM-DDTHH:mm:ss.sssZ`. */
const MAX_MS = 253_402_300_800_000;

/**
 * What JSON.stringify writes for the Date the DateTime scalar returns (its ISO string), computed
 * without that Date: results hold strings, not Dates, so JSON.stringify keeps its fast path (a
 * Date's toJSON sends it to the slow one), and a list of events in the same second formats each
 * second once.
 */
export function dateTimeSerialiser(scalar: GraphQLScalarType): (value: unknown) => unknown {
  let second = Number.NaN;
  let prefix = '';
  const iso = (ms: number): string => {
    if (!Number.isInteger(ms) || ms < 0 || ms >= MAX_MS) return new Date(ms).toISOString();
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20);
    }
    const frac = ms - s * 1000;
    return `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  };
  return (value) => {
    if (value instanceof Date || typeof value === 'number') {
      const ms = value instanceof Date ? value.getTime() : value;
      // Invalid dates and timestamps: the scalar's own error.
      if (!Number.isFinite(ms)) return scalar.serialize(value);
      return iso(ms);
    }
    const out = scalar.serialize(value);
    return out instanceof Date ? iso(out.getTime()) : out;
  };
}
