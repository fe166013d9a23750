import type { CacheKey, CacheKind } from '../domain/cache-keys.js';
import type { OddsCache } from './odds-cache.js';

/** Told of every write to the shared cache after it lands (the response cache, which must not serve what changed). */
export interface CacheWriteListener {
  /** The entry `key` was replaced or dropped. */
  changed(key: CacheKey): void;
  /** Every entry of `kind` was dropped. */
  kindDropped(kind: CacheKind): void;
}

/** `cache`, telling its listeners of every write after it lands: the single point where a change becomes visible. */
export function notifyingCache(cache: OddsCache): { cache: OddsCache; onWrite(listener: CacheWriteListener): void } {
  const listeners: CacheWriteListener[] = [];
  const notifying: OddsCache = {
    enabled: cache.enabled,
    now: () => cache.now(),
    lookup: (key, degraded, countMiss) => cache.lookup(key, degraded, countMiss),
    get: (key) => cache.get(key),
    peek: (key) => cache.peek(key),
    set(key, value, storedAt) {
      cache.set(key, value, storedAt);
      for (const listener of listeners) listener.changed(key);
    },
    // The value stays the same, only its life is longer.
    extend: (key) => cache.extend(key),
    invalidate(key) {
      cache.invalidate(key);
      for (const listener of listeners) listener.changed(key);
    },
    invalidateKind(kind) {
      const dropped = cache.invalidateKind(kind);
      for (const listener of listeners) listener.kindDropped(kind);
      return dropped;
    },
    stats: () => cache.stats(),
    sizeByKind: () => cache.sizeByKind(),
  };
  return { cache: notifying, onWrite: (listener) => listeners.push(listener) };
}
