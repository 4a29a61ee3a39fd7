/** Status colours and icons: colour alone never carries the meaning. */

export type AnyStatus = string;

interface StatusMeta {
  icon: string;
  tone: 'ok' | 'bad' | 'live' | 'hold' | 'wait' | 'muted' | 'idle';
}

const META: Record<string, StatusMeta> = {
  SUCCEEDED: { icon: '✓', tone: 'ok' },
  FAILED: { icon: '✕', tone: 'bad' },
  RUNNING: { icon: '●', tone: 'live' },
  RETRYING: { icon: '↻', tone: 'live' },
  PAUSING: { icon: '‖', tone: 'hold' },
  PAUSED: { icon: '‖', tone: 'hold' },
  WAITING: { icon: '⧗', tone: 'wait' },
  SKIPPED: { icon: '↷', tone: 'muted' },
  CANCELLING: { icon: '⊘', tone: 'muted' },
  CANCELLED: { icon: '⊘', tone: 'muted' },
  PENDING: { icon: '◌', tone: 'idle' },
  QUEUED: { icon: '◌', tone: 'idle' },
};

export function statusMeta(status: AnyStatus): StatusMeta {
  return META[status] ?? { icon: '?', tone: 'idle' };
}

export function StatusBadge({ status, testId }: { status: AnyStatus; testId?: string }) {
  const m = statusMeta(status);
  return (
    <span className={`badge tone-${m.tone}`} data-testid={testId} data-status={status}>
      <span className={`icon${m.tone === 'live' ? ' pulse' : ''}`} aria-hidden>
        {m.icon}
      </span>
      {status}
    </span>
  );
}

export function ProgressBar({ value, tone }: { value: number; tone?: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span className={`progress${tone ? ` tone-${tone}` : ''}`} role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
      <span style={{ transform: `scaleX(${pct / 100})` }} />
    </span>
  );
}
