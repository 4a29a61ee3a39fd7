import { useSearchParams } from 'react-router-dom';
import { useQuery } from 'urql';
import { ErrorBox } from '../../app/errors';
import { statusMeta } from '../../app/status';
import { graphql } from '../../graphql';
import type { RunStatus } from '../../graphql/graphql';
import { RunsTable } from './RunsTable';

const RunsQuery = graphql(`
  query Runs($status: [RunStatus!], $first: Int!, $after: String) {
    runs(status: $status, first: $first, after: $after) {
      totalCount
      nodes {
        ...RunRow
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`);

const STATUSES: RunStatus[] = ['QUEUED', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE = 25;

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const selected = (params.get('status')?.split(',').filter(Boolean) ?? []) as RunStatus[];
  // The cursor stack: each entry is the `after` of a page already seen, so "Newer" can go back.
  const cursors = params.get('cursors')?.split(',').filter(Boolean) ?? [];
  const after = cursors.at(-1);
  const [{ data, error, fetching }] = useQuery({
    query: RunsQuery,
    variables: { status: selected.length ? selected : null, first: PAGE, after: after ?? null },
  });

  const update = (next: { status?: RunStatus[]; cursors?: string[] }) => {
    const p = new URLSearchParams(params);
    const status = next.status ?? selected;
    if (status.length) p.set('status', status.join(','));
    else p.delete('status');
    const c = next.cursors ?? cursors;
    if (c.length) p.set('cursors', c.join(','));
    else p.delete('cursors');
    setParams(p);
  };
  const toggle = (s: RunStatus) =>
    update({ status: selected.includes(s) ? selected.filter((x) => x !== s) : [...selected, s], cursors: [] });

  const runs = data?.runs;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Runs</h1>
        {runs && <span className="muted">{runs.totalCount} total</span>}
      </header>
      <div className="filters" role="group" aria-label="Filter by status">
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            className={`chip tone-${statusMeta(s).tone}${selected.includes(s) ? ' on' : ''}`}
            aria-pressed={selected.includes(s)}
            onClick={() => toggle(s)}
          >
            {statusMeta(s).icon} {s}
          </button>
        ))}
        {selected.length > 0 && (
          <button type="button" className="link" onClick={() => update({ status: [], cursors: [] })}>
            clear
          </button>
        )}
      </div>
      <ErrorBox error={error} title="Could not load runs:" />
      {runs ? <RunsTable runs={runs.nodes} /> : fetching && <p className="muted">Loading…</p>}
      <div className="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => update({ cursors: cursors.slice(0, -1) })}>
          ← Newer
        </button>
        <span className="muted">page {cursors.length + 1}</span>
        <button
          type="button"
          disabled={!runs?.pageInfo.hasNextPage || !runs.pageInfo.endCursor}
          onClick={() => runs?.pageInfo.endCursor && update({ cursors: [...cursors, runs.pageInfo.endCursor] })}
        >
          Older →
        </button>
      </div>
    </div>
  );
}
