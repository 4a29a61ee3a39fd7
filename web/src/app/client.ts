import { cacheExchange, type Cache } from '@urql/exchange-graphcache';
import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { GRAPHQL_URL, sseClient } from './sse';

interface RunLike {
  __typename?: string;
  id: string;
  workflowName?: string;
}

/**
 * A run that changed but is not in a cached list (new, or its status moved it into a filter):
 * invalidate the first pages of run lists so the mounted queries refetch. Pages after the first
 * keep their cursor and only their entities update.
 */
function refreshListsFor(run: RunLike, cache: Cache): void {
  const runKey = cache.keyOfEntity({ __typename: 'Run', id: run.id });
  if (!runKey) return;
  const lists = [
    ...cache.inspectFields('Query').filter((f) => f.fieldName === 'runs').map((f) => ({ entity: 'Query', f })),
  ];
  for (const wf of cache.inspectFields('Query').filter((f) => f.fieldName === 'workflows')) {
    const keys = cache.resolve('Query', wf.fieldKey);
    if (!Array.isArray(keys)) continue;
    for (const key of keys) {
      if (typeof key !== 'string') continue;
      if (run.workflowName && cache.resolve(key, 'name') !== run.workflowName) continue;
      for (const f of cache.inspectFields(key).filter((x) => x.fieldName === 'runs')) lists.push({ entity: key, f });
    }
  }
  for (const { entity, f } of lists) {
    if (f.arguments?.after) continue;
    const conn = cache.resolve(entity, f.fieldKey);
    if (typeof conn !== 'string') continue;
    const nodes = cache.resolve(conn, 'nodes');
    const present = Array.isArray(nodes) && (nodes as unknown[]).includes(runKey);
    const statuses = f.arguments?.status;
    const status = runKey ? cache.resolve(runKey, 'status') : null;
    const matches = !Array.isArray(statuses) || (statuses as unknown[]).includes(status);
    if (present !== matches) cache.invalidate(entity, f.fieldName, f.arguments ?? undefined);
  }
}

let plain: Client | undefined;

/**
 * A client without the normalised cache, for big results read once: a run's 2,000 steps would
 * otherwise be written field by field into graphcache (and kept there) for nothing else to read.
 */
export function plainClient(): Client {
  plain ??= new Client({ url: GRAPHQL_URL, exchanges: [fetchExchange], requestPolicy: 'network-only' });
  return plain;
}

export function createUrqlClient(): Client {
  return new Client({
    url: GRAPHQL_URL,
    exchanges: [
      cacheExchange({
        keys: {
          // Types without a global id are embedded in their parent.
          RunConnection: () => null,
          RunEdge: () => null,
          PageInfo: () => null,
          ErrorInfo: () => null,
          StepAttempt: () => null,
          WorkflowStep: () => null,
          QueueStats: (q) => String(q.name),
          RunEvent: (e) => `${String(e.runId)}:${String(e.seq)}`,
          StepType: (t) => String(t.type),
        },
        updates: {
          Subscription: {
            runsChanged: (result, _args, cache) => {
              const run = result.runsChanged as RunLike | undefined;
              if (run) refreshListsFor(run, cache);
            },
          },
          Mutation: {
            startRun: (result, _args, cache) => {
              const run = result.startRun as RunLike | undefined;
              if (run) refreshListsFor(run, cache);
            },
            registerWorkflow: (_result, _args, cache) => {
              cache.invalidate('Query', 'workflows');
            },
          },
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = sseClient().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
