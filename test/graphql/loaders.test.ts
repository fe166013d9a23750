import { describe, expect, it } from 'vitest';
import { DisabledCache, LruOddsCache, type OddsCache } from '../../src/read/odds-cache.js';
import { cacheKey, type CacheKey } from '../../src/domain/cache-keys.js';
import { ReadThrough, type Id } from '../../src/read/read-through.js';
import { NotFoundError } from '../../src/api/errors.js';
import { RequestLoader, type LoaderOptions } from '../../src/api/loaders.js';

const loaderOver = (cache: OddsCache, fetch: (ids: number[]) => Promise<Map<number, { id: number; name: string }>>, options?: LoaderOptions) =>
  new RequestLoader<number, { id: number; name: string }>(
    new ReadThrough({ cache, kind: 'Event', fetchMany: (ids: Id[]) => fetch(ids as number[]) as Promise<Map<Id, { id: number; name: string }>> }),
    'Event',
    options,
  );

// The database side is a recording function here: what is under test is the
// loader's contract (order, misses only, one batch), not the SQL.
function recordingFetch(rows: Record<number, string>) {
  const calls: number[][] = [];
  const fetch = async (ids: number[]) => {
    calls.push(ids);
    return new Map(ids.filter((id) => id in rows).map((id) => [id, Object.freeze({ id, name: rows[id]! })]));
  };
  return { calls, fetch };
}

describe('RequestLoader', () => {
  it('answers in key order with an Error in the slot of a missing key', async () => {
    const { fetch } = recordingFetch({ 1: 'one', 3: 'three' });
    const loader = loaderOver(new LruOddsCache({ maxBytes: 1 << 20 }), fetch);
    const results = await Promise.allSettled([loader.load(3), loader.load(2), loader.load(1)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { id: 3, name: 'three' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
    expect(results[2]).toEqual({ status: 'fulfilled', value: { id: 1, name: 'one' } });
  });

  it('sends only the cache misses to the database, in one batch', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    cache.set(cacheKey('Event', 2), Object.freeze({ id: 2, name: 'cached two' }));
    const { calls, fetch } = recordingFetch({ 1: 'one', 2: 'two', 3: 'three' });
    const loader = loaderOver(cache, fetch);
    const results = await Promise.all([loader.load(1), loader.load(2), loader.load(3)]);
    expect(results.map((r) => r.name)).toEqual(['one', 'cached two', 'three']);
    expect(calls).toEqual([[1, 3]]);
  });

  it('fills the shared cache, so a later request (a new loader) needs no fetch', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    const { calls, fetch } = recordingFetch({ 1: 'one' });
    await loaderOver(cache, fetch).load(1);
    await loaderOver(cache, fetch).load(1);
    expect(calls).toEqual([[1]]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, sets: 1, entries: 1 });
  });

  it('still batches with the cache off', async () => {
    const { calls, fetch } = recordingFetch({ 1: 'one', 2: 'two' });
    const loader = loaderOver(new DisabledCache(), fetch);
    await Promise.all([loader.load(1), loader.load(2)]);
    await loaderOver(new DisabledCache(), fetch).load(1);
    expect(calls).toEqual([[1, 2], [1]]);
  });
});

