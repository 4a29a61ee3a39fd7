import { Background, Controls, MiniMap, Position, ReactFlow, useReactFlow, type Edge, type Viewport } from '@xyflow/react';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { NODE_HEIGHT, NODE_WIDTH, type LayoutInput } from './layout';
import { nodeTypes, type StepFlowNode } from './StepNode';
import { useLayout } from './useLayout';

/**
 * What the graph needs of a step: its shape only. A run's statuses reach the nodes through
 * RunStoreContext, each node subscribed to its own step, so events never rebuild the graph.
 */
export interface DagStep {
  stepId: string;
  type: string;
  needs: readonly string[];
}

/**
 * Handles where StepNode's CSS puts them (left and right, mid-height). Given up front, React Flow
 * needs no first render of every node to measure them, and so can cull off-screen nodes at once.
 */
const HANDLE = 8;
const HANDLES: NonNullable<StepFlowNode['handles']> = [
  { type: 'target', position: Position.Left, x: -HANDLE / 2, y: NODE_HEIGHT / 2 - HANDLE / 2, width: HANDLE, height: HANDLE },
  { type: 'source', position: Position.Right, x: NODE_WIDTH - HANDLE / 2, y: NODE_HEIGHT / 2 - HANDLE / 2, width: HANDLE, height: HANDLE },
];
const MEASURED = { width: NODE_WIDTH, height: NODE_HEIGHT };

interface Props {
  steps: readonly DagStep[];
  selected?: string | null;
  onSelect?: (stepId: string | null) => void;
  height?: number | string;
}

const BIG = 300;

/** Small graphs stay fitted when their box changes size (the step drawer opens beside them). */
function FitOnResize({ target }: { target: React.RefObject<HTMLDivElement | null> }) {
  const flow = useReactFlow();
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => void flow.fitView({ padding: 0.1, maxZoom: 1.2 }));
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
    };
  }, [flow, target]);
  return null;
}

function DagViewInner({ steps, selected, onSelect, height = 420 }: Props) {
  // The layout only changes with the graph's shape, never with statuses.
  const shapeKey = useMemo(() => steps.map((s) => `${s.stepId}<${s.needs.join(',')}`).join('|'), [steps]);
  const stepsRef = useRef(steps);
  stepsRef.current = steps;
  const { layout, error } = useLayout(shapeKey, (): LayoutInput => ({
    nodes: stepsRef.current.map((s) => ({ id: s.stepId, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: stepsRef.current.flatMap((s) => s.needs.map((n) => ({ source: n, target: s.stepId }))),
  }));

  const allEdges = useMemo<Edge[]>(
    () =>
      layout
        ? stepsRef.current.flatMap((s) =>
            s.needs.map((n) => ({ id: `${n}->${s.stepId}`, source: n, target: s.stepId, focusable: false })),
          )
        : [],
    // edges depend on the shape only
    [layout],
  );

  // In a big graph a fan-out's edges all cross the screen, so culling by bounding box keeps
  // thousands of them: draw only edges whose two ends are on screen.
  const big = steps.length > BIG;
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<Viewport | null>(null);
  const edges = useMemo<Edge[]>(() => {
    if (!big || !layout) return allEdges;
    const el = box.current;
    if (!view || !el) return [];
    const m = 200;
    const x0 = -view.x / view.zoom - m;
    const y0 = -view.y / view.zoom - m;
    const x1 = x0 + el.clientWidth / view.zoom + 2 * m;
    const y1 = y0 + el.clientHeight / view.zoom + 2 * m;
    const on = (id: string) => {
      const p = layout.positions[id];
      return !!p && p.x + NODE_WIDTH >= x0 && p.x <= x1 && p.y + NODE_HEIGHT >= y0 && p.y <= y1;
    };
    return allEdges.filter((e) => on(e.source) && on(e.target));
  }, [big, layout, allEdges, view]);

  // Reuse each node object while its shape, place and selection are unchanged: React Flow then
  // skips it, and memoized nodes do not re-render.
  const cache = useRef(new Map<string, StepFlowNode>());
  const nodes = useMemo<StepFlowNode[]>(() => {
    if (!layout) return [];
    const next = new Map<string, StepFlowNode>();
    const out: StepFlowNode[] = [];
    for (const s of steps) {
      const isSel = s.stepId === selected;
      const position = layout.positions[s.stepId] ?? { x: 0, y: 0 };
      const prev = cache.current.get(s.stepId);
      const node: StepFlowNode =
        prev && prev.data.type === s.type && prev.data.selected === isSel && prev.position === position
          ? prev
          : {
              id: s.stepId,
              type: 'step',
              position,
              data: { stepId: s.stepId, type: s.type, selected: isSel },
              width: NODE_WIDTH,
              height: NODE_HEIGHT,
              measured: MEASURED,
              handles: HANDLES,
              draggable: false,
              connectable: false,
            };
      next.set(s.stepId, node);
      out.push(node);
    }
    cache.current = next;
    return out;
  }, [steps, layout, selected]);

  return (
    <div className="dag" ref={box} style={{ height }} data-testid="dag" data-nodes={layout ? steps.length : 0}>
      {error && <div className="error-box">{error.message}</div>}
      {!layout && !error && <div className="dag-loading muted">Laying out {steps.length} steps…</div>}
      {layout && (
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements={big}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          fitView
          fitViewOptions={{ padding: 0.1, minZoom: big ? 0.2 : 0.4, maxZoom: 1.2 }}
          minZoom={0.05}
          maxZoom={2}
          proOptions={{ hideAttribution: true }}
          onInit={(flow) => {
            performance.mark('skein:graph');
            if (big) setView(flow.getViewport());
          }}
          onMoveEnd={(_e, v) => big && setView(v)}
          onNodeClick={(_e, n) => onSelect?.(n.id)}
          onPaneClick={() => onSelect?.(null)}
        >
          <Background gap={16} size={1} />
          <Controls showInteractive={false} />
          {!big && <FitOnResize target={box} />}
          {steps.length > 12 && !big && <MiniMap pannable zoomable nodeStrokeWidth={2} />}
        </ReactFlow>
      )}
    </div>
  );
}

/** The graph re-renders when its shape, selection or size changes; never on a step's event. */
export const DagView = memo(DagViewInner);
