import { useGraphQlJit } from '@envelop/graphql-jit';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type GraphQLScalarType } from 'graphql';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Context } from '../schema/builder.js';
import { schema } from '../schema/index.js';
import type { Logger } from '../logger.js';
import { dateTimeSerialiser } from './date-time.js';
import { runEventsFastPath } from './events-fast-path.js';
import { shareSubscriptionResults } from './shared-results.js';

export interface YogaDeps extends Omit<Context, 'actor'> {
  logger: Logger;
  maxBodyBytes: number;
  webDist?: string;
  role: string;
  /** Off only in tests that compare the run.events fast path with normal execution. */
  runEventsFastPath?: boolean;
}

type ServerCtx = Record<string, unknown>;

/** `close`: the rest of the body is left unread, so the connection cannot carry another request. */
const tooLarge = (message: string, close = false) =>
  new GraphQLError(message, { extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413, ...(close ? { headers: { connection: 'close' } } : {}) } } });

/**
 * Refuse oversized bodies as a GraphQL error with a stable code (413, PAYLOAD_TOO_LARGE), in place
 * of Yoga's `maxRequestBodySize` (turned off below), which pipes every body through a counting
 * TransformStream: ~0.3–0.45 ms, two streams, a pipeline and an AbortError per request.
 *
 * With a Content-Length the check is the header alone: Node's HTTP parser hands the request exactly
 * that many bytes. Without one (a chunked body) the bytes are counted as they are read, and the
 * parse fails once they pass the limit.
 */
function bodyLimit(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const header = request.headers.get('content-length');
      if (header !== null) {
        // One non-negative integer, as Yoga's check requires (anything else is a smuggling attempt).
        if (!/^\d+$/.test(header)) {
          throw new GraphQLError('Content-Length header is invalid.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
        const length = Number(header);
        if (length > maxBytes) throw tooLarge(`request body is ${length} bytes; the limit is ${maxBytes}`);
        return;
      }
      const parser = requestParser;
      if (!parser || !request.body) return;
      setRequestParser(async (req) => parser(await bufferedRequest(req, maxBytes, fetchAPI.Request)));
    },
  };
}

/**
 * The same request with its body read up front (every parser reads the whole body anyway), refused
 * once more than `maxBytes` have come; the rest is left unread, and the answer closes the connection.
 */
async function bufferedRequest(request: Request, maxBytes: number, R: typeof Request): Promise<Request> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (read > maxBytes) throw tooLarge(`request body is over the limit of ${maxBytes} bytes`, true);
    chunks.push(value);
  }
  return new R(request.url, { method: request.method, headers: request.headers, signal: request.signal, body: Buffer.concat(chunks) });
}

// DateTime written as the ISO string JSON.stringify would write, without a Date in the result.
const serialiseDateTime = dateTimeSerialiser(schema.getType('DateTime') as GraphQLScalarType);

/** The API as a value: GraphQL (+ GraphiQL) at /graphql, /health, /metrics and the SPA. No listening here. */
export function buildYoga(deps: YogaDeps): YogaServerInstance<ServerCtx, Context> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'skein_' });
  const runsGauge = new Gauge({
    name: 'skein_runs',
    help: 'Runs by status',
    labelNames: ['status'],
    registers: [registry],
    collect: async () => {
      const rows = (await deps.db.sequelize.query(`SELECT status, count(*)::int AS n FROM runs GROUP BY status`, { type: 'SELECT' as never })) as unknown as { status: string; n: number }[];
      runsGauge.reset();
      for (const r of rows) runsGauge.set({ status: r.status }, r.n);
    },
  });
  const eventsPaths = new Counter({
    name: 'skein_run_events_queries_total',
    help: 'run(id) { events } queries by the path that answered: fast (JSON written by Postgres) or normal (a fallback)',
    labelNames: ['path'],
    registers: [registry],
  });
  const eventsFastPath = runEventsFastPath({
    onError: (err) => deps.logger.warn({ err }, 'run.events fast path failed; executing normally'),
    onOutcome: (p) => eventsPaths.inc({ path: p }),
  });
  const webDist = deps.webDist && existsSync(path.join(deps.webDist, 'index.html')) ? path.resolve(deps.webDist) : null;

  const routes: Plugin = {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === '/health') {
        let db = true;
        try {
          await deps.db.sequelize.query('SELECT 1');
        } catch {
          db = false;
        }
        endResponse(Response.json({ ok: db, role: deps.role, db, bus: deps.bus.kind }, { status: db ? 200 : 503 }));
        return;
      }
      if (url.pathname === '/metrics') {
        endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
        return;
      }
      if (url.pathname.startsWith('/graphql') || request.method !== 'GET') return;
      if (!webDist) {
        endResponse(
          new fetchAPI.Response(
            '<!doctype html><title>Skein</title><p>The web app is not built (<code>npm run build</code>). GraphiQL is at <a href="/graphql">/graphql</a>.</p>',
            { headers: { 'content-type': 'text/html; charset=utf-8' } },
          ),
        );
        return;
      }
      endResponse(serveStatic(webDist, url.pathname, fetchAPI.Response));
    },
  };

  const maskError = (error: unknown, message: string): Error => {
    const original = (error as GraphQLError).originalError;
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return error;
    deps.logger.error({ err: original ?? error }, 'unexpected error (masked)');
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };

  return createYoga<ServerCtx, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Yoga's own liveness check would answer /health before our routes; ours checks the database.
    healthCheckEndpoint: '/graphql/live',
    graphiql: { title: 'Skein GraphiQL', subscriptionsProtocol: 'SSE' },
    // GraphiQL with its assets inlined: it works on machines without internet access.
    renderGraphiQL,
    landingPage: false,
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(' ')),
      info: (...args) => deps.logger.info(args.map(String).join(' ')),
      warn: (...args) => deps.logger.warn(args.map(String).join(' ')),
      error: (...args) => deps.logger.error({ err: args.find((a) => a instanceof Error) }, args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')),
    },
    maskedErrors: { maskError },
    // bodyLimit below does this without wrapping every body in a stream.
    maxRequestBodySize: false,
    plugins: [
      bodyLimit(deps.maxBodyBytes),
      routes,
      // Queries compiled to JavaScript once per document (graphql-jit): 10,000 events × 11 fields in
      // a few ms instead of ~100. Before the runEvents plugin, which keeps its own subscribe.
      useGraphQlJit({ customSerializers: { DateTime: serialiseDateTime } }, { onError: (r) => deps.logger.warn({ errors: r.errors }, 'graphql-jit could not compile; executing without it') }),
      shareSubscriptionResults({ maskError }),
      // After graphql-jit, whose executor it falls back to.
      ...(deps.runEventsFastPath === false ? [] : [eventsFastPath]),
    ],
    context: () => ({ engine: deps.engine, db: deps.db, bus: deps.bus, feeds: deps.feeds, actor: 'anonymous' }),
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files from the built SPA; any other path falls back to index.html (client-side routes). */
function serveStatic(root: string, pathname: string, R: typeof Response): Response {
  const rel = path.normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, '');
  let file = path.join(root, rel);
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) file = path.join(root, 'index.html');
  const ext = path.extname(file);
  const immutable = rel.startsWith('/assets/');
  return new R(readFileSync(file), {
    headers: {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    },
  });
}
