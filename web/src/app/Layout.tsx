import { NavLink, Outlet } from 'react-router-dom';
import { useSubscription } from 'urql';
import { graphql } from '../graphql';
import { ErrorBox } from './errors';

/**
 * Every run list and run header on screen stays live through this one subscription: graphcache
 * writes each changed Run into the normalized cache, and client.ts refetches lists it is new to.
 */
const RunsChangedSubscription = graphql(`
  subscription RunsChanged {
    runsChanged {
      ...RunRow
      allowedActions
    }
  }
`);

export function Layout() {
  const [live] = useSubscription({ query: RunsChangedSubscription });
  return (
    <div className="shell">
      <nav className="nav" aria-label="Main">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ⌘
          </span>
          Skein
        </div>
        <NavLink to="/workflows">Workflows</NavLink>
        <NavLink to="/runs">Runs</NavLink>
        <NavLink to="/queues">Queues &amp; Workers</NavLink>
        <a href="/graphql" target="_blank" rel="noreferrer">
          GraphiQL ↗
        </a>
        <div className="nav-foot">
          <span className={`dot ${live.error ? 'dot-bad' : 'dot-ok'}`} aria-hidden />
          {live.error ? 'live updates lost' : 'live'}
        </div>
      </nav>
      <main className="main">
        {live.error && <ErrorBox error={live.error} title="Live updates stopped:" />}
        <Outlet />
      </main>
    </div>
  );
}
