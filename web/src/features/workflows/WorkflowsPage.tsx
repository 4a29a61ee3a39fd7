import { Link } from 'react-router-dom';
import { useQuery } from 'urql';
import { ErrorBox } from '../../app/errors';
import { formatTime } from '../../app/format';
import { StatusBadge } from '../../app/status';
import { graphql } from '../../graphql';
import { exampleInput } from './inputCheck';
import { useStartRun } from './useStartRun';

const WorkflowsQuery = graphql(`
  query Workflows {
    workflows {
      id
      name
      version
      description
      createdAt
      inputSchema
      steps {
        id
      }
      versions {
        id
        version
      }
      runs(first: 5) {
        totalCount
        nodes {
          ...RunRow
        }
      }
    }
  }
`);

export function WorkflowsPage() {
  const [{ data, error, fetching }] = useQuery({ query: WorkflowsQuery });
  const { state, run } = useStartRun();
  return (
    <div className="page">
      <header className="page-head">
        <h1>Workflows</h1>
        {data && <span className="muted">{data.workflows.length} registered</span>}
      </header>
      <ErrorBox error={error} title="Could not load workflows:" />
      <ErrorBox error={state.error} title="Could not start the run:" />
      {fetching && !data && <p className="muted">Loading…</p>}
      {data && data.workflows.length === 0 && (
        <p className="empty">No workflows yet. Register one with the registerWorkflow mutation, or put files in WORKFLOWS_DIR.</p>
      )}
      {data && data.workflows.length > 0 && (
        <table className="table" data-testid="workflows-table">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Versions</th>
              <th>Steps</th>
              <th>Last runs</th>
              <th>Runs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.workflows.map((wf) => (
              <tr key={wf.id} data-testid="workflow-row" data-workflow={wf.name}>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(wf.name)}`} className="strong">
                    {wf.name}
                  </Link>
                  {wf.description && <div className="muted small">{wf.description}</div>}
                </td>
                <td>
                  <span className="pill">v{wf.version}</span>
                  {wf.versions.length > 1 && <span className="muted small"> of {wf.versions.length}</span>}
                  <div className="muted small">{formatTime(wf.createdAt)}</div>
                </td>
                <td className="num">{wf.steps.length}</td>
                <td>
                  <div className="last-runs">
                    {wf.runs.nodes.length === 0 && <span className="muted small">never run</span>}
                    {wf.runs.nodes.map((r) => (
                      <Link key={r.id} to={`/runs/${r.id}`} title={`${r.status} — ${formatTime(r.createdAt)}`}>
                        <StatusBadge status={r.status} />
                      </Link>
                    ))}
                  </div>
                </td>
                <td className="num">{wf.runs.totalCount}</td>
                <td className="right">
                  <button
                    type="button"
                    className="primary"
                    disabled={state.fetching}
                    onClick={() => void run(wf.name, exampleInput(wf.inputSchema), wf.version)}
                    title="Start a run with the input schema's defaults"
                  >
                    ▶ Start
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
