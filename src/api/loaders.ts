import DataLoader from 'dataloader';
import { cacheKey, type CacheKey, type CacheKind } from '../domain/cache-keys.js';
import type { ReadThrough } from '../read/read-through.js';
import type { SharedReads } from '../read/shared-reads.js';
import type {
  BookmakerRecord,
  CompetitionRecord,
  EventOddsRecord,
  EventRecord,
  SportRecord,
} from '../domain/records.js';
import { NotFoundError } from './errors.js';

/**
 * Per-request loaders over the shared cache. Never share one between
 * requests: its memo would serve one request's batch to another.
 */
export interface Loaders {
  sport: DataLoader<number, SportRecord>;
  competition: DataLoader<number, CompetitionRecord>;
  bookmaker: DataLoader<number, BookmakerRecord>;
  event: DataLoader<number, EventRecord>;
  /** Every id resolves: an event without odds has an empty record. */
  eventOdds: DataLoader<number, EventOddsRecord>;
  sports(): Promise<readonly SportRecord[]>;
  competitions(): Promise<readonly CompetitionRecord[]>;
  bookmakers(): Promise<readonly BookmakerRecord[]>;
}

/**
 * `memoize: false` is for subscriptions: their context lives as long as the
 * subscription, and a memo would serve the first odds it saw forever. Each
 * batch still goes through the shared cache, which the odds bus keeps current.
 */
export function createLoaders(reads: SharedReads, { memoize = true, track }: { memoize?: boolean; track?: Set<CacheKey> } = {}): Loaders {
  const list = <V>(name: string) => {
    const load = async () => {
      track?.add(cacheKey('List', name));
      return (await reads.lists.loadMany([name]))[0] as readonly V[];
    };
    let pending: Promise<readonly V[]> | undefined;
    return memoize ? () => (pending ??= load()) : load;
  };
  return {
    sport: cachedLoader(reads.sport, 'Sport', memoize, track),
    competition: cachedLoader(reads.competition, 'Competition', memoize, track),
    bookmaker: cachedLoader(reads.bookmaker, 'Bookmaker', memoize, track),
    event: cachedLoader(reads.event, 'Event', memoize, track),
    eventOdds: cachedLoader(reads.eventOdds, 'EventOdds', memoize, track),
    sports: list<SportRecord>('sports'),
    competitions: list<CompetitionRecord>('competitions'),
    bookmakers: list<BookmakerRecord>('bookmakers'),
  };
}

/**
 * A loader whose batch goes through the shared read-through (cache first,
 * only the misses to the database in one batched read) and answers in key
 * order: DataLoader pairs results with keys by position, so a missing key
 * must become an Error in its own slot, never a shorter array.
 */
export function cachedLoader<V extends object>(
  reads: ReadThrough<V>,
  kind: CacheKind,
  memoize = true,
  /** Collects the cache keys read (the response cache's tags). */
  track?: Set<CacheKey>,
): DataLoader<number, V> {
  return new DataLoader<number, V>(
    async (ids) => {
      if (track) for (const id of ids) track.add(cacheKey(kind, id));
      return (await reads.loadMany(ids)).map((value, i) => value ?? new NotFoundError(kind, ids[i]!));
    },
    { cache: memoize },
  );
}
