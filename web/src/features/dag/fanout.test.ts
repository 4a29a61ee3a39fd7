import { describe, expect, it } from 'vitest';
import { collapseFanOuts, findFanOuts, type ShapeStep } from './fanout';

const wide = (n: number): ShapeStep[] => {
  const mids = Array.from({ length: n }, (_, i) => `m${i}`);
  return [
    { stepId: 'root', type: 'sleep', needs: [] },
    ...mids.map((stepId) => ({ stepId, type: 'noop', needs: ['root'] })),
    { stepId: 'join', type: 'noop', needs: mids },
  ];
};

describe('fan-outs', () => {
  it('groups siblings with the same needs and the same dependants', () => {
    const groups = findFanOuts(wide(1998));
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ id: 'fanout:m0', needs: ['root'], dependants: ['join'], type: 'noop' });
    expect(groups[0].members).toHaveLength(1998);
  });

  it('leaves small fan-outs and siblings with different dependants alone', () => {
    expect(findFanOuts(wide(10))).toEqual([]);
    const steps = wide(60);
    steps.push({ stepId: 'extra', type: 'noop', needs: ['m0'] });
    const [group] = findFanOuts(steps);
    expect(group.members).toHaveLength(59);
    expect(group.members).not.toContain('m0');
  });

  it('draws a collapsed fan-out as one node with its edges rewired, and all of it when expanded', () => {
    const steps = wide(100);
    const groups = findFanOuts(steps);
    const collapsed = collapseFanOuts(steps, groups, new Set());
    expect(collapsed.nodes.map((n) => n.id)).toEqual(['root', 'fanout:m0', 'join']);
    expect(collapsed.edges).toEqual([
      { source: 'root', target: 'fanout:m0' },
      { source: 'fanout:m0', target: 'join' },
    ]);
    const open = collapseFanOuts(steps, groups, new Set(['fanout:m0']));
    expect(open.nodes).toHaveLength(102);
    expect(open.edges).toHaveLength(200);
  });
});
