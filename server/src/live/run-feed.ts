import type { Bus, RunEventMessage } from '../pubsub.js';
import { runTopic } from '../pubsub.js';
import type { Logger } from '../logger.js';

/** Loads stored events of a run with afterSeq < seq (< beforeSeq), in order, at most `limit`. */
export type EventLoader = (runId: string, afterSeq: number, limit: number, beforeSeq?: number) => Promise<RunEventMessage[]>;
export type FeedListener = (events: RunEventMessage[]) => void;

/** With no event on the bus for this long, look in Postgres anyway (a Redis outage loses messages). */
export const CATCH_UP_MS = 3_000;
const PAGE = 1_000;

/**
 * One ordered, gapless stream of a run's events per process, shared by every subscriber of that
 * run: one bus subscription, gap filling and idle catch-up done once, however many subscribers.
 */
class RunFeed {
  private readonly listeners = new Set<FeedListener>();
  private last = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private pending: RunEventMessage[] = [];
  private flushing = false;
  closed = false;

  constructor(readonly runId: string, private readonly load: EventLoader, private readonly logger: Logger) {}

  /** Subscribe to the bus, then learn the current end of the stream from Postgres. */
  async open(bus: Bus, lastSeq: number): Promise<void> {
    this.last = lastSeq;
    try {
      this.unsubscribe = await bus.subscribe(runTopic(this.runId), ({ events }) => this.enqueue(() => this.ingest(events)));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, runId: this.runId }, 'bus unavailable; run feed catches up from Postgres');
    }
    this.arm();
  }

  /** The seq up to which this feed has delivered (every later event reaches listeners). */
  get position(): number {
    return this.last;
  }

  add(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  /** Returns true when this was the last listener. */
  remove(listener: FeedListener): boolean {
    this.listeners.delete(listener);
    return this.listeners.size === 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => this.logger.warn({ err: (err as Error).message, runId: this.runId }, 'run feed update failed'));
  }

  private arm(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.enqueue(() => this.catchUp()), CATCH_UP_MS);
    this.timer.unref();
  }

  private async ingest(events: RunEventMessage[]): Promise<void> {
    this.arm();
    const sorted = [...events].sort((a, b) => a.seq - b.seq);
    for (const e of sorted) {
      if (e.seq <= this.last) continue;
      if (e.seq > this.last + 1) await this.catchUp(e.seq);
      if (e.seq <= this.last) continue;
      this.emit([e]);
    }
  }

  /** Deliver what Postgres has after `last` (before `beforeSeq`). */
  private async catchUp(beforeSeq?: number): Promise<void> {
    this.arm();
    for (;;) {
      const page = await this.load(this.runId, this.last, PAGE, beforeSeq);
      if (page.length) this.emit(page);
      if (page.length < PAGE) return;
    }
  }

  /**
   * Events are handed to listeners once per turn of the event loop, together: under load several
   * bus messages arrive in one turn, and each listener (an SSE stream: a socket write) then takes
   * them in one call instead of one per message. `last` moves at once, so a listener that joins in
   * between replays them from Postgres and drops the duplicates by seq.
   */
  private emit(events: RunEventMessage[]): void {
    this.last = events[events.length - 1].seq;
    for (const e of events) this.pending.push(e);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushing = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) for (const l of this.listeners) l(batch);
  };
}

export class RunFeeds {
  private readonly feeds = new Map<string, Promise<RunFeed>>();

  constructor(private readonly bus: Bus, private readonly load: EventLoader, private readonly lastSeqOf: (runId: string) => Promise<number>, private readonly logger: Logger) {}

  /** Listen to a run's feed. Returns where the feed stood when the listener joined, and a detach. */
  async attach(runId: string, listener: FeedListener): Promise<{ position: number; detach: () => void }> {
    let pending = this.feeds.get(runId);
    if (!pending) {
      pending = (async () => {
        const feed = new RunFeed(runId, this.load, this.logger);
        await feed.open(this.bus, await this.lastSeqOf(runId));
        return feed;
      })();
      this.feeds.set(runId, pending);
      pending.catch(() => this.feeds.delete(runId));
    }
    const feed = await pending;
    // Closed by its last listener leaving while we waited: open a fresh one.
    if (feed.closed) return this.attach(runId, listener);
    feed.add(listener);
    return {
      position: feed.position,
      detach: () => {
        if (feed.remove(listener) && this.feeds.get(runId) === pending) {
          this.feeds.delete(runId);
          feed.close();
        }
      },
    };
  }

  get size(): number {
    return this.feeds.size;
  }
}
