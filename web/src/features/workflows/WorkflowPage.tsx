import { useState } from 'react';
import { useParams, useSearchParams } from 'react-router-dom';
import { useQuery } from 'urql';
import { ErrorBox } from '../../app/errors';
import { json } from '../../app/format';
import { graphql } from '../../graphql';
import { DagView } from '../dag/DagView';
import { RunsTable } from '../runs/RunsTable';
import { StartRunForm } from './StartRunForm';

const WorkflowQuery = graphql(`
  query Workflow($name: String!, $version: Int) {
    workflow(name: $name, version: $version) {
      id
      name
      version
      latestVersion
      description
      checksum
      inputSchema
      definition
      steps {
        id
        type
        needs
        trigger
        if
        timeoutMs
        retry
      }
      versions {
        id
        version
        createdAt
      }
      runs(first: 20) {
        totalCount
        nodes {
          ...RunRow
        }
      }
    }
  }
`);

export function WorkflowPage() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const v = params.get('version');
  const [{ data, error, fetching }] = useQuery({ query: WorkflowQuery, variables: { name, version: v ? Number(v) : null } });
  const [showDef, setShowDef] = useState(false);
  const wf = data?.workflow;
  return (
    <div className="page">
      <header className="page-head">
        <h1>{name}</h1>
        {wf && (
          <label className="muted">
            version{' '}
            <select
              value={wf.version}
              onChange={(e) => setParams(Number(e.target.value) === wf.latestVersion ? {} : { version: e.target.value })}
            >
              {wf.versions.map((x) => (
                <option key={x.id} value={x.version}>
                  v{x.version}
                  {x.version === wf.latestVersion ? ' (latest)' : ''}
                </option>
              ))}
            </select>
          </label>
        )}
      </header>
      <ErrorBox error={error} title="Could not load the workflow:" />
      {fetching && !data && <p className="muted">Loading…</p>}
      {data && !wf && <div className="error-box" role="alert"><code className="error-code">NOT_FOUND</code> No workflow named {name}.</div>}
      {wf && (
        <>
          {wf.description && <p className="lede">{wf.description}</p>}
          <div className="split">
            <section className="card grow">
              <h2>Graph · {wf.steps.length} steps</h2>
              <DagView steps={wf.steps.map((s) => ({ stepId: s.id, type: s.type, needs: s.needs }))} height={360} />
            </section>
            <section className="card side">
              <h2>Start a run</h2>
              <StartRunForm key={wf.id} workflow={wf.name} version={wf.version} inputSchema={wf.inputSchema} />
              {wf.inputSchema != null && (
                <details>
                  <summary>Input schema</summary>
                  <pre className="code">{json(wf.inputSchema)}</pre>
                </details>
              )}
            </section>
          </div>
          <section className="card">
            <h2>
              Runs <span className="muted">({wf.runs.totalCount})</span>
            </h2>
            <RunsTable runs={wf.runs.nodes} showWorkflow={false} />
          </section>
          <section className="card">
            <button type="button" className="link" onClick={() => setShowDef((s) => !s)}>
              {showDef ? 'Hide' : 'Show'} definition (checksum <code>{wf.checksum.slice(0, 12)}</code>)
            </button>
            {showDef && <pre className="code">{json(wf.definition)}</pre>}
          </section>
        </>
      )}
    </div>
  );
}
