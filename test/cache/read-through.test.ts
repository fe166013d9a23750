import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/ops/log.js';
import { cachePolicy, LruOddsCache } from '../../src/read/odds-cache.js';
import { cacheKey } from '../../src/domain/cache-keys.js';
import { ReadThrough, type Id } from '../../src/read/read-through.js';
import { Breaker, UnavailableError } from '../../src/read/breaker.js';

const { freshMs, ttlMs } = cachePolicy.EventOdds;

/** A source the test controls: each call waits until the test lets it answer (or fail). */
function controlledSource() {
  const calls: Id[][] = [];
  let version = 1;
  let failWith: Error | undefined;
  const waiting: Array<() => void> = [];
  const fetchMany = async (ids: Id[]) => {
    calls.push(ids);
    await new Promise<void>((resolve) => waiting.push(resolve));
    if (failWith) throw failWith;
    return new Map(ids.map((id) => [id, Object.freeze({ id, version })]));
  };
  return {
    calls,
    fetchMany,
    setVersion: (v: number) => (version = v),
    fail: (error: Error | undefined) => (failWith = error),
    /** Lets every call so far answer; a test waits for what the answer should change (a read, a counter). */
    answer() {
      waiting.splice(0).forEach((resolve) => resolve());
    },
  };
}

describe('the read-through cache policy, on an injected clock', () => {
  let clock = 1_000_000;
  const setup = () => {
    clock = 1_000_000;
    const cache = new LruOddsCache({ maxBytes: 1 << 20, now: () => clock });
    const source = controlledSource();
    const failures: Id[][] = [];
    const reads = new ReadThrough<{ id: Id; version: number }>({
      cache,
      kind: 'EventOdds',
      fetchMany: source.fetchMany,
      onRefreshFailed: (_kind, ids) => failures.push([...ids]),
    });
    return { cache, source, reads, failures };
  };
  const versions = (values: Array<{ version: number } | undefined>) => values.map((v) => v?.version);

  it('serves a fresh entry from memory without asking the source', async () => {
    const { cache, source, reads } = setup();
    cache.set(cacheKey('EventOdds', 1), { id: 1, version: 0 });
    clock += freshMs - 1;
    expect(versions(await reads.loadMany([1]))).toEqual([0]);
    expect(source.calls).toEqual([]);
    expect(cache.stats()).toMatchObject({ hits: 1, stale: 0, misses: 0 });
  });

  it('serves a stale entry to 100 concurrent readers at once, with one background refresh', async () => {
    const { cache, source, reads } = setup();
    cache.set(cacheKey('EventOdds', 1), { id: 1, version: 0 });
    clock += freshMs + 1;
    const served = await Promise.all(Array.from({ length: 100 }, () => reads.loadMany([1])));
    expect(served.every((values) => values[0]!.version === 0)).toBe(true); // nobody waited for the source
    expect(source.calls).toEqual([[1]]);
    expect(cache.stats()).toMatchObject({ stale: 100 });
    source.answer();
    // Until the refresh lands, a read is served the stale entry and starts no second refresh.
    await expect.poll(async () => versions(await reads.loadMany([1]))).toEqual([1]);
    expect(source.calls).toHaveLength(1);
  });

  it('makes concurrent misses on one key share one load', async () => {
    const { source, reads } = setup();
    const readers = Promise.all(Array.from({ length: 100 }, (_, i) => reads.loadMany(i % 2 ? [1] : [1, 2])));
    source.answer();
    const results = await readers;
    expect(results[0]!.map((v) => v!.version)).toEqual([1, 1]);
    expect(source.calls).toEqual([[1, 2]]);
  });

  it('blocks and loads again once an entry is past its lifetime', async () => {
    const { cache, source, reads } = setup();
    cache.set(cacheKey('EventOdds', 1), { id: 1, version: 0 });
    clock += ttlMs + 1;
    source.setVersion(2);
    const read = reads.loadMany([1]);
    source.answer();
    expect(versions(await read)).toEqual([2]);
    expect(cache.stats()).toMatchObject({ misses: 1 });
  });

  it('keeps serving stale when a refresh fails, its life extended by half, and counts it', async () => {
    const { cache, source, reads, failures } = setup();
    cache.set(cacheKey('EventOdds', 1), { id: 1, version: 0 });
    clock += ttlMs - 1; // stale, a millisecond from expiry
    source.fail(new Error('database down'));
    expect(versions(await reads.loadMany([1]))).toEqual([0]);
    source.answer();
    await expect.poll(() => failures).toEqual([[1]]);
    clock += ttlMs / 2 - 1; // well past the original lifetime, inside the extension
    expect(cache.peek(cacheKey('EventOdds', 1))?.value).toEqual({ id: 1, version: 0 });
    clock += 2; // past the extension: gone
    expect(cache.peek(cacheKey('EventOdds', 1))).toBeUndefined();
  });

  it('never overwrites a value stored after its load began', async () => {
    const { cache, source, reads } = setup();
    const read = reads.loadMany([1]);
    clock += 1;
    cache.set(cacheKey('EventOdds', 1), { id: 1, version: 9 }); // the odds bus, mid-load
    source.answer();
    expect(versions(await read)).toEqual([9]);
    expect(cache.peek(cacheKey('EventOdds', 1))?.value).toEqual({ id: 1, version: 9 });
  });
});

describe('the circuit breaker', () => {
  afterEach(() => vi.useRealTimers());

  it('opens after 5 consecutive failures, fails fast while open, lets one trial through after 30 s, and closes on success', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const breaker = new Breaker('database', { logger: silentLogger() });
    let calls = 0;
    let healthy = false;
    const call = () =>
      breaker.execute(async () => {
        calls++;
        if (!healthy) throw new Error('connection refused');
        return 'ok';
      });
    for (let i = 0; i < 5; i++) await expect(call()).rejects.toThrow('connection refused');
    expect(breaker.state).toBe('open');
    await expect(call()).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toBe(5); // the backend was not called while open

    vi.advanceTimersByTime(30_001);
    await expect(call()).rejects.toThrow('connection refused'); // the trial, still failing
    expect(calls).toBe(6);
    expect(breaker.state).toBe('open');

    vi.advanceTimersByTime(30_001);
    healthy = true;
    await expect(call()).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });
});
