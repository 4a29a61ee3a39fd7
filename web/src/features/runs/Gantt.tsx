import { memo, useMemo } from 'react';
import { formatDuration } from '../../app/format';
import { statusMeta } from '../../app/status';
import { useVirtualRows } from '../../app/useVirtualRows';
import type { LiveStep } from './runState';
import type { SnapshotStep } from './useLiveRun';

interface Bar {
  attempt: number;
  status: string;
  start: number;
  end: number;
  live: boolean;
}

interface Row {
  stepId: string;
  bars: Bar[];
  first: number;
}

const parsed = new WeakMap<LiveStep, { start: number; end?: number }>();

function timesOf(step: LiveStep): { start: number; end?: number } {
  let t = parsed.get(step);
  if (!t) {
    t = { start: Date.parse(step.startedAt ?? ''), end: step.finishedAt ? Date.parse(step.finishedAt) : undefined };
    parsed.set(step, t);
  }
  return t;
}

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
  // Finished attempts change only with the snapshot; the live bar's times are parsed once per
  // step object. A 2,000-step run re-renders this a few times a second.
  const finished = useMemo(() => {
    const out = new Map<string, Bar[]>();
    for (const snap of snapshot) {
      const bars: Bar[] = [];
      for (const a of snap.attempts) {
        if (a.startedAt) bars.push({ attempt: a.attempt, status: a.status, start: Date.parse(a.startedAt), end: Date.parse(a.finishedAt), live: false });
      }
      out.set(snap.stepId, bars);
    }
    return out;
  }, [snapshot]);
  const rows: Row[] = [];
  for (const snap of snapshot) {
    const live = steps[snap.stepId];
    let bars = finished.get(snap.stepId) ?? [];
    if (live?.startedAt && !bars.some((b) => b.attempt === live.attempt)) {
      const t = timesOf(live);
      bars = [...bars, { attempt: live.attempt, status: live.status, start: t.start, end: t.end ?? now, live: t.end === undefined }];
    }
    if (bars.length) {
      let first = bars[0].start;
      for (const b of bars) first = Math.min(first, b.start);
      rows.push({ stepId: snap.stepId, bars, first });
    }
  }
  if (rows.length === 0) return <p className="empty">No step has started yet.</p>;
  rows.sort((a, b) => a.first - b.first);
  const t0 = rows[0].first;
  let t1 = t0 + 1000;
  for (const r of rows) for (const b of r.bars) t1 = Math.max(t1, b.end);
  return <GanttRows rows={rows} t0={t0} span={t1 - t0} onStep={onStep} />;
}

/** Row pitch in px: .gantt-row's height plus the gap between rows (styles.css). */
const ROW = 21;
const VIEW = 300;

/** Only the rows in view are in the DOM: a 2,000-step run has 2,000 rows. */
function GanttRows({ rows, t0, span, onStep }: { rows: Row[]; t0: number; span: number; onStep: (stepId: string) => void }) {
  const { from, to, box, inner, rowStyle } = useVirtualRows(rows.length, ROW, VIEW);
  return (
    <div className="gantt" data-testid="gantt" data-rows={rows.length}>
      <div className="gantt-axis muted small">
        <span>0</span>
        <span>{formatDuration(span / 2)}</span>
        <span>{formatDuration(span)}</span>
      </div>
      <div className="gantt-scroll" {...box}>
        <div {...inner}>
          {rows.slice(from, to).map((r, i) => (
            <div className="gantt-row" key={r.stepId} style={rowStyle(from + i)}>
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
        </div>
      </div>
    </div>
  );
}

export const Gantt = memo(GanttView);
