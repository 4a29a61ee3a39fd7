import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { ErrorBox } from '../../app/errors';
import { clockTime, elapsed, formatDuration, formatTime, json } from '../../app/format';
import { ProgressBar, StatusBadge, statusMeta } from '../../app/status';
import { graphql } from '../../graphql';
import type { StepLogsQuery as StepLogsResult } from '../../graphql/graphql';
import type { LiveStep } from './runState';
import { useLiveStep, type RunStore } from './runStore';

/** The step's own record: one step of the run (`Run.step`), never the run's whole step list. */
const StepDetailsQuery = graphql(`
  query StepDetails($id: ID!, $stepId: String!) {
    run(id: $id) {
      id
      step(stepId: $stepId) {
        id
        stepId
        status
        attempt
        output
        with
        skipReason
        workerId
        error {
          message
          code
          stack
        }
        attempts {
          attempt
          status
          startedAt
          finishedAt
          workerId
          error {
            message
            code
          }
        }
      }
    }
  }
`);

/** Retry policy and condition as defined: a workflow version never changes, so read it once. */
const StepDefsQuery = graphql(`
  query StepDefs($name: String!, $version: Int!) {
    workflow(name: $name, version: $version) {
      id
      steps {
        id
        retry
        timeoutMs
        if
        trigger
      }
    }
  }
`);

const StepLogsQuery = graphql(`
  query StepLogs($id: ID!, $stepId: String!, $after: Int, $first: Int!) {
    run(id: $id) {
      id
      step(stepId: $stepId) {
        id
        logs(after: $after, first: $first) {
          id
          at
          attempt
          line
        }
      }
    }
  }
`);

const ApproveStep = graphql(`
  mutation ApproveStep($runId: ID!, $stepId: String!, $approved: Boolean!, $comment: String) {
    approveStep(runId: $runId, stepId: $stepId, approved: $approved, comment: $comment) {
      id
      stepId
      status
      output
    }
  }
`);

type LogLine = NonNullable<NonNullable<StepLogsResult['run']>['step']>['logs'][number];
const LOG_PAGE = 200;

/** Log lines, read on: once when opened, then on each change of the step (its events). */
function useStepLogs(runId: string, stepId: string, tick: unknown) {
  const client = useClient();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<CombinedError | null>(null);
  const last = useRef<number | null>(null);
  const busy = useRef(false);

  const fetchMore = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const res = await client
        .query(StepLogsQuery, { id: runId, stepId, after: last.current, first: LOG_PAGE }, { requestPolicy: 'network-only' })
        .toPromise();
      setError(res.error ?? null);
      const page = res.data?.run?.step?.logs ?? [];
      if (page.length) {
        last.current = page[page.length - 1].id;
        setLines((prev) => prev.concat(page));
      }
      setMore(page.length === LOG_PAGE);
    } finally {
      busy.current = false;
    }
  }, [client, runId, stepId]);

  useEffect(() => {
    last.current = null;
    setLines([]);
  }, [runId, stepId]);
  useEffect(() => {
    void fetchMore();
  }, [fetchMore, tick]);
  return { lines, more, error, fetchMore };
}

/** One step of a run: live status from the run's store, details and logs read for this step only. */
export function StepDrawer({
  runId,
  stepId,
  store,
  workflow,
  onClose,
}: {
  runId: string;
  stepId: string;
  store: RunStore;
  workflow?: { name: string; version: number };
  onClose: () => void;
}) {
  const step = useLiveStep(stepId, store);
  if (!step) return null;
  return <StepDrawerView runId={runId} step={step} workflow={workflow} onClose={onClose} />;
}

