/**
 * Layout is a pure function: graph in, positions out. It runs in a web worker in the app and
 * directly in Node in tests; ELK is passed in so neither side bundles it twice.
 */

export interface LayoutNodeInput {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdgeInput {
  source: string;
  target: string;
}

export interface LayoutInput {
  nodes: LayoutNodeInput[];
  edges: LayoutEdgeInput[];
}

export interface LayoutResult {
  /** Top-left corner of each node, by id (React Flow positions are corners). */
  positions: Record<string, { x: number; y: number }>;
  width: number;
  height: number;
}

/** The part of elkjs's API the layout needs (structural, so tests can pass the real thing). */
export interface ElkLike {
  layout(graph: ElkGraph): Promise<ElkGraph>;
}

export interface ElkGraph {
  id: string;
  layoutOptions?: Record<string, string>;
  children?: Array<{ id: string; width?: number; height?: number; x?: number; y?: number }>;
  edges?: Array<{ id: string; sources: string[]; targets: string[] }>;
  width?: number;
  height?: number;
}

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

const ELK_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.layered.spacing.nodeNodeBetweenLayers': '60',
  'elk.spacing.nodeNode': '18',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.edgeRouting': 'POLYLINE',
};

/** Drop edges that name a missing node: ELK throws on them, and a graph must still draw. */
function cleanEdges(input: LayoutInput): LayoutEdgeInput[] {
  const ids = new Set(input.nodes.map((n) => n.id));
  return input.edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
}

export async function layoutGraph(elk: ElkLike, input: LayoutInput): Promise<LayoutResult> {
  const edges = cleanEdges(input);
  const graph: ElkGraph = {
    id: 'root',
    layoutOptions: ELK_OPTIONS,
    children: input.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.target] })),
  };
  const out = await elk.layout(graph);
  const positions: LayoutResult['positions'] = {};
  for (const c of out.children ?? []) positions[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return { positions, width: out.width ?? 0, height: out.height ?? 0 };
}

/**
 * A fast longest-path layering for graphs too big for ELK to finish quickly: columns by depth,
 * rows in input order. Same contract as layoutGraph.
 */
export function layoutByDepth(input: LayoutInput): LayoutResult {
  const edges = cleanEdges(input);
  const preds = new Map<string, string[]>();
  for (const n of input.nodes) preds.set(n.id, []);
  for (const e of edges) preds.get(e.target)?.push(e.source);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle cannot be registered; be safe anyway
    visiting.add(id);
    let d = 0;
    for (const p of preds.get(id) ?? []) d = Math.max(d, depthOf(p) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const columns: LayoutNodeInput[][] = [];
  for (const n of input.nodes) (columns[depthOf(n.id)] ??= []).push(n);
  const gapX = 60;
  const gapY = 18;
  const positions: LayoutResult['positions'] = {};
  let x = 0;
  let height = 0;
  const columnHeights = columns.map((col) => col.reduce((h, n) => h + n.height + gapY, -gapY));
  const tallest = Math.max(0, ...columnHeights);
  columns.forEach((col, i) => {
    let y = (tallest - columnHeights[i]) / 2;
    let w = 0;
    for (const n of col) {
      positions[n.id] = { x, y };
      y += n.height + gapY;
      w = Math.max(w, n.width);
    }
    height = Math.max(height, y - gapY);
    x += w + gapX;
  });
  return { positions, width: Math.max(0, x - gapX), height };
}

/** Above this many nodes the worker uses layoutByDepth: ELK's layered crossing minimisation is too slow. */
export const ELK_NODE_LIMIT = 400;

/**
 * ELK for graphs with crossings to minimise; columns by depth for big graphs and for chains (one
 * node per column, like a collapsed fan-out between its root and its join), which then draw
 * without waiting for ELK's 1.4 MB to load.
 */
export function chooseLayout(input: LayoutInput): 'elk' | 'depth' {
  if (input.nodes.length > ELK_NODE_LIMIT) return 'depth';
  const { positions } = layoutByDepth(input);
  const columns = new Set(Object.values(positions).map((p) => p.x));
  return columns.size === input.nodes.length ? 'depth' : 'elk';
}
