import { LRUCache } from 'lru-cache';
import { cacheKinds, type CacheKey, type CacheKind } from '../domain/cache-keys.js';
import type { CacheObserver } from './cache-observer.js';

/**
 * The shared, long-lived cache in front of the database. Keys are
 * `Kind:id` (src/domain/cache-keys.ts) so the writer can replace or drop exactly what changed. Values
 * are frozen records (src/domain/records.ts), shared between requests.
 */

const minute = 60_000;
const hour = 60 * minute;

export interface CacheStats {
  hits: number;
  /** Served past its fresh time, while a background refresh ran. */
  stale: number;
  misses: number;
  sets: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

export interface CacheEntry<T> {
  value: T;
  /** When it was stored, on the cache's clock. */
  storedAt: number;
  /** False once past its kind's fresh time: still served, but due for a refresh. */
  fresh: boolean;
}

export interface OddsCache {
  /** False for the stand-in used with `CACHE=off` (reported at /health). */
  readonly enabled: boolean;
  /** The cache's clock, in milliseconds. */
  now(): number;
  /**
   * A read by a client: counted as a hit, a stale hit or a miss.
   * `degraded` (the source is known to be down) serves every entry as stale. `countMiss` false: a miss is
   * not counted, because the caller reads the key again through a counted lookup (a synchronous read that
   * falls back to a batch).
   */
  lookup<T>(key: CacheKey, degraded?: boolean, countMiss?: boolean): CacheEntry<T> | undefined;
  /** The value of `lookup`, fresh or stale. */
  get<T>(key: CacheKey): T | undefined;
  /** The entry without counting it or refreshing its recency (for writers, not readers). */
  peek<T>(key: CacheKey): CacheEntry<T> | undefined;
  /** Stores a value as of `storedAt` (default now). */
  set(key: CacheKey, value: object, storedAt?: number): void;
  /** A refresh failed: keep serving the stale value for half its kind's lifetime more. */
  extend(key: CacheKey): boolean;
  invalidate(key: CacheKey): void;
  /** Drops every entry of one kind; returns how many. */
  invalidateKind(kind: CacheKind): number;
  stats(): CacheStats;
  /** Entries and estimated bytes per kind; walks the cache, so for health and metric scrapes only. */
  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }>;
}

/**
 * The cache policy, in one table: each kind is fresh for `freshMs`, then
 * served stale while one background refresh runs, and gone after `ttlMs`
 * (a read then waits for the database).
 */
export const cachePolicy: Record<CacheKind, { freshMs: number; ttlMs: number }> = {
  // Reference data: days.
  Sport: { freshMs: 24 * hour, ttlMs: 3 * 24 * hour },
  Competition: { freshMs: 24 * hour, ttlMs: 3 * 24 * hour },
  Bookmaker: { freshMs: 24 * hour, ttlMs: 3 * 24 * hour },
  List: { freshMs: 24 * hour, ttlMs: 3 * 24 * hour },
  // Event metadata: hours.
  Event: { freshMs: hour, ttlMs: 6 * hour },
  // Odds: minutes. The odds bus replaces them as they move; this bounds how long a missed message can matter.
  EventOdds: { freshMs: 2 * minute, ttlMs: 10 * minute },
};

/**
 * An empty list (sports, competitions or bookmakers of a database not yet
 * seeded) is all but certainly about to change: kept minutes, not days, so
 * a gateway that started before the seed does not answer `[]` for days.
 */
export const emptyListPolicy = { freshMs: minute, ttlMs: 5 * minute };

export interface LruOddsCacheOptions {
  /** Upper bound of the sum of entry sizes, in bytes. */
  maxBytes: number;
  /** Clock for freshness and TTLs, in milliseconds (default `performance.now`); tests inject a fake one. */
  now?: () => number;
  /** Told of every lookup, set and removal (metrics, hit-ratio window). */
  observer?: CacheObserver;
}

interface Stored {
  value: object;
  storedAt: number;
  /** `estimateBytes(value)`, once. */
  bytes: number;
}

/** The in-process tier: lru-cache bounded by bytes, with the policy's lifetimes per kind. */
export class LruOddsCache implements OddsCache {
  readonly enabled = true;
  readonly now: () => number;
  readonly #lru: LRUCache<CacheKey, Stored>;
  readonly #maxBytes: number;
  #hits = 0;
  #stale = 0;
  #misses = 0;
  #sets = 0;
  #evictions = 0;
  /** Entries and bytes by kind, kept as entries come and go: counting them on each scrape walked every entry. */
  readonly #sizes = emptySizes();
  readonly #observer: CacheObserver | undefined;

