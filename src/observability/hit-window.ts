import type { CacheKind } from '../cache/odds-cache.js';
import { cacheKinds, type CacheResult } from './metrics.js';

export interface HitWindowOptions {
  /** The window's length, in milliseconds (default 5 minutes). */
  windowMs?: number;
  /** One bucket's length, in milliseconds (default 10 seconds); the window slides by this much. */
  bucketMs?: number;
  /** Clock in milliseconds (default `Date.now`); tests inject a fake one. */
  now?: () => number;
}

export interface WindowCounts {
  hits: number;
  misses: number;
  stale: number;
  /** (hits + stale) / all lookups in the window; null when there were none. */
  hitRatio: number | null;
}

/**
 * Cache hits, misses and stale serves per kind over a rolling window, as a
 * ring of fixed buckets: recording is O(1) (a bucket left from an earlier
 * lap of the ring is cleared when reused), reading sums the ring.
 */
export class HitWindow {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #buckets: number;
  readonly #now: () => number;
  readonly #rings = new Map<CacheKind, Ring>();

  constructor({ windowMs = 5 * 60_000, bucketMs = 10_000, now = Date.now }: HitWindowOptions = {}) {
    if (!(bucketMs > 0) || !(windowMs >= bucketMs) || windowMs % bucketMs !== 0) {
      throw new RangeError(`HitWindow: windowMs (${windowMs}) must be a positive multiple of bucketMs (${bucketMs})`);
    }
    this.windowMs = windowMs;
    this.#bucketMs = bucketMs;
    this.#buckets = windowMs / bucketMs;
    this.#now = now;
    for (const kind of cacheKinds) this.#rings.set(kind, newRing(this.#buckets));
  }

  record(kind: CacheKind, result: CacheResult): void {
    const ring = this.#rings.get(kind)!;
    const bucket = Math.floor(this.#now() / this.#bucketMs);
    const slot = bucket % this.#buckets;
    if (ring.bucket[slot] !== bucket) {
      ring.bucket[slot] = bucket;
      ring.hit[slot] = 0;
      ring.miss[slot] = 0;
      ring.stale[slot] = 0;
    }
    ring[result][slot]!++;
  }

  /** Counts over the window ending now, for one kind. */
  counts(kind: CacheKind): WindowCounts {
    const ring = this.#rings.get(kind)!;
    const current = Math.floor(this.#now() / this.#bucketMs);
    let hits = 0;
    let misses = 0;
    let stale = 0;
    for (let slot = 0; slot < this.#buckets; slot++) {
      if (current - ring.bucket[slot]! >= this.#buckets) continue;
      hits += ring.hit[slot]!;
      misses += ring.miss[slot]!;
      stale += ring.stale[slot]!;
    }
    return withRatio(hits, misses, stale);
  }

  /** Counts over the window for every kind together. */
  total(): WindowCounts {
    let hits = 0;
    let misses = 0;
    let stale = 0;
    for (const kind of cacheKinds) {
      const counts = this.counts(kind);
      hits += counts.hits;
      misses += counts.misses;
      stale += counts.stale;
    }
    return withRatio(hits, misses, stale);
  }
}

interface Ring {
  /** Which bucket (time / bucketMs) each slot holds; -Infinity before first use. */
  bucket: Float64Array;
  hit: Float64Array;
  miss: Float64Array;
  stale: Float64Array;
}

function newRing(size: number): Ring {
  return {
    bucket: new Float64Array(size).fill(-Infinity),
    hit: new Float64Array(size),
    miss: new Float64Array(size),
    stale: new Float64Array(size),
  };
}

function withRatio(hits: number, misses: number, stale: number): WindowCounts {
  const all = hits + misses + stale;
  return { hits, misses, stale, hitRatio: all === 0 ? null : (hits + stale) / all };
}
