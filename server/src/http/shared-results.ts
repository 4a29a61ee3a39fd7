import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  createSourceEventStream, execute, getOperationAST, GraphQLError, print, type DocumentNode, type ExecutionArgs, type ExecutionResult,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { RunEventSubscription, type EventSink } from '../live/run-events.js';
import type { RunEventMessage } from '../pubsub.js';

/** Yoga's SSE response headers (graphql-yoga/src/plugins/result-processor/sse.ts). */
const SSE_HEADERS = { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' };
const PING = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const PING_MS = 12_000;

export type MaskError = (error: unknown, message: string) => Error;

/** Node's ServerResponse internals the direct path relies on (stable since Node 12, checked before use). */
interface RawResponse {
  socket: (Socket & { _httpMessage?: unknown }) | null;
  chunkedEncoding?: boolean;
  outputData?: unknown[];
  /** The header bytes went to the socket (`headersSent` is true as soon as they are built). */
  _headerSent?: boolean;
}

/** `data` as one HTTP/1.1 chunk (size line, bytes, CRLF): what `res.write(data)` puts on the wire. */
const chunkCache = new WeakMap<Buffer, Buffer>();
function asChunk(data: Buffer): Buffer {
  let chunk = chunkCache.get(data);
  if (!chunk) {
    const head = `${data.length.toString(16)}\r\n`;
    chunk = Buffer.allocUnsafe(head.length + data.length + 2);
    chunk.write(head, 0, 'latin1');
    data.copy(chunk, head.length);
    chunk.write('\r\n', head.length + data.length, 'latin1');
    chunkCache.set(data, chunk);
  }
  return chunk;
}

/**
 * The body of a fast-path SSE response. Until the server adapter pipes it into the HTTP response
 * it buffers like any Readable; once piped, frames go out with one socket write per batch.
 *
 * Once the response's headers are on the socket and nothing of it waits in the response's own
 * buffer, a frame is written to the socket directly, already framed as an HTTP chunk, and that
 * chunk is built once per batch and shared by every subscriber (`asChunk`): no per-subscriber
 * chunk header, cork, nextTick and writev of three pieces as `res.write` does, and the write is a
 * syscall at once, so the first subscribers have their bytes while the fan-out goes on. The
 * response still ends through `res.end()` (the last chunk), after everything written here.
 * Closing the response destroys this stream (the adapter does that).
 */
class SseStream extends Readable {
  private out: NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean; writableLength?: number } | null = null;
  /** The socket frames go to directly, and whether they are chunk-framed there. */
  private socket: Socket | null = null;
  private chunked = false;

  constructor() {
    super({ read() {} });
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    let chunk: Buffer | null;
    while ((chunk = this.read() as Buffer | null) !== null) destination.write(chunk);
    this.out = destination;
    if (destination instanceof ServerResponse) {
      const res = destination as unknown as RawResponse;
      const socket = res.socket;
      // Direct only when `res.write` would itself write straight to this socket: headers sent,
      // the socket is this response's, and nothing is queued in the response.
      if (socket && res._headerSent === true && socket._httpMessage === destination && Array.isArray(res.outputData) && res.outputData.length === 0 && typeof res.chunkedEncoding === 'boolean') {
        this.socket = socket;
        this.chunked = res.chunkedEncoding;
      }
    }
    return destination;
  }

  send(frame: Buffer): void {
    if (this.destroyed) return;
    const out = this.out;
    if (!out) this.push(frame);
    else if (out.destroyed || out.writableEnded) return;
    else if (this.socket) {
      if (!this.socket.destroyed) this.socket.write(this.chunked ? asChunk(frame) : frame);
    } else out.write(frame);
  }

  /** Nothing waiting to be written: worth a keep-alive comment. */
  get idle(): boolean {
    if (this.socket) return !this.socket.writableLength;
    return this.out ? !this.out.writableLength : this.readableLength === 0;
  }

  finish(): void {
    if (this.destroyed) return;
    if (this.out) this.out.end();
    else this.push(null);
  }
}

