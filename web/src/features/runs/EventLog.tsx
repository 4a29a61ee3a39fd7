import { memo } from 'react';
import { clockTime } from '../../app/format';
import { statusMeta } from '../../app/status';
import { useVirtualRows } from '../../app/useVirtualRows';
import type { RunEventFieldsFragment } from '../../graphql/graphql';
import type { Connection } from './useRunEvents';

/** Line pitch in px (.events li) and the height of the list. */
const ROW = 22;
const VIEW = 300;

/** One line; memoized, so a new batch renders only its own lines. */
const EventRow = memo(function EventRow({
  event: e,
  onStep,
  style,
}: {
  event: RunEventFieldsFragment;
  onStep: (stepId: string) => void;
  style: React.CSSProperties;
}) {
  return (
    <li data-type={e.type} style={style} title={e.message ?? undefined}>
      <span className="seq num">#{e.seq}</span>
      <span className="muted num">{clockTime(e.at)}</span>
      <span className={`etype tone-${e.status ? statusMeta(e.status).tone : 'idle'}`}>{e.type}</span>
      {e.stepId && (
        <button type="button" className="link mono" onClick={() => onStep(e.stepId!)}>
          {e.stepId}
        </button>
      )}
      {e.attempt != null && <span className="muted small">attempt {e.attempt}</span>}
      {e.progress != null && e.type === 'STEP_PROGRESS' && <span className="muted small">{Math.round(e.progress * 100)}%</span>}
      {e.message && <span className="emsg">{e.message}</span>}
      {e.actor && <span className="muted small">by {e.actor}</span>}
    </li>
  );
});

function EventLogView({
  events,
  connection,
  onStep,
}: {
  events: readonly RunEventFieldsFragment[];
  connection: Connection;
  onStep: (stepId: string) => void;
}) {
  const { from, to, box, inner, rowStyle } = useVirtualRows(events.length, ROW, VIEW);
  const last = events.length - 1;
  return (
    <div className="event-log" data-testid="event-log">
      <div className="event-log-head">
        <span className={`conn conn-${connection}`} data-testid="connection">
          {connection === 'live' ? '● live' : connection === 'reconnecting' ? 'reconnecting…' : connection === 'failed' ? '✕ stream failed' : 'connecting…'}
        </span>
        <span className="muted small">{events.length ? `last seq ${events[events.length - 1].seq}` : 'no events yet'}</span>
      </div>
      {/* Newest first; only the lines in view are in the DOM. */}
      <div className="events" {...box}>
        <ol {...inner}>
          {Array.from({ length: to - from }, (_, k) => {
            const i = from + k;
            const e = events[last - i];
            return <EventRow key={e.seq} event={e} onStep={onStep} style={rowStyle(i)} />;
          })}
        </ol>
      </div>
    </div>
  );
}

export const EventLog = memo(EventLogView);
