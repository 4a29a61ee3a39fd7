import { useEffect, useMemo } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router-dom';
import { Provider } from 'urql';
import { warmLayout } from '../features/dag/useLayout';
import { QueuesPage } from '../features/queues/QueuesPage';
import { RunPage } from '../features/runs/RunPage';
import { RunsPage } from '../features/runs/RunsPage';
import { WorkflowPage } from '../features/workflows/WorkflowPage';
import { WorkflowsPage } from '../features/workflows/WorkflowsPage';
import { createUrqlClient } from './client';
import { Layout } from './Layout';

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/workflows" replace /> },
      { path: 'workflows', element: <WorkflowsPage /> },
      { path: 'workflows/:name', element: <WorkflowPage /> },
      { path: 'runs', element: <RunsPage /> },
      { path: 'runs/:id', element: <RunPage /> },
      { path: 'queues', element: <QueuesPage /> },
      { path: '*', element: <p className="page">Nothing here. <a href="/">Back to workflows</a></p> },
    ],
  },
]);

export function App() {
  const client = useMemo(() => createUrqlClient(), []);
  useEffect(() => warmLayout(), []);
  return (
    <Provider value={client}>
      <RouterProvider router={router} />
    </Provider>
  );
}
