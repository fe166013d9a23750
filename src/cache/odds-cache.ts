import { LRUCache } from 'lru-cache';
import type { CacheObserver } from './cache-observer.js';

/**
 * The shared, long-lived cache in front of the database. Keys are
 * `Kind:id` so the writer can replace or drop exactly what changed. Values
 * are frozen records (src/cache/records.ts), shared between requests.
 */
export type CacheKind = 'Sport' | 'Competition' | 'Bookmaker' | 'Event' | 'EventOdds' | 'List';
export type CacheKey = `${CacheKind}:${string}`;

export function cacheKey(kind: CacheKind, id: string | number): CacheKey {
  return `${kind}:${id}`;
}

export interface CacheStats {
  hits: number;
  misses: number;
  sets: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

export interface OddsCache {
  /** False for the stand-in used with `CACHE=off` (reported at /health). */
  readonly enabled: boolean;
  get<T>(key: CacheKey): T | undefined;
  /** Values in key order; `undefined` where a key is not cached. */
  getMany<T>(keys: readonly CacheKey[]): Array<T | undefined>;
  /** The cached value without counting a hit or miss or refreshing its recency (for writers, not readers). */
  peek<T>(key: CacheKey): T | undefined;
  set(key: CacheKey, value: object): void;
  invalidate(key: CacheKey): void;
  /** Drops every entry of one kind; returns how many. */
  invalidateKind(kind: CacheKind): number;
  stats(): CacheStats;
  /** Entries and estimated bytes per kind; walks the cache, so for health and metric scrapes only. */
  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }>;
}

/** How long each kind of data stays fresh, in milliseconds. */
export const ttlMsByKind: Record<CacheKind, number> = {
  Sport: 3 * 24 * 3_600_000, // reference data: days
  Competition: 3 * 24 * 3_600_000,
  Bookmaker: 3 * 24 * 3_600_000,
  List: 3 * 24 * 3_600_000,
  Event: 6 * 3_600_000, // event metadata: hours
  EventOdds: 10 * 60_000, // odds: minutes (the ingest worker replaces them as they move)
};

export interface LruOddsCacheOptions {
  /** Upper bound of the sum of entry sizes, in bytes. */
  maxBytes: number;
  /** Clock for TTLs, in milliseconds (default `performance.now`); tests inject a fake one. */
  now?: () => number;
  /** Told of every lookup, set and removal (metrics, hit-ratio window). */
  observer?: CacheObserver;
}

/** The in-process tier: lru-cache bounded by bytes, one TTL per kind of data. */
export class LruOddsCache implements OddsCache {
  readonly enabled = true;
  readonly #lru: LRUCache<CacheKey, object>;
  readonly #maxBytes: number;
  #hits = 0;
  #misses = 0;
  #sets = 0;
  #evictions = 0;
  readonly #observer: CacheObserver | undefined;

  constructor({ maxBytes, now, observer }: LruOddsCacheOptions) {
    this.#maxBytes = maxBytes;
    this.#observer = observer;
    this.#lru = new LRUCache<CacheKey, object>({
      maxSize: maxBytes,
      sizeCalculation: estimateBytes,
      ttlAutopurge: false,
      ...(now && { perf: { now } }),
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.#evictions++;
        this.#observer?.removed(kindOf(key), reason);
      },
    });
  }

  get<T>(key: CacheKey): T | undefined {
    const value = this.#lru.get(key) as T | undefined;
    if (value === undefined) this.#misses++;
    else this.#hits++;
    this.#observer?.request(kindOf(key), value === undefined ? 'miss' : 'hit');
    return value;
  }

  getMany<T>(keys: readonly CacheKey[]): Array<T | undefined> {
    return keys.map((key) => this.get<T>(key));
  }

  set(key: CacheKey, value: object): void {
    this.#sets++;
    const kind = kindOf(key);
    this.#observer?.set(kind);
    this.#lru.set(key, value, { ttl: ttlMsByKind[kind] });
  }

  peek<T>(key: CacheKey): T | undefined {
    return this.#lru.peek(key) as T | undefined;
  }

  invalidate(key: CacheKey): void {
    this.#lru.delete(key);
  }

  invalidateKind(kind: CacheKind): number {
    const prefix = `${kind}:`;
    let dropped = 0;
    for (const key of [...this.#lru.keys()]) {
      if (key.startsWith(prefix) && this.#lru.delete(key)) dropped++;
    }
    return dropped;
  }

  stats(): CacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      sets: this.#sets,
      evictions: this.#evictions,
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      maxBytes: this.#maxBytes,
    };
  }

  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }> {
    const byKind = emptySizes();
    for (const key of this.#lru.keys()) {
      const size = byKind[kindOf(key)];
      size.entries++;
      size.bytes += this.#lru.info(key)?.size ?? 0;
    }
    return byKind;
  }
}

/** `CACHE=off`: every lookup misses, so every loader batch goes to the database. */
export class DisabledCache implements OddsCache {
  readonly enabled = false;
  #misses = 0;
  get<T>(): T | undefined {
    this.#misses++;
    return undefined;
  }
  getMany<T>(keys: readonly CacheKey[]): Array<T | undefined> {
    this.#misses += keys.length;
    return keys.map(() => undefined);
  }
  peek<T>(): T | undefined {
    return undefined;
  }
  set(): void {}
  invalidate(): void {}
  invalidateKind(): number {
    return 0;
  }
  stats(): CacheStats {
    return { hits: 0, misses: this.#misses, sets: 0, evictions: 0, entries: 0, bytes: 0, maxBytes: 0 };
  }
  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }> {
    return emptySizes();
  }
}

function kindOf(key: CacheKey): CacheKind {
  return key.slice(0, key.indexOf(':')) as CacheKind;
}

function emptySizes(): Record<CacheKind, { entries: number; bytes: number }> {
  const empty = () => ({ entries: 0, bytes: 0 });
  return { Sport: empty(), Competition: empty(), Bookmaker: empty(), Event: empty(), EventOdds: empty(), List: empty() };
}

/**
 * Approximate heap bytes of a record: its JSON length counted as UTF-16,
 * plus per-object overhead. Computed once per set, never on reads.
 */
function estimateBytes(value: object): number {
  let objects = 0;
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object') objects++;
    return v;
  });
  return Math.max(1, json.length * 2 + objects * 64);
}
