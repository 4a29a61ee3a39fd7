/**
 * Big fan-outs drawn as one node: steps that need the same steps and are needed by the same steps
 * (the 1,998 parallel noops between a root and a join) are interchangeable on a graph, and a
 * column of 2,000 boxes says less than one box with their counts. Pure, like the layout.
 */

export interface ShapeStep {
  stepId: string;
  type: string;
  needs: readonly string[];
}

export interface FanOut {
  /** Stable while the members are: `fanout:<first member>`. */
  id: string;
  members: string[];
  needs: string[];
  dependants: string[];
  /** The members' type when they share one. */
  type: string | null;
}

/** Siblings below this many stay single nodes. */
export const FANOUT_MIN = 50;

export function findFanOuts(steps: readonly ShapeStep[], min = FANOUT_MIN): FanOut[] {
  const ids = new Set(steps.map((s) => s.stepId));
  const dependants = new Map<string, string[]>();
  for (const s of steps) for (const n of s.needs) if (ids.has(n)) (dependants.get(n) ?? dependants.set(n, []).get(n)!).push(s.stepId);
  const bySignature = new Map<string, ShapeStep[]>();
  for (const s of steps) {
    const needs = s.needs.filter((n) => ids.has(n)).sort();
    const deps = [...(dependants.get(s.stepId) ?? [])].sort();
    const key = `${needs.join('\u0000')}\u0001${deps.join('\u0000')}`;
    (bySignature.get(key) ?? bySignature.set(key, []).get(key)!).push(s);
  }
  const out: FanOut[] = [];
  for (const group of bySignature.values()) {
    if (group.length < min) continue;
    const first = group[0];
    out.push({
      id: `fanout:${first.stepId}`,
      members: group.map((s) => s.stepId),
      needs: first.needs.filter((n) => ids.has(n)),
      dependants: dependants.get(first.stepId) ?? [],
      type: group.every((s) => s.type === first.type) ? first.type : null,
    });
  }
  return out;
}

export interface VisibleNode {
  id: string;
  /** A step, or a collapsed fan-out. */
  kind: 'step' | 'fanout';
  type: string;
  fanOut?: FanOut;
}

export interface VisibleGraph {
  nodes: VisibleNode[];
  edges: Array<{ source: string; target: string }>;
}

/** The graph as drawn: every collapsed fan-out replaced by one node, edges rewired to it. */
export function collapseFanOuts(steps: readonly ShapeStep[], fanOuts: readonly FanOut[], expanded: ReadonlySet<string>): VisibleGraph {
  const collapsed = fanOuts.filter((f) => !expanded.has(f.id));
  const owner = new Map<string, string>();
  for (const f of collapsed) for (const m of f.members) owner.set(m, f.id);
  const ids = new Set(steps.map((s) => s.stepId));
  const nodes: VisibleNode[] = [];
  const edges: VisibleGraph['edges'] = [];
  const seenEdge = new Set<string>();
  const addEdge = (source: string, target: string) => {
    const key = `${source}\u0000${target}`;
    if (source === target || seenEdge.has(key)) return;
    seenEdge.add(key);
    edges.push({ source, target });
  };
  const placed = new Set<string>();
  for (const s of steps) {
    const groupId = owner.get(s.stepId);
    if (groupId) {
      if (!placed.has(groupId)) {
        placed.add(groupId);
        const f = collapsed.find((g) => g.id === groupId)!;
        nodes.push({ id: groupId, kind: 'fanout', type: f.type ?? 'mixed', fanOut: f });
      }
    } else {
      nodes.push({ id: s.stepId, kind: 'step', type: s.type });
    }
    for (const n of s.needs) if (ids.has(n)) addEdge(owner.get(n) ?? n, groupId ?? s.stepId);
  }
  return { nodes, edges };
}
