import { createClient, type Client } from 'graphql-sse';

/** The GraphQL endpoint, same origin: served by the API server, or proxied by Vite in dev. */
export const GRAPHQL_URL = '/graphql';

function absoluteUrl(): string {
  return new URL(GRAPHQL_URL, window.location.href).toString();
}

let shared: Client | undefined;

/** SSE client for urql's subscriptions (distinct connections: Yoga's default SSE mode). */
export function sseClient(): Client {
  shared ??= createClient({ url: absoluteUrl(), retryAttempts: 20 });
  return shared;
}

let manual: Client | undefined;

/**
 * A client that never retries by itself: the run event stream resubscribes on its own with
 * `afterSeq` = the last seq seen, so a replay never duplicates or skips an event.
 */
export function manualSseClient(): Client {
  manual ??= createClient({ url: absoluteUrl(), retryAttempts: 0 });
  return manual;
}
