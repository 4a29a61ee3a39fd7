import { Link } from 'react-router-dom';
import { elapsed, formatDuration, formatTime, shortId } from '../../app/format';
import { ProgressBar, StatusBadge, statusMeta } from '../../app/status';
import { useNow } from '../../app/useNow';
import { graphql } from '../../graphql';
import type { RunRowFragment } from '../../graphql/graphql';

/** The fields a row of any run list shows; runsChanged selects it too, so rows stay live. */
export const RunRowFragmentDoc = graphql(`
  fragment RunRow on Run {
    id
    status
    workflowName
    workflowVersion
    progress
    stepsDone
    stepsTotal
    createdAt
    startedAt
    finishedAt
    durationMs
    updatedAt
    error {
      message
      code
    }
  }
`);

const LIVE = new Set(['QUEUED', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING']);

export function RunsTable({ runs, showWorkflow = true }: { runs: readonly RunRowFragment[]; showWorkflow?: boolean }) {
  const now = useNow(runs.some((r) => LIVE.has(r.status)));
  if (runs.length === 0) return <p className="empty">No runs yet.</p>;
  return (
    <table className="table" data-testid="runs-table">
      <thead>
        <tr>
          <th>Run</th>
          <th>Status</th>
          {showWorkflow && <th>Workflow</th>}
          <th className="w-progress">Progress</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
            <td>
              <Link to={`/runs/${r.id}`} className="mono">
                {shortId(r.id)}
              </Link>
            </td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            {showWorkflow && (
              <td>
                <Link to={`/workflows/${encodeURIComponent(r.workflowName)}`}>{r.workflowName}</Link>{' '}
                <span className="muted">v{r.workflowVersion}</span>
              </td>
            )}
            <td>
              <div className="progress-cell">
                <ProgressBar value={r.progress} tone={statusMeta(r.status).tone} />
                <span className="muted num">
                  {r.stepsDone}/{r.stepsTotal}
                </span>
              </div>
              {r.error && (
                <div className="row-error" title={r.error.message}>
                  {r.error.code && <code>{r.error.code}</code>} {r.error.message}
                </div>
              )}
            </td>
            <td className="muted">{formatTime(r.startedAt ?? r.createdAt)}</td>
            <td className="num">{formatDuration(r.finishedAt ? r.durationMs ?? elapsed(r.startedAt, r.finishedAt) : elapsed(r.startedAt, null, now))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
