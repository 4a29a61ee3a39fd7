import { useState } from 'react';
import { useMutation } from 'urql';
import { ErrorBox } from '../../app/errors';
import { graphql } from '../../graphql';
import type { RunAction } from '../../graphql/graphql';

const Pause = graphql(`
  mutation PauseRun($id: ID!, $reason: String) {
    pauseRun(id: $id, reason: $reason) { ...RunRow allowedActions }
  }
`);
const Resume = graphql(`
  mutation ResumeRun($id: ID!, $reason: String) {
    resumeRun(id: $id, reason: $reason) { ...RunRow allowedActions }
  }
`);
const Cancel = graphql(`
  mutation CancelRun($id: ID!, $reason: String) {
    cancelRun(id: $id, reason: $reason) { ...RunRow allowedActions }
  }
`);
const Retry = graphql(`
  mutation RetryRun($id: ID!, $reason: String) {
    retryRun(id: $id, reason: $reason) { ...RunRow allowedActions }
  }
`);

interface ActionInfo {
  label: string;
  icon: string;
  confirm: string;
  explain: (ctx: { notSucceeded: number; running: number }) => string;
  danger?: boolean;
}

/** Each action says plainly what it will do before it is done. */
const ACTIONS: Record<RunAction, ActionInfo> = {
  pause: {
    label: 'Pause',
    icon: '‖',
    confirm: 'Pause run',
    explain: ({ running }) =>
      `No new step will start and queued steps are withdrawn. ${running} step(s) already running will finish first (PAUSING), then the run is PAUSED. Nothing fails; Resume carries on from where it stopped.`,
  },
  resume: {
    label: 'Resume',
    icon: '▶',
    confirm: 'Resume run',
    explain: () => 'Every step that is ready will be scheduled again and the run carries on.',
  },
  cancel: {
    label: 'Cancel',
    icon: '⊘',
    confirm: 'Cancel run',
    danger: true,
    explain: ({ running }) =>
      `Queued steps are withdrawn and the ${running} running step(s) are aborted. The run ends CANCELLED. Steps that succeeded keep their output; Retry can later run the rest.`,
  },
  retry: {
    label: 'Retry from failure',
    icon: '↻',
    confirm: 'Retry run',
    explain: ({ notSucceeded }) =>
      `Only the ${notSucceeded} step(s) that did not succeed run again (failed, cancelled and skipped ones); succeeded steps are not re-run and keep their output. Attempt numbers go on counting.`,
  },
};

const ORDER: RunAction[] = ['pause', 'resume', 'cancel', 'retry'];

export function RunActions({
  runId,
  allowed,
  notSucceeded,
  running,
}: {
  runId: string;
  allowed: readonly RunAction[];
  notSucceeded: number;
  running: number;
}) {
  const [asking, setAsking] = useState<RunAction | null>(null);
  const [reason, setReason] = useState('');
  const [pause, doPause] = useMutation(Pause);
  const [resume, doResume] = useMutation(Resume);
  const [cancel, doCancel] = useMutation(Cancel);
  const [retry, doRetry] = useMutation(Retry);
  const states = { pause, resume, cancel, retry };
  const busy = Object.values(states).some((s) => s.fetching);
  const lastError = [pause, resume, cancel, retry].find((s) => s.error)?.error;

  const run = async (a: RunAction) => {
    const vars = { id: runId, reason: reason.trim() || null };
    const fn = { pause: doPause, resume: doResume, cancel: doCancel, retry: doRetry }[a];
    const res = await fn(vars);
    if (!res.error) {
      setAsking(null);
      setReason('');
    }
  };

  return (
    <div className="actions">
      {ORDER.map((a) => (
        <button
          key={a}
          type="button"
          className={ACTIONS[a].danger ? 'danger' : ''}
          disabled={!allowed.includes(a) || busy}
          title={allowed.includes(a) ? ACTIONS[a].explain({ notSucceeded, running }) : `${ACTIONS[a].label} is not possible now`}
          onClick={() => setAsking(a)}
        >
          {ACTIONS[a].icon} {ACTIONS[a].label}
        </button>
      ))}
      {!asking && <ErrorBox error={lastError} title="The action failed:" />}
      {asking && (
        <div className="modal-backdrop" onClick={() => !busy && setAsking(null)}>
          <div
            className="modal"
            role="dialog"
            aria-modal="true"
            aria-labelledby="confirm-title"
            onClick={(e) => e.stopPropagation()}
          >
            <h3 id="confirm-title">{ACTIONS[asking].confirm}?</h3>
            <p data-testid="confirm-explain">{ACTIONS[asking].explain({ notSucceeded, running })}</p>
            <label className="small muted" htmlFor="action-reason">
              Reason (recorded in the run's history, optional)
            </label>
            <input id="action-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            <ErrorBox error={states[asking].error} title="The server refused:" />
            <div className="form-actions">
              <button type="button" onClick={() => setAsking(null)} disabled={busy}>
                Keep as is
              </button>
              <button
                type="button"
                className={ACTIONS[asking].danger ? 'danger solid' : 'primary'}
                disabled={busy}
                onClick={() => void run(asking)}
              >
                {ACTIONS[asking].confirm}
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
