import type { CacheKey } from '../domain/cache-keys.js';
import type { OddsReader } from '../db/odds-reader.js';

/** What one request read; the loaders and resolvers of its context fill it in. */
export interface RequestReads {
  readonly keys: Set<CacheKey>;
  /** The request read the database directly: its response cannot be tagged, so it is not stored. */
  uncacheable: boolean;
}

export function createRequestReads(): RequestReads {
  return { keys: new Set(), uncacheable: false };
}

/** The reader as resolvers see it: a direct database read makes the response uncacheable. */
export function trackDirectReads(reader: OddsReader, reads: RequestReads): OddsReader {
  return new Proxy(reader, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reads.uncacheable = true;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
