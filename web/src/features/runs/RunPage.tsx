import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useQuery, useSubscription } from 'urql';
import { ErrorBox } from '../../app/errors';
import { elapsed, formatDuration, formatTime, json, shortId } from '../../app/format';
import { ProgressBar, StatusBadge, statusMeta } from '../../app/status';
import { useNow } from '../../app/useNow';
import { graphql } from '../../graphql';
import { DagView, type DagStep } from '../dag/DagView';
import { EventLog } from './EventLog';
import { Gantt } from './Gantt';
import { RunActions } from './RunActions';
import { countSteps } from './runState';
import { RunStoreContext, useLiveRunState } from './runStore';
import { StepDrawer } from './StepDrawer';
import { useLiveRun } from './useLiveRun';

/** The run's header: kept current by runUpdated (and runsChanged) through the normalized cache. */
export const RunHeaderFields = graphql(`
  fragment RunHeader on Run {
    ...RunRow
    allowedActions
    createdBy
    idempotencyKey
    input
    output
    lastSeq
    error {
      message
      code
      stack
      stepId
    }
  }
`);

const RunHeaderQuery = graphql(`
  query RunHeader($id: ID!) {
    run(id: $id) {
      ...RunHeader
    }
  }
`);

const RunUpdatedSubscription = graphql(`
  subscription RunUpdated($id: ID!) {
    runUpdated(id: $id) {
      ...RunHeader
    }
  }
`);

const LIVE = new Set(['QUEUED', 'RUNNING', 'PAUSING', 'CANCELLING']);

export function RunPage() {
  const { id = '' } = useParams();
  return <RunScreen key={id} runId={id} />;
}