  constructor({ maxBytes, now = () => performance.now(), observer }: LruOddsCacheOptions) {
    this.#maxBytes = maxBytes;
    this.now = now;
    this.#observer = observer;
    this.#lru = new LRUCache<CacheKey, Stored>({
      maxSize: maxBytes,
      sizeCalculation: (stored) => stored.bytes,
      ttlAutopurge: false,
      perf: { now },
      // Read the clock on every check: lru-cache otherwise reuses one reading for a while, which an injected clock defeats.
      ttlResolution: 0,
      dispose: (stored, key, reason) => {
        const size = this.#sizes[kindOf(key)];
        size.entries--;
        size.bytes -= stored.bytes;
        if (reason === 'evict') this.#evictions++;
        this.#observer?.removed(kindOf(key), reason);
      },
    });
  }

  lookup<T>(key: CacheKey, degraded = false, countMiss = true): CacheEntry<T> | undefined {
    const entry = this.#entry<T>(this.#lru.get(key), key);
    if (entry && degraded) entry.fresh = false;
    if (!entry && !countMiss) return undefined;
    if (!entry) this.#misses++;
    else if (entry.fresh) this.#hits++;
    else this.#stale++;
    this.#observer?.request(kindOf(key), !entry ? 'miss' : entry.fresh ? 'hit' : 'stale');
    return entry;
  }

  get<T>(key: CacheKey): T | undefined {
    return this.lookup<T>(key)?.value;
  }

  peek<T>(key: CacheKey): CacheEntry<T> | undefined {
    return this.#entry<T>(this.#lru.peek(key), key);
  }

  set(key: CacheKey, value: object, storedAt = this.now()): void {
    this.#sets++;
    this.#observer?.set(kindOf(key));
    const ttl = policyOf(key, value).ttlMs - (this.now() - storedAt);
    if (ttl <= 0) return;
    const stored = { value, storedAt, bytes: estimateBytes(value) };
    this.#lru.set(key, stored, { ttl });
    // Counted once held: lru-cache refuses (and drops the key's old value for) an entry larger than its whole budget.
    if (this.#lru.peek(key) !== stored) return;
    const size = this.#sizes[kindOf(key)];
    size.entries++;
    size.bytes += stored.bytes;
  }

  extend(key: CacheKey): boolean {
    const stored = this.#lru.peek(key);
    if (!stored) return false;
    // The same value again: lru-cache disposes nothing, so the sizes stand.
    this.#lru.set(key, stored, { ttl: policyOf(key, stored.value).ttlMs / 2 });
    return true;
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
      stale: this.#stale,
      misses: this.#misses,
      sets: this.#sets,
      evictions: this.#evictions,
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      maxBytes: this.#maxBytes,
    };
  }

  #entry<T>(stored: Stored | undefined, key: CacheKey): CacheEntry<T> | undefined {
    if (!stored) return undefined;
    return { value: stored.value as T, storedAt: stored.storedAt, fresh: this.now() - stored.storedAt < policyOf(key, stored.value).freshMs };
  }

  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }> {
    const byKind = emptySizes();
    for (const kind of cacheKinds) Object.assign(byKind[kind], this.#sizes[kind]);
    return byKind;
  }
}

/** `CACHE=off`: every lookup misses, so every loader batch goes to the database. */
export class DisabledCache implements OddsCache {
  readonly enabled = false;
  #misses = 0;
  now(): number {
    return performance.now();
  }
  lookup<T>(_key: CacheKey, _degraded?: boolean, countMiss = true): CacheEntry<T> | undefined {
    if (countMiss) this.#misses++;
    return undefined;
  }
  get<T>(): T | undefined {
    this.#misses++;
    return undefined;
  }
  peek<T>(): CacheEntry<T> | undefined {
    return undefined;
  }
  set(): void {}
  extend(): boolean {
    return false;
  }
  invalidate(): void {}
  invalidateKind(): number {
    return 0;
  }
  stats(): CacheStats {
    return { hits: 0, stale: 0, misses: this.#misses, sets: 0, evictions: 0, entries: 0, bytes: 0, maxBytes: 0 };
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

/** The policy row of a key's kind, or the empty list's. */
export function policyOf(key: CacheKey, value: object): { freshMs: number; ttlMs: number } {
  return Array.isArray(value) && value.length === 0 ? emptyListPolicy : cachePolicy[kindOf(key)];
}

/**
 * Approximate heap bytes of a record: about its JSON length counted as UTF-16, plus per-object overhead.
 * Computed once per set, never on reads, by one walk: JSON.stringify costs four times as much, most of
 * it writing prices as decimals (2-5 % of the gateway's CPU while odds change).
 */
export function estimateBytes(value: object): number {
  return Math.max(1, jsonBytes(value));
}

// The estimate of each large frozen object met: records are frozen and shared (a new event odds record keeps
// its unchanged bookmakers' snapshots), so a change walks only what is new. Keyed weakly (lives as long as the
// record), and only past `memoFromBytes`: a key per market or outcome would cost the collector more than it saves.
const frozenBytes = new WeakMap<object, number>();
const memoFromBytes = 1024;

// Each part as its JSON text would count it (a number as 8 characters), objects and arrays 64 bytes more.
function jsonBytes(value: unknown): number {
  if (typeof value === 'string') return 2 * value.length + 4;
  if (typeof value !== 'object') return 16;
  if (value === null) return 8;
  if (!Object.isFrozen(value)) return walkedBytes(value);
  let bytes = frozenBytes.get(value);
  if (bytes === undefined) {
    bytes = walkedBytes(value);
    if (bytes >= memoFromBytes) frozenBytes.set(value, bytes);
  }
  return bytes;
}

function walkedBytes(value: object): number {
  let bytes = 64 + 4;
  if (Array.isArray(value)) {
    for (const item of value) bytes += jsonBytes(item) + 2;
  } else {
    // for...in: no array of keys per object (a board of records is tens of thousands of objects).
    for (const key in value) bytes += 2 * key.length + 8 + jsonBytes((value as Record<string, unknown>)[key]);
  }
  return bytes;
}
