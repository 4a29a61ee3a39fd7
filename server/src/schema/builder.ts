import SchemaBuilder from '@pothos/core';
import type { Database } from '../db/sequelize.js';
import type { Engine } from '../engine/engine.js';
import type { Bus } from '../pubsub.js';
import type { RunFeeds } from '../live/run-feed.js';

/** What every resolver receives. `actor` is `anonymous` until auth exists. */
export interface Context {
  engine: Engine;
  db: Database;
  bus: Bus;
  /** Shared per-run event streams of this process. */
  feeds: RunFeeds;
  actor: string;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    // A number is epoch milliseconds (graphql-scalars takes it as it takes a Date).
    DateTime: { Input: Date; Output: Date | string | number };
  };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
});