function StepDrawerView({
  runId,
  step,
  workflow,
  onClose,
}: {
  runId: string;
  step: LiveStep;
  workflow?: { name: string; version: number };
  onClose: () => void;
}) {
  const [{ data, error }, refetch] = useQuery({
    query: StepDetailsQuery,
    variables: { id: runId, stepId: step.stepId },
    requestPolicy: 'cache-and-network',
  });
  const [defs] = useQuery({
    query: StepDefsQuery,
    variables: { name: workflow?.name ?? '', version: workflow?.version ?? 0 },
    pause: !workflow,
  });
  const statusKey = `${step.status}:${step.attempt}`;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    refetch({ requestPolicy: 'network-only' });
  }, [statusKey, refetch]);
  const logs = useStepLogs(runId, step.stepId, step);
  const [approval, approve] = useMutation(ApproveStep);
  const [comment, setComment] = useState('');

  const detail = data?.run?.step;
  const def = defs.data?.workflow?.steps.find((s) => s.id === step.stepId);
  const decide = async (approved: boolean) => {
    const res = await approve({ runId, stepId: step.stepId, approved, comment: comment.trim() || null });
    if (!res.error) setComment('');
  };

  return (
    <aside className="drawer" aria-label={`Step ${step.stepId}`} data-testid="step-drawer">
      <header className="drawer-head">
        <div>
          <h2 className="mono">{step.stepId}</h2>
          <div className="muted small">
            {step.type} · attempt <span data-testid="drawer-attempt">{step.attempt}</span>/{step.maxAttempts}
            {step.needs.length > 0 && <> · needs {step.needs.join(', ')}</>}
          </div>
        </div>
        <StatusBadge status={step.status} testId="drawer-status" />
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ✕
        </button>
      </header>
      <div className="drawer-body">
        <ErrorBox error={error} title="Could not load the step:" />
        {(step.status === 'RUNNING' || step.progress > 0) && (
          <div className="kv">
            <ProgressBar value={step.progress} tone={statusMeta(step.status).tone} />
            <span className="small muted">
              {Math.round(step.progress * 100)}% {step.progressMessage ?? ''}
            </span>
          </div>
        )}
        <dl className="facts">
          <dt>Started</dt>
          <dd>{formatTime(step.startedAt)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(elapsed(step.startedAt, step.finishedAt))}</dd>
          {detail?.workerId && (
            <>
              <dt>Worker</dt>
              <dd className="mono small">{detail.workerId}</dd>
            </>
          )}
          {def?.retry != null && (
            <>
              <dt>Retry</dt>
              <dd className="mono small">{JSON.stringify(def.retry)}</dd>
            </>
          )}
          {def?.if && (
            <>
              <dt>If</dt>
              <dd className="mono small">{def.if}</dd>
            </>
          )}
        </dl>
        {detail?.skipReason && <p className="note">↷ Skipped: {detail.skipReason}</p>}

        {step.status === 'WAITING' && (
          <section className="approval" data-testid="approval">
            <h3>⧗ Waiting for approval</h3>
            {step.progressMessage && <p>{step.progressMessage}</p>}
            <label htmlFor="approval-comment" className="small muted">
              Comment (recorded with the decision)
            </label>
            <textarea id="approval-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
            <ErrorBox error={approval.error} title="The decision was refused:" />
            <div className="form-actions">
              <button type="button" className="danger" disabled={approval.fetching} onClick={() => void decide(false)}>
                ✕ Reject
              </button>
              <button type="button" className="primary" disabled={approval.fetching} onClick={() => void decide(true)}>
                ✓ Approve
              </button>
            </div>
          </section>
        )}

        {detail?.error && (
          <section>
            <h3>Error</h3>
            <div className="error-box">
              {detail.error.code && <code className="error-code">{detail.error.code}</code>} {detail.error.message}
            </div>
            {detail.error.stack && (
              <details>
                <summary>Stack</summary>
                <pre className="code small">{detail.error.stack}</pre>
              </details>
            )}
          </section>
        )}

        <section>
          <h3>Input (with)</h3>
          <pre className="code">{detail ? json(detail.with ?? null) : '…'}</pre>
        </section>
        <section>
          <h3>Output</h3>
          <pre className="code" data-testid="step-output">{detail ? json(detail.output ?? null) : '…'}</pre>
        </section>

        <section>
          <h3>Attempts</h3>
          {detail && detail.attempts.length === 0 && <p className="muted small">No finished attempt yet.</p>}
          {detail && detail.attempts.length > 0 && (
            <table className="table compact" data-testid="attempts">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Status</th>
                  <th>Duration</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {detail.attempts.map((a) => (
                  <tr key={a.attempt}>
                    <td className="num">{a.attempt}</td>
                    <td>
                      <StatusBadge status={a.status} />
                    </td>
                    <td className="num">{formatDuration(elapsed(a.startedAt, a.finishedAt))}</td>
                    <td className="small">
                      {a.error && (
                        <>
                          {a.error.code && <code className="error-code">{a.error.code}</code>} {a.error.message}
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section>
          <h3>Logs</h3>
          <ErrorBox error={logs.error} title="Could not read the logs:" />
          {logs.lines.length === 0 ? (
            <p className="muted small">No log lines.</p>
          ) : (
            <pre className="code logs" data-testid="step-logs">
              {logs.lines.map((l) => `[${clockTime(l.at)} #${l.attempt}] ${l.line}`).join('\n')}
            </pre>
          )}
          {logs.more && (
            <button type="button" className="link" onClick={() => void logs.fetchMore()}>
              Load more lines
            </button>
          )}
        </section>
      </div>
    </aside>
  );
}
