import { cacheKey, type CacheKey } from '../domain/cache-keys.js';
import type { HistoryQuery, OddsReader } from '../db/odds-reader.js';
import type { HistoryCache } from '../read/history-cache.js';

/** What one request read; the loaders and resolvers of its context fill it in. */
export interface RequestReads {
  readonly keys: Set<CacheKey>;
  /** The request read the database directly: its response cannot be tagged, so it is not stored. */
  uncacheable: boolean;
}

export function createRequestReads(): RequestReads {
  return { keys: new Set(), uncacheable: false };
}

/**
 * The reader as resolvers see it: a direct database read makes the response
 * uncacheable. History comes from `history` (memory) and tags the response
 * with the event's odds, whose every write brings its new snapshots.
 */
export function trackDirectReads(reader: OddsReader, reads: RequestReads, history?: HistoryCache | null): OddsReader {
  return new Proxy(reader, {
    get(target, property, receiver) {
      if (property === 'history' && history) {
        return (query: HistoryQuery) => {
          reads.keys.add(cacheKey('EventOdds', query.eventId));
          return history.history(query);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reads.uncacheable = true;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
