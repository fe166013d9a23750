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

/**
 * The reader with each distinct read made once per request: an executor that gives up on an operation
 * and the one that runs it again (src/api/compiled-execution.ts) share its answer, or its failure, which
 * then counts once against the database's breaker. What loaders read is memoised by their own cache.
 */
export function readOncePerRequest(reader: OddsReader): OddsReader {
  const made = new Map<string, unknown>();
  return new Proxy(reader, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const key = `${String(property)}:${JSON.stringify(args)}`;
        if (!made.has(key)) made.set(key, (value as (...a: unknown[]) => unknown).apply(target, args));
        return made.get(key);
      };
    },
  });
}
