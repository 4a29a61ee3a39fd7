import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { ErrorBox } from '../../app/errors';
import { elapsed, formatDuration, formatTime, json } from '../../app/format';
import { ProgressBar, StatusBadge, statusMeta } from '../../app/status';
import { graphql } from '../../graphql';
import type { StepLogsQuery as StepLogsResult } from '../../graphql/graphql';
import type { LiveStep } from './runState';

/**
 * The API has no single-step field yet, so details come from the run's step list. `with` comes
 * from the workflow definition (one read), not StepRun.with (a lookup per step on the server).
 */
const StepDetailsQuery = graphql(`
  query StepDetails($id: ID!) {
    run(id: $id) {
      id
      workflow {
        id
        steps {
          id
          with
          retry
          timeoutMs
          if
          trigger
        }
      }
      steps {
        id
        stepId
        status
        attempt
        output
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

const StepLogsQuery = graphql(`
  query StepLogs($id: ID!, $after: Int, $first: Int!) {
    run(id: $id) {
      id
      steps {
        id
        stepId
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

type LogLine = NonNullable<StepLogsResult['run']>['steps'][number]['logs'][number];
const LOG_PAGE = 200;

function useStepLogs(runId: string, stepId: string, tick: number) {
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
        .query(StepLogsQuery, { id: runId, after: last.current, first: LOG_PAGE }, { requestPolicy: 'network-only' })
        .toPromise();
      setError(res.error ?? null);
      const page = res.data?.run?.steps.find((s) => s.stepId === stepId)?.logs ?? [];
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
  // New lines are read on the step's own events (and once when opened).
  useEffect(() => {
    void fetchMore();
  }, [fetchMore, tick]);
  return { lines, more, error, fetchMore };
}

export function StepDrawer({
  runId,
  step,
  tick,
  onClose,
}: {
  runId: string;
  step: LiveStep;
  tick: number;
  onClose: () => void;
}) {
  const [{ data, error }, refetch] = useQuery({ query: StepDetailsQuery, variables: { id: runId }, requestPolicy: 'cache-and-network' });
  const statusKey = `${step.status}:${step.attempt}`;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    refetch({ requestPolicy: 'network-only' });
  }, [statusKey, refetch]);
  const logs = useStepLogs(runId, step.stepId, tick);
  const [approval, approve] = useMutation(ApproveStep);
  const [comment, setComment] = useState('');

  const detail = data?.run?.steps.find((s) => s.stepId === step.stepId);
  const def = data?.run?.workflow.steps.find((s) => s.id === step.stepId);
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
          <pre className="code">{def ? json(def.with ?? null) : '…'}</pre>
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
              {logs.lines.map((l) => `[${new Date(l.at).toLocaleTimeString()} #${l.attempt}] ${l.line}`).join('\n')}
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
