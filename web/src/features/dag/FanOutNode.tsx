import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo, useContext, useMemo, useSyncExternalStore } from 'react';
import { statusMeta } from '../../app/status';
import { RunStoreContext, type RunStore } from '../runs/runStore';
import type { FanOut } from './fanout';

export interface FanOutNodeData extends Record<string, unknown> {
  fanOut: FanOut;
}

export type FanOutFlowNode = Node<FanOutNodeData, 'fanout'>;

const ORDER = ['SUCCEEDED', 'FAILED', 'RUNNING', 'RETRYING', 'WAITING', 'QUEUED', 'PENDING', 'SKIPPED', 'CANCELLED'];
const none = () => () => undefined;
const nothing = () => null;

function useRunState(store: RunStore | null) {
  return useSyncExternalStore(store ? store.subscribe : none, store ? store.get : nothing);
}

/**
 * A collapsed fan-out: how many steps, of what type, and how many are in each status (a bar in
 * status colours and the counts). A click opens it into its steps.
 */
function FanOutNodeView({ data }: NodeProps<FanOutFlowNode>) {
  const { fanOut } = data;
  const run = useRunState(useContext(RunStoreContext));
  const steps = run?.steps;
  const counts = useMemo(() => {
    if (!steps) return null;
    const by: Record<string, number> = {};
    for (const id of fanOut.members) {
      const s = steps[id]?.status ?? 'PENDING';
      by[s] = (by[s] ?? 0) + 1;
    }
    return ORDER.filter((s) => by[s]).map((s) => [s, by[s]] as const);
  }, [steps, fanOut]);
  const n = fanOut.members.length;
  const has = (s: string) => counts?.some(([k]) => k === s) ?? false;
  const tone = !counts
    ? 'idle'
    : has('FAILED')
      ? 'bad'
      : has('RUNNING') || has('RETRYING')
        ? 'live'
        : counts.length === 1 && has('SUCCEEDED')
          ? 'ok'
          : statusMeta(counts[0]?.[0] ?? 'PENDING').tone;
  return (
    <div
      className={`step-node fanout tone-${tone}`}
      data-testid={`fanout-${fanOut.members[0]}`}
      data-members={n}
      data-counts={counts?.map(([s, c]) => `${s}:${c}`).join(' ')}
      title={`${n} steps that need the same steps (${fanOut.needs.join(', ') || 'none'}): click to show each`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-top">
        <span className="step-icon" aria-hidden>
          ❐
        </span>
        <span className="step-id">
          {n.toLocaleString()} × {fanOut.type ?? 'steps'}
        </span>
      </div>
      <div className="step-node-meta">
        <span className="mono">
          {fanOut.members[0]} … {fanOut.members[n - 1]}
        </span>
        {counts && <span className="num">{counts.find(([s]) => s === 'SUCCEEDED')?.[1] ?? 0} ✓</span>}
      </div>
      {counts && (
        <span className="stacked" aria-label={counts.map(([s, c]) => `${c} ${s.toLowerCase()}`).join(', ')}>
          {counts.map(([s, c]) => (
            <span key={s} className={`tone-${statusMeta(s).tone}`} style={{ flexGrow: c }} />
          ))}
        </span>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const FanOutNode = memo(FanOutNodeView);
