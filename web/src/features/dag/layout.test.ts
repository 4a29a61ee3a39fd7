import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { chooseLayout, layoutByDepth, layoutGraph, type ElkLike, type LayoutInput } from './layout';

const node = (id: string) => ({ id, width: 200, height: 64 });
const diamond: LayoutInput = {
  nodes: ['a', 'b', 'c', 'd'].map(node),
  edges: [
    { source: 'a', target: 'b' },
    { source: 'a', target: 'c' },
    { source: 'b', target: 'd' },
    { source: 'c', target: 'd' },
  ],
};

const overlaps = (p: Record<string, { x: number; y: number }>, w: number, h: number) => {
  const list = Object.values(p);
  return list.some((a, i) => list.some((b, j) => i < j && Math.abs(a.x - b.x) < w && Math.abs(a.y - b.y) < h));
};

describe('layoutGraph (ELK, left to right)', () => {
  const elk = new ELK() as unknown as ElkLike;

  it('places every node, dependencies to the left of dependants, without overlap', async () => {
    const { positions, width, height } = await layoutGraph(elk, diamond);
    expect(Object.keys(positions).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(positions.a.x).toBeLessThan(positions.b.x);
    expect(positions.b.x).toBeLessThan(positions.d.x);
    expect(positions.b.x).toBe(positions.c.x);
    expect(positions.b.y).not.toBe(positions.c.y);
    expect(overlaps(positions, 200, 64)).toBe(false);
    expect(width).toBeGreaterThanOrEqual(3 * 200);
    expect(height).toBeGreaterThanOrEqual(2 * 64);
  });

  it('is pure: the same graph gives the same positions, and edges to missing nodes are ignored', async () => {
    const one = await layoutGraph(elk, diamond);
    const two = await layoutGraph(elk, { ...diamond, edges: [...diamond.edges, { source: 'a', target: 'ghost' }] });
    expect(two.positions).toEqual(one.positions);
  });
});

describe('layoutByDepth (big graphs)', () => {
  it('puts each node in the column of its longest path, without overlap', () => {
    const n = 2000;
    const mids = Array.from({ length: n - 2 }, (_, i) => `n${i}`);
    const input: LayoutInput = {
      nodes: ['root', ...mids, 'join'].map(node),
      edges: mids.flatMap((m) => [{ source: 'root', target: m }, { source: m, target: 'join' }]),
    };
    const t = performance.now();
    const { positions } = layoutByDepth(input);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(Object.keys(positions)).toHaveLength(n);
    expect(positions.root.x).toBeLessThan(positions.n0.x);
    expect(positions.n0.x).toBe(positions.n1997.x);
    expect(positions.n1997.x).toBeLessThan(positions.join.x);
    expect(overlaps(positions, 200, 64)).toBe(false);
  });

  it('handles the diamond like ELK does in columns', () => {
    const { positions } = layoutByDepth(diamond);
    expect(positions.a.x).toBeLessThan(positions.b.x);
    expect(positions.b.x).toBe(positions.c.x);
    expect(positions.c.x).toBeLessThan(positions.d.x);
  });
});

describe('chooseLayout', () => {
  it('uses ELK where there are crossings to minimise, columns by depth for chains and big graphs', () => {
    expect(chooseLayout(diamond)).toBe('elk');
    const chain: LayoutInput = { nodes: ['a', 'b', 'c'].map(node), edges: [{ source: 'a', target: 'b' }, { source: 'b', target: 'c' }] };
    expect(chooseLayout(chain)).toBe('depth');
    const wide: LayoutInput = { nodes: Array.from({ length: 401 }, (_, i) => node(`n${i}`)), edges: [] };
    expect(chooseLayout(wide)).toBe('depth');
  });
});
