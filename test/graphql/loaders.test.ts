import { describe, expect, it } from 'vitest';
import { DisabledCache, LruOddsCache, type OddsCache } from '../../src/read/odds-cache.js';
import { cacheKey } from '../../src/domain/cache-keys.js';
import { ReadThrough, type Id } from '../../src/read/read-through.js';
import { NotFoundError } from '../../src/api/errors.js';
import { cachedLoader } from '../../src/api/loaders.js';

const loaderOver = (cache: OddsCache, fetch: (ids: number[]) => Promise<Map<number, { id: number; name: string }>>) =>
  cachedLoader(new ReadThrough({ cache, kind: 'Event', fetchMany: (ids: Id[]) => fetch(ids as number[]) as Promise<Map<Id, { id: number; name: string }>> }), 'Event');

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

describe('cachedLoader', () => {
  it('answers in key order with an Error in the slot of a missing key', async () => {
    const { fetch } = recordingFetch({ 1: 'one', 3: 'three' });
    const loader = loaderOver(new LruOddsCache({ maxBytes: 1 << 20 }), fetch);
    const results = await loader.loadMany([3, 2, 1]);
    expect(results[0]).toEqual({ id: 3, name: 'three' });
    expect(results[1]).toBeInstanceOf(NotFoundError);
    expect(results[2]).toEqual({ id: 1, name: 'one' });
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
