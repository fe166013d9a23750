import type { BoardIndex } from '../read/board-index.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { Logger } from '../ops/log.js';
import type { PubSub } from '../live/pubsub.js';
import type { RecentChanges } from '../live/recent-changes.js';
import type { Loaders } from './loaders.js';
import type { RequestReads } from './request-reads.js';

export interface GraphQLContext {
  loaders: Loaders;
  reader: OddsReader;
  /** The in-memory board; null with `CACHE=off`, when every `events` query goes to the database. */
  board: BoardIndex | null;
  pubsub: PubSub;
  /** Subscriptions resumed `after` a place in this window are replayed from memory (WebSocket and SSE contexts). */
  recentChanges?: RecentChanges;
  /** Bound to the HTTP request's id, or to the WebSocket connection's. */
  log: Logger;
  /** What this request read, for the response cache (HTTP requests with the cache on). */
  reads?: RequestReads;
  /** The change-log position the gateway's cache reflected when the request began (`oddsCursor`). */
  logPosition: bigint;
}
