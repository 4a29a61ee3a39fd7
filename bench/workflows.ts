// The DAG shapes the bench runs, as Skein workflow definitions.

export interface StepDef {
  id: string;
  type: string;
  needs?: string[];
  with?: Record<string, unknown>;
}

export interface Definition {
  name: string;
  description?: string;
  steps: StepDef[];
}

/** s0 → s1 → … → s(n-1), all no-ops. */
export function chain(name: string, n: number, type = 'noop', withArgs?: Record<string, unknown>): Definition {
  return {
    name,
    steps: Array.from({ length: n }, (_, i) => ({ id: `s${i}`, type, ...(i ? { needs: [`s${i - 1}`] } : {}), ...(withArgs ? { with: withArgs } : {}) })),
  };
}

/** root → width parallel no-ops → join. */
export function wide(name: string, width: number): Definition {
  const middle = Array.from({ length: width }, (_, i) => `m${i}`);
  return {
    name,
    steps: [
      { id: 'root', type: 'noop' },
      ...middle.map((id) => ({ id, type: 'noop', needs: ['root'] })),
      { id: 'join', type: 'noop', needs: middle },
    ],
  };
}

/** A diamond of `size` steps: start → (size − 2) parallel no-ops → end. */
export function diamond(name: string, size: number): Definition {
  return wide(name, size - 2);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random DAG of n no-ops: node i needs 0–3 distinct earlier nodes, picked from the 50 before it
 * (about 5% of nodes are roots). Fixed seed, so every run of the bench registers the same graph.
 */
export function randomDag(name: string, n: number, seed = 42): Definition {
  const next = rng(seed);
  const steps: StepDef[] = [];
  for (let i = 0; i < n; i++) {
    const needs = new Set<string>();
    if (i > 0 && next() > 0.05) {
      const k = 1 + Math.floor(next() * 3);
      for (let j = 0; j < k; j++) needs.add(`n${Math.max(0, i - 1 - Math.floor(next() * Math.min(50, i)))}`);
    }
    steps.push({ id: `n${i}`, type: 'noop', ...(needs.size ? { needs: [...needs] } : {}) });
  }
  return { name, steps };
}

/** Longest path (in steps) of a definition: the critical path a perfect scheduler still walks. */
export function depth(def: Definition): number {
  const d = new Map<string, number>();
  for (const s of def.steps) d.set(s.id, 1 + Math.max(0, ...(s.needs ?? []).map((n) => d.get(n) ?? 0)));
  return Math.max(...d.values());
}
