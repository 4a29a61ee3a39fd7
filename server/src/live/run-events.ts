import type { RunEventMessage } from '../pubsub.js';
import type { RunFeeds } from './run-feed.js';

/** Loads stored events of a run with afterSeq < seq < beforeSeq, in order, at most `limit`. */
export type PageLoader = (runId: string, afterSeq: number, limit: number, beforeSeq: number) => Promise<RunEventMessage[]>;

/** Where a subscription delivers when it is not consumed as an iterator (the SSE fast path). */
export interface EventSink {
  /** A batch of consecutive events (the feed's own array when nothing was dropped from it). */
  write(events: readonly RunEventMessage[]): void;
  /** The subscription failed; nothing more will be written. */
  fail(err: unknown): void;
}

/** Stored events are replayed (and gaps filled) in pages of this size. */
const PAGE = 1_000;

/**
 * Every event of a run after `afterSeq`, exactly once and in order: join the run's shared feed
 * first, replay from Postgres up to where the feed stood, then take the feed, dropping what was
 * already sent (the feed itself fills gaps and catches up after a bus outage).
 *
 * Two ways to consume it: as an async iterator (graphql-ws, the generic GraphQL path), or by
 * handing it a sink (`pipe`), which then receives the feed's batches synchronously as they arrive:
 * no promise, no queue and no allocation per subscriber per event on the hot path.
 */
export class RunEventSubscription implements AsyncIterableIterator<RunEventMessage> {
  private last: number;
  /** Batches waiting to be delivered (while replaying, filling a gap, or before a consumer exists). */
  private inbox: (readonly RunEventMessage[])[] = [];
  /** Delivered but not yet taken by `next()`. */
  private queue: RunEventMessage[] = [];
  private head = 0;
  private busy = true;
  private sink: EventSink | null = null;
  private waiter: (() => void) | null = null;
  private failure: { err: unknown } | null = null;
  private detach: (() => void) | null = null;
  closed = false;

  private constructor(readonly runId: string, afterSeq: number, private readonly load: PageLoader) {
    this.last = afterSeq;
  }

  /** Join the run's feed and start replaying what is stored. */
  static async open(feeds: RunFeeds, load: PageLoader, runId: string, afterSeq: number): Promise<RunEventSubscription> {
    const sub = new RunEventSubscription(runId, afterSeq, load);
    const { position, detach } = await feeds.attach(runId, (events) => sub.onLive(events));
    sub.detach = detach;
    void sub.replay(position).then(
      () => sub.pump(),
      (err: unknown) => sub.fail(err),
    );
    return sub;
  }

  /** Deliver from now on to `sink` (what was queued for an iterator first). */
  pipe(sink: EventSink): void {
    if (this.closed) return;
    const queued = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.sink = sink;
    if (queued.length) sink.write(queued);
    if (this.failure) {
      const { err } = this.failure;
      this.close();
      sink.fail(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink = null;
    this.inbox = [];
    this.queue = [];
    this.detach?.();
    this.detach = null;
    this.wake();
  }

  async next(): Promise<IteratorResult<RunEventMessage>> {
    for (;;) {
      if (this.head < this.queue.length) {
        const value = this.queue[this.head++];
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        }
        return { done: false, value };
      }
      if (this.failure) {
        const { err } = this.failure;
        this.close();
        throw err;
      }
      if (this.closed) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async return(): Promise<IteratorResult<RunEventMessage>> {
    this.close();
    return { done: true, value: undefined };
  }

  async throw(err?: unknown): Promise<IteratorResult<RunEventMessage>> {
    this.close();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private onLive(events: readonly RunEventMessage[]): void {
    if (this.closed) return;
    this.inbox.push(events);
    if (!this.busy) this.pump();
  }

  /** Stored events after `last` up to and including `position`. */
  private async replay(position: number): Promise<void> {
    while (this.last < position && !this.closed) {
      const page = await this.load(this.runId, this.last, PAGE, position + 1);
      if (!page.length) return;
      this.last = page[page.length - 1].seq;
      this.deliver(page);
      if (page.length < PAGE) return;
    }
  }

  /** Deliver the inbox in order; goes asynchronous only to fill a gap. */
  private pump(): void {
    this.busy = true;
    while (this.inbox.length && !this.closed) {
      const batch = this.inbox.shift()!;
      let out: RunEventMessage[] | null = null;
      let whole = true;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        if (e.seq <= this.last) {
          whole = false;
          continue;
        }
        if (e.seq > this.last + 1) {
          // Cannot happen while the feed is gapless; kept so a bug shows as a refetch, not a hole.
          if (out) this.deliver(out);
          this.inbox.unshift(batch.slice(i));
          void this.fillGap(e.seq).then(
            () => this.pump(),
            (err: unknown) => this.fail(err),
          );
          return;
        }
        this.last = e.seq;
        (out ??= []).push(e);
      }
      if (out) this.deliver(whole ? batch : out);
    }
    this.busy = false;
  }

  private async fillGap(beforeSeq: number): Promise<void> {
    while (this.last + 1 < beforeSeq && !this.closed) {
      const page = await this.load(this.runId, this.last, PAGE, beforeSeq);
      if (!page.length) break;
      this.last = page[page.length - 1].seq;
      this.deliver(page);
      if (page.length < PAGE) break;
    }
    // Postgres does not have them either (it always should): go on rather than refetch forever.
    if (this.last + 1 < beforeSeq) this.last = beforeSeq - 1;
  }

  private deliver(events: readonly RunEventMessage[]): void {
    if (this.closed) return;
    if (this.sink) {
      this.sink.write(events);
      return;
    }
    for (const e of events) this.queue.push(e);
    this.wake();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.failure = { err };
    if (this.sink) {
      const sink = this.sink;
      this.close();
      sink.fail(err);
      return;
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
