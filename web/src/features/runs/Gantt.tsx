import { memo } from 'react';
import { formatDuration } from '../../app/format';
import { statusMeta } from '../../app/status';
import type { LiveStep } from './runState';
import type { SnapshotStep } from './useLiveRun';

interface Bar {
  attempt: number;
  status: string;
  start: number;
  end: number;
  live: boolean;
}

const MAX_ROWS = 200;

/** Step attempts on a shared time axis: finished attempts from the snapshot, the current one live. */
function GanttView({
  steps,
  snapshot,
  now,
  onStep,
}: {
  steps: Record<string, LiveStep>;
  snapshot: readonly SnapshotStep[];
  now: number;
  onStep: (stepId: string) => void;
}) {
  const rows: { stepId: string; bars: Bar[]; first: number }[] = [];
  for (const snap of snapshot) {
    const live = steps[snap.stepId];
    const bars: Bar[] = [];
    for (const a of snap.attempts) {
      if (!a.startedAt) continue;
      bars.push({ attempt: a.attempt, status: a.status, start: Date.parse(a.startedAt), end: Date.parse(a.finishedAt), live: false });
    }
    if (live?.startedAt && !bars.some((b) => b.attempt === live.attempt)) {
      const end = live.finishedAt ? Date.parse(live.finishedAt) : now;
      bars.push({ attempt: live.attempt, status: live.status, start: Date.parse(live.startedAt), end, live: !live.finishedAt });
    }
    if (bars.length) rows.push({ stepId: snap.stepId, bars, first: Math.min(...bars.map((b) => b.start)) });
  }
  if (rows.length === 0) return <p className="empty">No step has started yet.</p>;
  rows.sort((a, b) => a.first - b.first);
  const t0 = rows[0].first;
  const t1 = Math.max(t0 + 1000, ...rows.map((r) => Math.max(...r.bars.map((b) => b.end))));
  const span = t1 - t0;
  const shown = rows.slice(0, MAX_ROWS);
  return (
    <div className="gantt" data-testid="gantt">
      <div className="gantt-axis muted small">
        <span>0</span>
        <span>{formatDuration(span / 2)}</span>
        <span>{formatDuration(span)}</span>
      </div>
      {shown.map((r) => (
        <div className="gantt-row" key={r.stepId}>
          <button type="button" className="gantt-label link mono" onClick={() => onStep(r.stepId)} title={r.stepId}>
            {r.stepId}
          </button>
          <div className="gantt-track">
            {r.bars.map((b) => (
              <span
                key={b.attempt}
                className={`gantt-bar tone-${statusMeta(b.status).tone}${b.live ? ' live' : ''}`}
                style={{ left: `${((b.start - t0) / span) * 100}%`, width: `max(2px, ${((b.end - b.start) / span) * 100}%)` }}
                title={`${r.stepId} attempt ${b.attempt}: ${b.status}, ${formatDuration(b.end - b.start)}`}
              >
                {b.attempt > 1 ? `#${b.attempt}` : ''}
              </span>
            ))}
          </div>
        </div>
      ))}
      {rows.length > MAX_ROWS && <p className="muted small">Showing the first {MAX_ROWS} of {rows.length} started steps.</p>}
    </div>
  );
}

export const Gantt = memo(GanttView);