/** One timer pings every open fast-path stream (Yoga runs one interval per subscriber). */
class Pinger {
  private readonly streams = new Set<SseStream>();
  private timer: NodeJS.Timeout | null = null;

  add(stream: SseStream): void {
    this.streams.add(stream);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const s of this.streams) if (s.idle) s.send(PING);
      }, PING_MS);
      this.timer.unref();
    }
  }

  delete(stream: SseStream): void {
    this.streams.delete(stream);
    if (!this.streams.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

interface FastPath {
  source: RunEventSubscription;
  render: (events: readonly RunEventMessage[]) => Buffer | Promise<Buffer>;
}

/**
 * `runEvents` fan-out: execute a live event once per operation shape, serialise it once, and
 * write the same bytes to every subscriber.
 *
 * A run's live events reach all subscribers of that run as the same objects (one shared feed per
 * process), so the result of executing operation X on event E is memoised on E (WeakMaps). Only
 * `runEvents` is shared: its fields depend on the event alone, never on who asks (context).
 *
 * Over SSE the per-subscriber pipeline is skipped as well: the subscription's batches go straight
 * from the feed to the response stream, as ready-made `event: next` frames (one write per batch),
 * in exactly Yoga's wire format, so graphql-sse clients and `curl -N` see no difference. The
 * generic path (graphql-ws, and anything that is not SSE) iterates the same subscription.
 */
export function shareSubscriptionResults(opts: { maskError: MaskError }): Plugin {
  const results = new WeakMap<object, Map<string, ExecutionResult>>();
  const frames = new WeakMap<object, Map<string, Buffer>>();
  const batches = new WeakMap<object, Map<string, Buffer>>();
  const printed = new WeakMap<DocumentNode, string>();
  const fast = new WeakMap<object, FastPath>();
  const pinger = new Pinger();

  const keyOf = (args: ExecutionArgs): string => {
    let text = printed.get(args.document);
    if (text === undefined) printed.set(args.document, (text = print(args.document)));
    const { afterSeq: _ignored, ...vars } = (args.variableValues ?? {}) as Record<string, unknown>;
    return `${text}\n${JSON.stringify(vars)}\n${args.operationName ?? ''}`;
  };

  const serialise = (result: ExecutionResult): string => {
    if (!result.errors?.length) return JSON.stringify(result);
    return JSON.stringify({ ...result, errors: result.errors.map((e) => opts.maskError(e, 'Unexpected error.')) });
  };

  const frameOf = (a: ExecutionArgs, key: string, event: RunEventMessage): Buffer | Promise<Buffer> => {
    let byKey = frames.get(event);
    if (!byKey) frames.set(event, (byKey = new Map()));
    const cached = byKey.get(key);
    if (cached) return cached;
    const result = execute({ ...a, rootValue: event });
    const make = (r: ExecutionResult) => {
      const frame = Buffer.from(`event: next\ndata: ${serialise(r)}\n\n`);
      byKey.set(key, frame);
      return frame;
    };
    return result instanceof Promise ? result.then(make) : make(result);
  };

  const renderer = (a: ExecutionArgs, key: string) => (events: readonly RunEventMessage[]): Buffer | Promise<Buffer> => {
    if (events.length === 1) return frameOf(a, key, events[0]);
    let byKey = batches.get(events);
    const cached = byKey?.get(key);
    if (cached) return cached;
    const parts = events.map((e) => frameOf(a, key, e));
    const join = (bufs: Buffer[]) => {
      const all = Buffer.concat(bufs);
      if (!byKey) batches.set(events, (byKey = new Map()));
      byKey.set(key, all);
      return all;
    };
    return parts.some((p) => p instanceof Promise) ? Promise.all(parts).then(join) : join(parts as Buffer[]);
  };

  /** The SSE response of a fast-path subscription; `outer` is Yoga's iterable, returned on close. */
  const respond = (path: FastPath, outer: AsyncIterable<unknown>, R: typeof Response, signal: AbortSignal | undefined): Response => {
    const stream = new SseStream();
    stream.send(PING);
    let tail: Promise<void> | null = null;
    const push = (buf: Buffer) => stream.send(buf);
    const end = () => {
      stream.send(COMPLETE);
      stream.finish();
    };
    const sink: EventSink = {
      write(events) {
        const out = path.render(events);
        if (!tail && !(out instanceof Promise)) return push(out);
        const t: Promise<void> = (tail ?? Promise.resolve())
          .then(() => out)
          .then(push, (err: unknown) => sink.fail(err))
          .finally(() => {
            if (tail === t) tail = null;
          });
        tail = t;
      },
      fail(err) {
        const error = err instanceof GraphQLError ? err : opts.maskError(err, 'Unexpected error.');
        push(Buffer.from(`event: next\ndata: ${serialise({ errors: [error as GraphQLError] })}\n\n`));
        end();
      },
    };
    stream.once('close', () => {
      pinger.delete(stream);
      path.source.close();
      void outer[Symbol.asyncIterator]().return?.();
    });
    // The adapter destroys the stream when the response closes, but never sees a response that
    // closed before it was handed over.
    if (signal?.aborted) stream.destroy();
    else signal?.addEventListener('abort', () => stream.destroy(), { once: true });
    pinger.add(stream);
    path.source.pipe(sink);
    return new R(stream as unknown as BodyInit, { status: 200, headers: SSE_HEADERS });
  };

  return {
    onSubscribe({ args, setSubscribeFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      const fields = operation?.selectionSet.selections ?? [];
      if (fields.length !== 1 || fields[0].kind !== 'Field' || fields[0].name.value !== 'runEvents') return;
      const key = keyOf(args);
      setSubscribeFn(async (a: ExecutionArgs) => {
        const stream = await createSourceEventStream(a);
        if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
        const source = stream as AsyncGenerator<unknown>;
        const request = (a.contextValue as { request?: Request } | undefined)?.request;
        if (request && source instanceof RunEventSubscription) {
          fast.set(request, { source, render: renderer(a, key) });
          // It holds a place in the run's feed from now on: give it up when the client goes,
          // even if that happens before any response stream exists to notice.
          const signal = request.signal;
          if (signal?.aborted) source.close();
          else signal?.addEventListener('abort', () => source.close(), { once: true });
        }
        const mapped: AsyncGenerator<ExecutionResult> = {
          async next() {
            const item = await source.next();
            if (item.done) return { done: true, value: undefined };
            const payload = item.value;
            if (typeof payload !== 'object' || payload === null) return { done: false, value: await execute({ ...a, rootValue: payload }) };
            let byKey = results.get(payload);
            if (!byKey) results.set(payload, (byKey = new Map()));
            let result = byKey.get(key);
            if (!result) {
              result = await execute({ ...a, rootValue: payload });
              byKey.set(key, result);
            }
            return { done: false, value: result };
          },
          return: (value?: unknown) => source.return(value) as Promise<IteratorResult<ExecutionResult>>,
          throw: (err?: unknown) => source.throw(err) as Promise<IteratorResult<ExecutionResult>>,
          [Symbol.asyncIterator]() {
            return this;
          },
        } as AsyncGenerator<ExecutionResult>;
        return mapped;
      });
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      const path = fast.get(request);
      if (!path) return;
      fast.delete(request);
      // A subscription's stream only ever gets Yoga's SSE processor; without one, Yoga answers 406.
      if (!resultProcessor || !isAsyncIterable(result)) return;
      setResultProcessor((_result, fetchAPI) => respond(path, result, fetchAPI.Response, request.signal), 'text/event-stream');
    },
  };
}
