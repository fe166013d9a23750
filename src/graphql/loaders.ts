import DataLoader from 'dataloader';
import { cacheKey, type CacheKind, type OddsCache } from '../cache/odds-cache.js';
import type {
  BookmakerRecord,
  CompetitionRecord,
  EventOddsRecord,
  EventRecord,
  SportRecord,
} from '../cache/records.js';
import type { BatchReader } from '../observability/timed-reader.js';
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

export interface ReadDependencies {
  cache: OddsCache;
  reader: BatchReader;
}

/**
 * `memoize: false` is for subscriptions: their context lives as long as the
 * subscription, and a memo would serve the first odds it saw forever. Each
 * batch still goes through the shared cache, which the worker keeps current.
 */
export function createLoaders({ cache, reader }: ReadDependencies, { memoize = true } = {}): Loaders {
  return {
    sport: cachedLoader(cache, 'Sport', (ids) => reader.sports(ids), memoize),
    competition: cachedLoader(cache, 'Competition', (ids) => reader.competitions(ids), memoize),
    bookmaker: cachedLoader(cache, 'Bookmaker', (ids) => reader.bookmakers(ids), memoize),
    event: cachedLoader(cache, 'Event', (ids) => reader.events(ids), memoize),
    eventOdds: cachedLoader(cache, 'EventOdds', (ids) => reader.eventOdds(ids), memoize),
    sports: cachedList(cache, 'sports', () => reader.sports(), memoize),
    competitions: cachedList(cache, 'competitions', () => reader.competitions(), memoize),
    bookmakers: cachedList(cache, 'bookmakers', () => reader.bookmakers(), memoize),
  };
}

/**
 * A loader whose batch asks the cache for every key at once, sends only the
 * misses to the database in one batched read, fills the cache, and answers
 * in key order: DataLoader pairs results with keys by position, so a missing
 * key must become an Error in its own slot, never a shorter array.
 */
export function cachedLoader<V extends object>(
  cache: OddsCache,
  kind: CacheKind,
  fetchMany: (ids: number[]) => Promise<Map<number, V>>,
  memoize = true,
): DataLoader<number, V> {
  return new DataLoader<number, V>(async (ids) => {
    const values = cache.getMany<V>(ids.map((id) => cacheKey(kind, id)));
    const misses = ids.filter((_, i) => values[i] === undefined);
    if (misses.length > 0) {
      const fetched = await fetchMany(misses);
      for (const [id, value] of fetched) cache.set(cacheKey(kind, id), value);
      ids.forEach((id, i) => {
        values[i] ??= fetched.get(id);
      });
    }
    return values.map((value, i) => value ?? new NotFoundError(kind, ids[i]!));
  }, { cache: memoize });
}

/** A whole small table (sports, competitions, bookmakers), cached as one list; memoised for the request. */
function cachedList<V extends object>(
  cache: OddsCache,
  name: string,
  fetchAll: () => Promise<Map<number, V>>,
  memoize: boolean,
): () => Promise<readonly V[]> {
  const load = async () => {
    const key = cacheKey('List', name);
    const cached = cache.get<readonly V[]>(key);
    if (cached) return cached;
    const list = Object.freeze([...(await fetchAll()).values()]);
    cache.set(key, list);
    return list;
  };
  let pending: Promise<readonly V[]> | undefined;
  return memoize ? () => (pending ??= load()) : load;
}
