import { describe, expect, it } from 'vitest';
import { SegmentedLru } from '../../src/api/segmented-lru.js';

const entry = (size: number) => ({ size });
const cache = (maxSize: number, onEvict = () => {}) =>
  new SegmentedLru<string, { size: number }>({ maxSize, sizeOf: (e) => e.size, ttlMs: 60_000, onEvict });

describe('the segmented LRU behind the response cache', () => {
  it('keeps what is asked for again while a cycle longer than the cache passes through', () => {
    let evictions = 0;
    const lru = cache(100, () => evictions++);
    for (const key of ['hot1', 'hot2']) {
      lru.set(key, entry(10));
      lru.get(key); // asked for again: protected
    }
    // A cyclic scan of 30 one-off keys of 10 (three times what the cache holds), twice round.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 30; i++) {
        if (lru.get(`scan${i}`) === undefined) lru.set(`scan${i}`, entry(10));
      }
    }
    expect(lru.get('hot1')).toEqual(entry(10));
    expect(lru.get('hot2')).toEqual(entry(10));
    expect(evictions).toBeGreaterThan(50);
    expect(lru.calculatedSize).toBeLessThanOrEqual(100);
  });

  it('a plain LRU of the same size loses the hot keys to that scan (what the segments are for)', () => {
    // Everything on probation alone: a protected share of 0.
    const plain = new SegmentedLru<string, { size: number }>({ maxSize: 100, sizeOf: (e) => e.size, ttlMs: 60_000, protectedShare: 0 });
    plain.set('hot1', entry(10));
    for (let i = 0; i < 30; i++) plain.set(`scan${i}`, entry(10));
    expect(plain.has('hot1')).toBe(false);
  });

  it('demotes the least recently used protected entry to probation when protected is full, and never holds more than its size', () => {
    const lru = cache(100); // 80 protected, 20 probation
    for (let i = 0; i < 9; i++) {
      lru.set(`k${i}`, entry(10));
      lru.get(`k${i}`);
    }
    // Protected holds k1..k8; k0 went back to probation, where it is still found.
    expect(lru.has('k0')).toBe(true);
    expect(lru.calculatedSize).toBeLessThanOrEqual(100);
    lru.set('a', entry(10));
    lru.set('b', entry(10));
    // Probation (20) is full: k0, the oldest there, is gone; the protected entries are not.
    expect(lru.has('k0')).toBe(false);
    expect(['k1', 'k8', 'a', 'b'].every((k) => lru.has(k))).toBe(true);
  });

  it('keeps a working set that fits the whole cache before anything was asked for twice', () => {
    const lru = cache(100);
    for (let i = 0; i < 10; i++) lru.set(`k${i}`, entry(10));
    expect(lru.size).toBe(10);
    lru.set('k10', entry(10));
    expect(lru.has('k0')).toBe(false);
    expect(lru.calculatedSize).toBe(100);
  });

  it('replaces a protected entry in place, and forgets everything on clear', () => {
    const lru = cache(100);
    lru.set('k', entry(10));
    lru.get('k');
    lru.set('k', entry(20));
    expect(lru.get('k')).toEqual(entry(20));
    expect(lru.size).toBe(1);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get('k')).toBeUndefined();
  });
});
