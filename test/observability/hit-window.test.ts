import { describe, expect, it } from 'vitest';
import { HitWindow } from '../../src/ops/hit-window.js';

describe('the hit-ratio window', () => {
  it('counts hits, misses and stale serves per kind, and has no ratio before any lookup', () => {
    let clock = 1_000_000;
    const window = new HitWindow({ now: () => clock });
    expect(window.counts('Event')).toEqual({ hits: 0, misses: 0, stale: 0, hitRatio: null });
    window.record('Event', 'hit');
    window.record('Event', 'hit');
    window.record('Event', 'stale');
    window.record('Event', 'miss');
    window.record('Sport', 'miss');
    clock += 1_000;
    expect(window.counts('Event')).toEqual({ hits: 2, misses: 1, stale: 1, hitRatio: 0.75 });
    expect(window.counts('Sport')).toEqual({ hits: 0, misses: 1, stale: 0, hitRatio: 0 });
    expect(window.total()).toEqual({ hits: 2, misses: 2, stale: 1, hitRatio: 0.6 });
  });

  it('forgets lookups older than the window, bucket by bucket', () => {
    let clock = 0;
    const window = new HitWindow({ windowMs: 300_000, bucketMs: 10_000, now: () => clock });
    window.record('EventOdds', 'miss'); // bucket 0
    clock = 150_000;
    window.record('EventOdds', 'hit'); // bucket 15
    clock = 299_999; // still inside bucket 29: both count
    expect(window.counts('EventOdds')).toMatchObject({ hits: 1, misses: 1 });
    clock = 300_000; // bucket 30 reuses bucket 0's slot: the miss is gone
    expect(window.counts('EventOdds')).toMatchObject({ hits: 1, misses: 0, hitRatio: 1 });
    window.record('EventOdds', 'hit');
    expect(window.counts('EventOdds')).toMatchObject({ hits: 2, misses: 0 });
    clock = 450_000 + 10_000; // bucket 15 left the window too
    expect(window.counts('EventOdds')).toMatchObject({ hits: 1, misses: 0 });
    clock = 10 * 300_000; // long idle: nothing left, even in slots never overwritten
    expect(window.counts('EventOdds')).toEqual({ hits: 0, misses: 0, stale: 0, hitRatio: null });
  });

  it('refuses a window that is not a whole number of buckets', () => {
    expect(() => new HitWindow({ windowMs: 25_000, bucketMs: 10_000 })).toThrow(/windowMs \(25000\) must be a positive multiple of bucketMs \(10000\)/);
  });
});
