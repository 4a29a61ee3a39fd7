import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { ProgressBar, statusMeta } from '../../app/status';
import { useLiveStep } from '../runs/runStore';

export interface StepNodeData extends Record<string, unknown> {
  stepId: string;
  type: string;
  selected?: boolean;
}

export type StepFlowNode = Node<StepNodeData, 'step'>;

/**
 * A step: status by colour and icon, attempt/maxAttempts, and progress while it runs. On a run's
 * graph it reads its own step from the run's store (and re-renders on that step's events only);
 * on a workflow's graph there is no store and no status.
 */
function StepNodeView({ data }: NodeProps<StepFlowNode>) {
  const live = useLiveStep(data.stepId);
  const status = live?.status ?? 'PENDING';
  const m = statusMeta(status);
  const showStatus = live !== undefined;
  return (
    <div
      className={`step-node tone-${m.tone}${data.selected ? ' selected' : ''}`}
      data-testid={`node-${data.stepId}`}
      data-status={showStatus ? status : undefined}
      title={`${data.stepId} (${data.type})${showStatus ? ` — ${status}` : ''}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-top">
        {showStatus && (
          <span className={`step-icon${m.tone === 'live' ? ' pulse' : ''}`} aria-label={status}>
            {m.icon}
          </span>
        )}
        <span className="step-id">{data.stepId}</span>
      </div>
      <div className="step-node-meta">
        <span>{data.type}</span>
        {showStatus && (
          <span className="num" data-testid="attempt">
            {live?.attempt ?? 0}/{live?.maxAttempts ?? 1}
          </span>
        )}
      </div>
      {showStatus && <ProgressBar value={live?.progress ?? 0} tone={m.tone} />}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const StepNode = memo(StepNodeView);
