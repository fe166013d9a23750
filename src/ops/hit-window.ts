import { cacheKinds, type CacheKind } from '../domain/cache-keys.js';
import { cacheResults, kindIndex, resultIndex, type CacheResult } from './metrics.js';

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

const perSlot = cacheKinds.length * cacheResults.length;

/**
 * Cache hits, misses and stale serves per kind over a rolling window, as a
 * ring of fixed time buckets in one flat array: recording is an index and
 * an increment (a slot left from an earlier lap of the ring is cleared when
 * reused); reading sums the slots still inside the window.
 */
export class HitWindow {
  readonly windowMs: number;
  readonly #bucketMs: number;
  readonly #slots: number;
  readonly #now: () => number;
  /** Which bucket (time / bucketMs) each slot holds; -Infinity before first use. */
  readonly #slotBucket: Float64Array;
  /** Per slot, per kind, per result. */
  readonly #counts: Float64Array;

  constructor({ windowMs = 5 * 60_000, bucketMs = 10_000, now = Date.now }: HitWindowOptions = {}) {
    if (!(bucketMs > 0) || !(windowMs >= bucketMs) || windowMs % bucketMs !== 0) {
      throw new RangeError(`HitWindow: windowMs (${windowMs}) must be a positive multiple of bucketMs (${bucketMs})`);
    }
    this.windowMs = windowMs;
    this.#bucketMs = bucketMs;
    this.#slots = windowMs / bucketMs;
    this.#now = now;
    this.#slotBucket = new Float64Array(this.#slots).fill(-Infinity);
    this.#counts = new Float64Array(this.#slots * perSlot);
  }

  record(kind: CacheKind, result: CacheResult): void {
    const bucket = Math.floor(this.#now() / this.#bucketMs);
    const slot = bucket % this.#slots;
    if (this.#slotBucket[slot] !== bucket) {
      this.#slotBucket[slot] = bucket;
      this.#counts.fill(0, slot * perSlot, (slot + 1) * perSlot);
    }
    this.#counts[slot * perSlot + kindIndex[kind] * cacheResults.length + resultIndex[result]]!++;
  }

  /** Counts over the window ending now, for one kind. */
  counts(kind: CacheKind): WindowCounts {
    const current = Math.floor(this.#now() / this.#bucketMs);
    const sums = [0, 0, 0];
    for (let slot = 0; slot < this.#slots; slot++) {
      if (current - this.#slotBucket[slot]! >= this.#slots) continue;
      const base = slot * perSlot + kindIndex[kind] * cacheResults.length;
      for (let r = 0; r < cacheResults.length; r++) sums[r]! += this.#counts[base + r]!;
    }
    return withRatio(sums[resultIndex.hit]!, sums[resultIndex.miss]!, sums[resultIndex.stale]!);
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

function withRatio(hits: number, misses: number, stale: number): WindowCounts {
  const all = hits + misses + stale;
  return { hits, misses, stale, hitRatio: all === 0 ? null : (hits + stale) / all };
}
