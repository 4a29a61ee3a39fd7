import { useEffect } from 'react';
import { useQuery } from 'urql';
import { ErrorBox } from '../../app/errors';
import { formatTime } from '../../app/format';
import { graphql } from '../../graphql';

const QueuesQuery = graphql(`
  query QueuesAndWorkers {
    queues {
      name
      queued
      active
      deferred
      completed
      failed
      cancelled
      liveWorkers
      oldestQueuedAt
      warning
    }
    workers {
      id
      hostname
      pid
      alive
      concurrency
      running
      stepTypes
      startedAt
      heartbeatAt
    }
  }
`);

/** Queues and workers have no subscription: poll every few seconds. */
const REFRESH_MS = 3000;

export function QueuesPage() {
  const [{ data, error, fetching }, refetch] = useQuery({ query: QueuesQuery, requestPolicy: 'cache-and-network' });
  useEffect(() => {
    const t = setInterval(() => refetch({ requestPolicy: 'network-only' }), REFRESH_MS);
    return () => clearInterval(t);
  }, [refetch]);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Queues &amp; Workers</h1>
        <span className="muted small">refreshed every {REFRESH_MS / 1000} s{fetching ? ' · refreshing…' : ''}</span>
      </header>
      <ErrorBox error={error} title="Could not load queues and workers:" />
      <section className="card">
        <h2>Queues</h2>
        <table className="table" data-testid="queues-table">
          <thead>
            <tr>
              <th>Queue</th>
              <th className="num">Queued</th>
              <th className="num">Active</th>
              <th className="num">Deferred</th>
              <th className="num">Completed</th>
              <th className="num">Failed</th>
              <th className="num">Cancelled</th>
              <th className="num">Live workers</th>
              <th>Oldest queued</th>
            </tr>
          </thead>
          <tbody>
            {data?.queues.map((q) => (
              <tr key={q.name}>
                <td>
                  <span className="mono">{q.name}</span>
                  {q.warning && <div className="warn">⚠ {q.warning}</div>}
                </td>
                <td className="num">{q.queued}</td>
                <td className="num">{q.active}</td>
                <td className="num">{q.deferred}</td>
                <td className="num">{q.completed}</td>
                <td className="num">{q.failed}</td>
                <td className="num">{q.cancelled}</td>
                <td className={`num ${q.liveWorkers === 0 ? 'bad' : ''}`}>{q.liveWorkers}</td>
                <td className="muted">{formatTime(q.oldestQueuedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Workers</h2>
        {data && data.workers.length === 0 && <p className="warn">⚠ No live worker: queued steps will wait until one starts.</p>}
        <table className="table" data-testid="workers-table">
          <thead>
            <tr>
              <th>Worker</th>
              <th>State</th>
              <th className="num">Running</th>
              <th className="num">Concurrency</th>
              <th>Step types</th>
              <th>Started</th>
              <th>Heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {data?.workers.map((w) => (
              <tr key={w.id}>
                <td>
                  <span className="mono">{w.hostname}</span> <span className="muted">pid {w.pid}</span>
                </td>
                <td>
                  <span className={`badge ${w.alive ? 'tone-ok' : 'tone-bad'}`}>{w.alive ? '● alive' : '✕ lost'}</span>
                </td>
                <td className="num">{w.running}</td>
                <td className="num">{w.concurrency}</td>
                <td className="small muted">{w.stepTypes.join(', ')}</td>
                <td className="muted">{formatTime(w.startedAt)}</td>
                <td className="muted">{formatTime(w.heartbeatAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