function RunScreen({ runId }: { runId: string }) {
  const [header, refetchHeader] = useQuery({ query: RunHeaderQuery, variables: { id: runId } });
  const [updates] = useSubscription({ query: RunUpdatedSubscription, variables: { id: runId } });
  const liveRun = useLiveRun(runId);
  const live = useLiveRunState(liveRun.store);
  const [selected, setSelected] = useState<string | null>(null);
  const closeDrawer = useCallback(() => setSelected(null), []);
  const run = header.data?.run;
  const status = live?.status ?? run?.status ?? 'QUEUED';
  const now = useNow(LIVE.has(status) || status === 'PAUSED');

  // The event stream and runUpdated are separate streams: when the events say the run has come
  // to rest and the header (whose allowedActions drive the buttons) still says otherwise, read it.
  const liveStatus = live?.status;
  const headerStatus = run?.status;
  useEffect(() => {
    if (!liveStatus || LIVE.has(liveStatus) || !headerStatus || headerStatus === liveStatus) return;
    const t = setTimeout(() => refetchHeader({ requestPolicy: 'network-only' }), 500);
    return () => clearTimeout(t);
  }, [liveStatus, headerStatus, refetchHeader]);

  // The graph's shape comes from the snapshot (it changes only when the snapshot is read again);
  // statuses reach the nodes through the store.
  const snapSteps = liveRun.snapshot?.steps;
  const dagSteps = useMemo<DagStep[]>(() => (snapSteps ?? []).map((s) => ({ stepId: s.stepId, type: s.type, needs: s.needs })), [snapSteps]);
  const counts = useMemo(() => (live ? countSteps(live) : null), [live]);
  const liveSteps = live?.steps;
  const waiting = useMemo(() => (liveSteps ? Object.values(liveSteps).filter((s) => s.status === 'WAITING').map((s) => s.stepId) : []), [liveSteps]);

  if (liveRun.notFound || (header.data && !run)) {
    return (
      <div className="page">
        <div className="error-box" role="alert">
          <code className="error-code">NOT_FOUND</code> Run {runId} does not exist.
        </div>
      </div>
    );
  }

  const selectedStep = selected && live ? live.steps[selected] : undefined;
  const notSucceeded = counts ? counts.total - (counts.byStatus.SUCCEEDED ?? 0) : 0;
  return (
    <div className="page run-page">
      <header className="page-head run-head">
        <div>
          <div className="crumbs muted small">
            <Link to="/runs">Runs</Link> / <span className="mono">{shortId(runId)}</span>
          </div>
          <h1>
            {run ? (
              <>
                <Link to={`/workflows/${encodeURIComponent(run.workflowName)}`}>{run.workflowName}</Link>{' '}
                <span className="muted">v{run.workflowVersion}</span>
              </>
            ) : (
              '…'
            )}
          </h1>
        </div>
        <StatusBadge status={status} testId="run-status" />
        {run && (
          <RunActions
            runId={runId}
            allowed={run.allowedActions}
            notSucceeded={notSucceeded}
            running={counts?.byStatus.RUNNING ?? 0}
          />
        )}
      </header>
      <ErrorBox error={header.error} title="Could not load the run:" />
      <ErrorBox error={updates.error} title="Run updates stopped:" />
      <ErrorBox error={liveRun.error} title="Could not load the steps:" />
      {liveRun.streamError && (
        <div className="error-box" role="alert">
          <strong>Event stream:</strong> {liveRun.streamError.code && <code className="error-code">{liveRun.streamError.code}</code>}{' '}
          {liveRun.streamError.message}
        </div>
      )}

      {run && (
        <div className="run-summary">
          <div className="stat grow">
            <div className="progress-cell">
              <ProgressBar value={counts && counts.total ? counts.done / counts.total : run.progress} tone={statusMeta(status).tone} />
              <span className="num" data-testid="steps-done">
                {counts ? counts.done : run.stepsDone}/{counts ? counts.total : run.stepsTotal} steps
              </span>
            </div>
            {counts && (
              <div className="count-chips small">
                {Object.entries(counts.byStatus).map(([s, n]) => (
                  <span key={s} className={`tone-${statusMeta(s).tone} count-chip`}>
                    {statusMeta(s).icon} {n} {s.toLowerCase()}
                  </span>
                ))}
              </div>
            )}
          </div>
          <div className="stat">
            <span className="muted small">Duration</span>
            <span className="num">{formatDuration(run.finishedAt ? run.durationMs ?? elapsed(run.startedAt, run.finishedAt) : elapsed(run.startedAt, null, now))}</span>
          </div>
          <div className="stat">
            <span className="muted small">Started</span>
            <span>{formatTime(run.startedAt ?? run.createdAt)}</span>
          </div>
          <div className="stat">
            <span className="muted small">By</span>
            <span>{run.createdBy}</span>
          </div>
        </div>
      )}
      {run?.error && (
        <div className="error-box" data-testid="run-error">
          {run.error.code && <code className="error-code">{run.error.code}</code>} {run.error.message}
          {run.error.stepId && (
            <>
              {' '}
              in step{' '}
              <button type="button" className="link mono" onClick={() => setSelected(run.error!.stepId!)}>
                {run.error.stepId}
              </button>
            </>
          )}
        </div>
      )}
      {waiting.length > 0 && (
        <div className="note wait" data-testid="waiting-callout">
          ⧗ Waiting for approval:{' '}
          {waiting.map((s) => (
            <button key={s} type="button" className="link mono" onClick={() => setSelected(s)}>
              {s}
            </button>
          ))}
        </div>
      )}

      <div className="run-body">
        <section className="card dag-card">
          {live ? (
            <RunStoreContext.Provider value={liveRun.store}>
              <DagView steps={dagSteps} selected={selected} onSelect={setSelected} height="100%" />
            </RunStoreContext.Provider>
          ) : (
            <p className="muted">Loading steps…</p>
          )}
        </section>
        {selectedStep && (
          <StepDrawer
            key={selectedStep.stepId}
            runId={runId}
            stepId={selectedStep.stepId}
            store={liveRun.store}
            workflow={run ? { name: run.workflowName, version: run.workflowVersion } : undefined}
            onClose={closeDrawer}
          />
        )}
      </div>

      <div className="split">
        <section className="card grow">
          <h2>Timeline</h2>
          {live && liveRun.snapshot && <Gantt steps={live.steps} snapshot={liveRun.snapshot.steps} now={now} onStep={setSelected} />}
        </section>
        <section className="card grow">
          <h2>Events</h2>
          <EventLog events={liveRun.events} connection={liveRun.connection} onStep={setSelected} />
        </section>
      </div>
      {run && (
        <div className="split">
          <section className="card grow">
            <h2>Input</h2>
            <pre className="code">{json(run.input ?? null)}</pre>
          </section>
          <section className="card grow">
            <h2>Output</h2>
            <pre className="code">{json(run.output ?? null)}</pre>
          </section>
        </div>
      )}
    </div>
  );
}
