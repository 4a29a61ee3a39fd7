import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

/** A stored run event as it travels on the bus (dates as ISO strings). */
export interface RunEventMessage {
  runId: string;
  seq: number;
  type: string;
  stepId: string | null;
  status: string | null;
  progress: number | null;
  attempt: number | null;
  message: string | null;
  actor: string | null;
  data: unknown;
  at: string;
}

/** Typed topics. Every payload is JSON. */
export interface Topics {
  /** Events of one run, in seq order, published after their transaction commits. */
  [topic: `run:${string}`]: { events: RunEventMessage[] };
  /** A run's status or progress changed (feeds lists). */
  runs: { runId: string; status: string };
  /** Jobs were enqueued: idle workers should fetch now instead of waiting out their poll. */
  wake: { at: number };
  /** Abort these running step attempts wherever they are held. */
  abort: { stepRunIds: string[]; reason: string };
}

export type TopicName = keyof Topics & string;
export type Payload<T extends TopicName> = T extends `run:${string}` ? Topics[`run:${string}`] : Topics[T];

/** The event bus between processes: Redis pub/sub in deployments, in-process for one-process use. */
export interface Bus {
  readonly kind: 'redis' | 'local';
  publish<T extends TopicName>(topic: T, payload: Payload<T>): Promise<void>;
  /** Resolves once the subscription is active. Returns the unsubscribe function. */
  subscribe<T extends TopicName>(topic: T, handler: (payload: Payload<T>) => void): Promise<() => void>;
  close(): Promise<void>;
}

export function runTopic(runId: string): `run:${string}` {
  return `run:${runId}`;
}

/** Redis pub/sub through graphql-redis-subscriptions. Publishing never throws: errors are logged. */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  readonly pubsub: RedisPubSub;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(url: string, private readonly logger: Logger, private readonly prefix = 'skein:') {
    const options = {
      lazyConnect: false,
      maxRetriesPerRequest: 3,
      enableOfflineQueue: true,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    // Commands issued in one event-loop tick (a turn publishes a run's events, its status, a
    // wake-up) go out in one socket write, in order.
    this.publisher = new Redis(url, { ...options, enableAutoPipelining: true });
    // The ready check sends INFO, which a connection already in subscriber mode may not send
    // (it fails the connection: ioredis#2037); the subscriber needs no ready check.
    this.subscriber = new Redis(url, { ...options, enableReadyCheck: false });
    for (const [name, conn] of [['publisher', this.publisher], ['subscriber', this.subscriber]] as const) {
      let down = false;
      conn.on('error', (err: Error) => {
        if (!down) logger.warn({ err: err.message, conn: name }, 'redis unavailable; engine continues, events are caught up from Postgres');
        down = true;
      });
      conn.on('ready', () => {
        if (down) logger.info({ conn: name }, 'redis back');
        down = false;
      });
    }
    // graphql-redis-subscriptions does not handle the promise of these calls; on a closed or
    // broken connection they would reject unhandled. Unsubscribing then is moot anyway.
    for (const method of ['unsubscribe', 'punsubscribe'] as const) {
      const original = this.subscriber[method].bind(this.subscriber) as (...args: unknown[]) => Promise<unknown>;
      (this.subscriber as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const result = original(...args);
        result.catch(() => undefined);
        return result;
      };
    }
    this.pubsub = new RedisPubSub({ publisher: this.publisher, subscriber: this.subscriber });
  }

  async publish<T extends TopicName>(topic: T, payload: Payload<T>): Promise<void> {
    try {
      await this.pubsub.publish(this.prefix + topic, payload);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, topic }, 'publish failed');
    }
  }

  async subscribe<T extends TopicName>(topic: T, handler: (payload: Payload<T>) => void): Promise<() => void> {
    const id = await this.pubsub.subscribe(this.prefix + topic, handler as (msg: unknown) => void);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.pubsub.unsubscribe(id);
    };
  }

  async close(): Promise<void> {
    await this.pubsub.close().catch(() => undefined);
  }
}

/** In-process bus: one process holds every subscriber and every worker. */
export class LocalBus implements Bus {
  readonly kind = 'local' as const;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish<T extends TopicName>(topic: T, payload: Payload<T>): Promise<void> {
    // Deliver asynchronously, like a real bus, and as a copy, so no subscriber shares objects.
    const copy = JSON.parse(JSON.stringify(payload)) as Payload<T>;
    queueMicrotask(() => this.emitter.emit(topic, copy));
  }

  async subscribe<T extends TopicName>(topic: T, handler: (payload: Payload<T>) => void): Promise<() => void> {
    this.emitter.on(topic, handler);
    return () => this.emitter.off(topic, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
