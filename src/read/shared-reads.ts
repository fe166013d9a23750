import type { CacheKind } from '../domain/cache-keys.js';
import type { BookmakerRecord, CompetitionRecord, EventOddsRecord, EventRecord, SportRecord } from '../domain/records.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { OddsCache } from './odds-cache.js';
import { ReadThrough, type Id, type SharedTier } from './read-through.js';

/** The batched reads loaders send their cache misses to. */
export type BatchReader = Pick<OddsReader, 'sports' | 'competitions' | 'bookmakers' | 'events' | 'eventOdds'>;

/** The long-lived read-through per kind, shared by every request's loaders (so single flight spans requests). */
export interface SharedReads {
  sport: ReadThrough<SportRecord>;
  competition: ReadThrough<CompetitionRecord>;
  bookmaker: ReadThrough<BookmakerRecord>;
  event: ReadThrough<EventRecord>;
  eventOdds: ReadThrough<EventOddsRecord>;
  /** Whole small tables, cached as one list each (ids `sports`, `competitions`, `bookmakers`). */
  lists: ReadThrough<readonly object[]>;
}

export interface SharedReadOptions {
  /** The fleet's Redis tier, when there is one. */
  shared?: SharedTier | undefined;
  /** True while the database's breaker is open. */
  degraded?: () => boolean;
  onRefreshFailed?: (kind: CacheKind, ids: readonly Id[], error: unknown) => void;
}

export function createSharedReads(cache: OddsCache, reader: BatchReader, options: SharedReadOptions = {}): SharedReads {
  const reads = <V extends object>(kind: CacheKind, fetchMany: (ids: number[]) => Promise<Map<number, V>>) =>
    new ReadThrough<V>({ cache, kind, fetchMany: (ids) => fetchMany(ids as number[]) as Promise<Map<Id, V>>, ...options });
  const tables: Record<string, () => Promise<Map<number, object>>> = {
    sports: () => reader.sports(),
    competitions: () => reader.competitions(),
    bookmakers: () => reader.bookmakers(),
  };
  return {
    sport: reads('Sport', (ids) => reader.sports(ids)),
    competition: reads('Competition', (ids) => reader.competitions(ids)),
    bookmaker: reads('Bookmaker', (ids) => reader.bookmakers(ids)),
    event: reads('Event', (ids) => reader.events(ids)),
    eventOdds: reads('EventOdds', (ids) => reader.eventOdds(ids)),
    lists: new ReadThrough<readonly object[]>({
      cache,
      kind: 'List',
      fetchMany: async (names) =>
        new Map(await Promise.all(names.map(async (name) => [name, Object.freeze([...(await tables[name]!()).values()])] as const))),
      ...options,
    }),
  };
}
