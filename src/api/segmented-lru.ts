import { LRUCache } from 'lru-cache';

export interface SegmentedLruOptions<V> {
  /** Upper bound of both segments together, in the unit of `sizeOf`. */
  maxSize: number;
  sizeOf: (value: V) => number;
  /** Share of `maxSize` at most for entries asked for again after they were stored (default 0.8); probation has the rest and any of it unused. */
  protectedShare?: number;
  /** Entries older than this are dropped when found, in milliseconds (lru-cache's own TTL). */
  ttlMs: number;
  /** Told of each entry that left the cache for room (not a delete, replacement or expiry). */
  onEvict?: () => void;
}

/**
 * A segmented LRU: a new entry goes to the probation segment; an entry asked
 * for again while there moves to the protected segment, and the protected
 * segment's least recent entry goes back to probation when it is full. So a
 * scan (one-off requests, or a cycle longer than the cache holds) only churns
 * probation, and what clients ask for repeatedly stays. Both segments are
 * bounded by size, together by `maxSize`.
 */
export class SegmentedLru<K extends string, V extends object> {
  readonly #probation: LRUCache<K, V>;
  readonly #protected: LRUCache<K, V>;
  readonly #maxSize: number;

  constructor({ maxSize, sizeOf, protectedShare = 0.8, ttlMs, onEvict = () => {} }: SegmentedLruOptions<V>) {
    const protectedSize = Math.floor(maxSize * protectedShare);
    const sizeCalculation = (value: V) => Math.max(1, sizeOf(value));
    this.#maxSize = maxSize;
    // Probation may use whatever protected does not (trimmed on each store), so a working set that fits
    // the whole cache is kept even while nothing is protected yet.
    this.#probation = new LRUCache<K, V>({
      maxSize,
      sizeCalculation,
      ttl: ttlMs,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') onEvict();
      },
    });
    this.#protected = new LRUCache<K, V>({
      maxSize: Math.max(1, protectedSize),
      sizeCalculation,
      ttl: ttlMs,
      // Demoted, not dropped: it gets a second chance in probation.
      dispose: (value, key, reason) => {
        if (reason === 'evict') this.#probation.set(key, value);
      },
    });
  }

  get size(): number {
    return this.#probation.size + this.#protected.size;
  }

  get calculatedSize(): number {
    return this.#probation.calculatedSize + this.#protected.calculatedSize;
  }

  /** The entry, promoted to the protected segment if it was on probation. */
  get(key: K): V | undefined {
    const hot = this.#protected.get(key);
    if (hot !== undefined) return hot;
    const value = this.#probation.get(key);
    if (value === undefined) return undefined;
    this.#probation.delete(key);
    this.#protected.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.#protected.has(key) || this.#probation.has(key);
  }

  /** Stores on probation (replacing in place an entry already protected). */
  set(key: K, value: V): void {
    if (this.#protected.has(key)) this.#protected.set(key, value);
    else this.#probation.set(key, value);
    while (this.calculatedSize > this.#maxSize && this.#probation.size > 0) this.#probation.pop();
  }

  delete(key: K): void {
    this.#protected.delete(key);
    this.#probation.delete(key);
  }

  clear(): void {
    this.#protected.clear();
    this.#probation.clear();
  }
}