describe('RequestLoader, reading what the shared cache holds', () => {
  const record = (id: number, name: string) => Object.freeze({ id, name });

  it('answers a cached key at once, with no promise, no fetch and one counted hit, and tags the request with it', () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    cache.set(cacheKey('Event', 2), record(2, 'two'));
    const { calls, fetch } = recordingFetch({});
    const track = new Set<CacheKey>();
    const loader = loaderOver(cache, fetch, { track });
    expect(loader.get(2)).toEqual({ id: 2, name: 'two' });
    expect(loader.get(2)).toBe(loader.get(2));
    expect(calls).toEqual([]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 0 });
    expect([...track]).toEqual(['Event:2']);
  });

  it('loads a miss through a batch, counting the miss once, and answers it at once after that', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    const { calls, fetch } = recordingFetch({ 1: 'one', 3: 'three' });
    const loader = loaderOver(cache, fetch);
    const [one, three] = [loader.get(1), loader.get(3)];
    expect(one).toBeInstanceOf(Promise);
    expect(await Promise.all([one, three])).toEqual([record(1, 'one'), record(3, 'three')]);
    expect(calls).toEqual([[1, 3]]);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 });
    expect(loader.get(1)).toEqual(record(1, 'one'));
  });

  it('keeps the first answer of a key for the whole request, however the shared cache changes after it', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    cache.set(cacheKey('Event', 1), record(1, 'before'));
    const { fetch } = recordingFetch({});
    const loader = loaderOver(cache, fetch);
    expect(loader.get(1)).toEqual(record(1, 'before'));
    await expect(loader.load(2)).rejects.toThrow(NotFoundError);
    cache.set(cacheKey('Event', 1), record(1, 'after'));
    cache.set(cacheKey('Event', 2), record(2, 'appeared'));
    expect(loader.get(1)).toEqual(record(1, 'before'));
    await expect(loader.load(1)).resolves.toEqual(record(1, 'before'));
    // What a batch answered (here: no such key) is the request's answer too.
    expect(loader.peek(2)).toBeUndefined();
    await expect(loader.get(2)).rejects.toThrow(NotFoundError);
    // The next request reads the cache as it is now.
    expect(loaderOver(cache, fetch).get(1)).toEqual(record(1, 'after'));
  });

  it('answers a key whose batch is under way from that batch, not from one cached meanwhile', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    let answer!: () => void;
    const fetched = new Promise<void>((resolve) => (answer = resolve));
    const fetch = async (ids: number[]) => {
      await fetched;
      return new Map(ids.map((id) => [id, record(id, 'from the database')]));
    };
    const loader = loaderOver(cache, fetch);
    const loading = loader.load(1);
    await new Promise((resolve) => setImmediate(resolve)); // the batch has gone to the database
    // Stored as of before the batch began (the read-through keeps its own answer over it).
    cache.set(cacheKey('Event', 1), record(1, 'cached meanwhile'), cache.now() - 1_000);
    expect(loader.peek(1)).toBeUndefined();
    answer();
    expect(await loading).toEqual(record(1, 'from the database'));
    expect(loader.get(1)).toBe(await loading);
  });

  it('without a memo (subscriptions), reads the shared cache every time', () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    cache.set(cacheKey('Event', 1), record(1, 'before'));
    const { fetch } = recordingFetch({});
    const loader = loaderOver(cache, fetch, { memoize: false });
    expect(loader.get(1)).toEqual(record(1, 'before'));
    cache.set(cacheKey('Event', 1), record(1, 'after'));
    expect(loader.get(1)).toEqual(record(1, 'after'));
  });
});

describe('LruOddsCache', () => {
  it('stays within its byte bound, evicting the least recently used', () => {
    const cache = new LruOddsCache({ maxBytes: 10_000 });
    for (let id = 0; id < 100; id++) cache.set(cacheKey('Event', id), { id, padding: 'x'.repeat(500) });
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(10_000);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(cache.get(cacheKey('Event', 99))).toBeDefined();
    expect(cache.get(cacheKey('Event', 0))).toBeUndefined();
  });

  it('expires odds after minutes and reference data only after days', () => {
    let clock = 1_000_000; // lru-cache reads a start time of 0 as "no TTL"
    const cache = new LruOddsCache({ maxBytes: 1 << 20, now: () => clock });
    cache.set(cacheKey('EventOdds', 1), { eventId: 1 });
    cache.set(cacheKey('Sport', 1), { id: 1 });
    clock += 11 * 60_000;
    expect(cache.get(cacheKey('EventOdds', 1))).toBeUndefined();
    expect(cache.get(cacheKey('Sport', 1))).toBeDefined();
  });
});
