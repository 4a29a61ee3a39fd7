import { Background, Controls, MiniMap, Panel, Position, ReactFlow, useReactFlow, type Edge, type Viewport } from '@xyflow/react';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { NODE_HEIGHT, NODE_WIDTH, type LayoutInput, type LayoutResult } from './layout';
import { FanOutNode, type FanOutFlowNode } from './FanOutNode';
import { collapseFanOuts, findFanOuts } from './fanout';
import { StepNode, type StepFlowNode } from './StepNode';

type DagFlowNode = StepFlowNode | FanOutFlowNode;

// Module scope: React Flow re-mounts every node when nodeTypes changes identity.
const nodeTypes = { step: StepNode, fanout: FanOutNode };
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
const HANDLES: NonNullable<DagFlowNode['handles']> = [
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

/** A new layout (a fan-out opened or closed) is fitted to the box, as the first one is. */
function FitOnLayout({ layout, big, onView }: { layout: LayoutResult; big: boolean; onView: (v: Viewport) => void }) {
  const flow = useReactFlow();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const frame = requestAnimationFrame(() => {
      void flow.fitView({ padding: 0.1, minZoom: big ? 0.2 : 0.4, maxZoom: 1.2 }).then(() => onView(flow.getViewport()));
    });
    return () => cancelAnimationFrame(frame);
  }, [flow, layout, big, onView]);
  return null;
}

function DagViewInner({ steps, selected, onSelect, height = 420 }: Props) {
  // Big fan-outs are drawn as one node until opened (a click); the selected step's fan-out opens
  // by itself, so a step picked in the log or the timeline shows on the graph.
  const fanOuts = useMemo(() => findFanOuts(steps), [steps]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const selectedFanOut = useMemo(() => (selected ? fanOuts.find((f) => f.members.includes(selected))?.id : undefined), [fanOuts, selected]);
  useEffect(() => {
    if (selectedFanOut) setExpanded((prev) => (prev.has(selectedFanOut) ? prev : new Set(prev).add(selectedFanOut)));
  }, [selectedFanOut]);
  const graph = useMemo(() => collapseFanOuts(steps, fanOuts, expanded), [steps, fanOuts, expanded]);
  const open = fanOuts.filter((f) => expanded.has(f.id)).length;

  // The layout only changes with the drawn graph's shape, never with statuses.
  const shapeKey = useMemo(() => {
    const needs = new Map<string, string[]>();
    for (const e of graph.edges) (needs.get(e.target) ?? needs.set(e.target, []).get(e.target)!).push(e.source);
    return graph.nodes.map((n) => `${n.id}<${(needs.get(n.id) ?? []).join(',')}`).join('|');
  }, [graph]);
  const graphRef = useRef(graph);
  graphRef.current = graph;
  const { layout, error } = useLayout(shapeKey, (): LayoutInput => ({
    nodes: graphRef.current.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: graphRef.current.edges,
  }));

  const allEdges = useMemo<Edge[]>(
    () => (layout ? graphRef.current.edges.map((e) => ({ id: `${e.source}->${e.target}`, ...e, focusable: false })) : []),
    // edges depend on the shape only, which the layout follows
    [layout],
  );

  // In a big graph a fan-out's edges all cross the screen, so culling by bounding box keeps
  // thousands of them: draw only edges whose two ends are on screen.
  const big = graph.nodes.length > BIG;
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
  const cache = useRef(new Map<string, DagFlowNode>());
  const nodes = useMemo<DagFlowNode[]>(() => {
    if (!layout) return [];
    const next = new Map<string, DagFlowNode>();
    const out: DagFlowNode[] = [];
    for (const n of graph.nodes) {
      const isSel = n.id === selected;
      const position = layout.positions[n.id] ?? { x: 0, y: 0 };
      const prev = cache.current.get(n.id);
      const same = prev && prev.position === position && prev.type === n.kind && (n.kind === 'fanout' ? prev.data.fanOut === n.fanOut : prev.data.type === n.type && prev.data.selected === isSel);
      const base = { id: n.id, position, width: NODE_WIDTH, height: NODE_HEIGHT, measured: MEASURED, handles: HANDLES, draggable: false, connectable: false };
      const node: DagFlowNode = same
        ? prev
        : n.kind === 'fanout'
          ? { ...base, type: 'fanout', data: { fanOut: n.fanOut! } }
          : { ...base, type: 'step', data: { stepId: n.id, type: n.type, selected: isSel } };
      next.set(n.id, node);
      out.push(node);
    }
    cache.current = next;
    return out;
  }, [graph, layout, selected]);

  return (
    <div className="dag" ref={box} style={{ height }} data-testid="dag" data-nodes={layout ? steps.length : 0} data-drawn={layout ? graph.nodes.length : 0}>
      {error && <div className="error-box">{error.message}</div>}
      {!layout && !error && <div className="dag-loading muted">Laying out {graph.nodes.length} nodes…</div>}
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
          onNodeClick={(_e, n) => (n.type === 'fanout' ? setExpanded((prev) => new Set(prev).add(n.id)) : onSelect?.(n.id))}
          onPaneClick={() => onSelect?.(null)}
        >
          <Background gap={16} size={1} />
          {open > 0 && (
            <Panel position="top-right">
              <button type="button" className="small" onClick={() => setExpanded(new Set())} data-testid="collapse-fanouts">
                ❐ Collapse {open === 1 ? 'the fan-out' : `${open} fan-outs`}
              </button>
            </Panel>
          )}
          <Controls showInteractive={false} />
          {!big && <FitOnResize target={box} />}
          <FitOnLayout layout={layout} big={big} onView={setView} />
          {graph.nodes.length > 12 && !big && <MiniMap pannable zoomable nodeStrokeWidth={2} />}
        </ReactFlow>
      )}
    </div>
  );
}

/** The graph re-renders when its shape, selection or size changes; never on a step's event. */
export const DagView = memo(DagViewInner);
