import { type CacheKind } from '../domain/cache-keys.js';

/**
 * What a cache tells whoever counts (metrics, the hit-ratio window), so the
 * cache itself stays free of metric code. Called on the read path: keep
 * implementations O(1) and allocation-free.
 */
export interface CacheObserver {
  /** One lookup: `stale` is a value served past its soft TTL. */
  request(kind: CacheKind, result: 'hit' | 'miss' | 'stale'): void;
  set(kind: CacheKind): void;
  /** An entry left the cache; `reason` is lru-cache's dispose reason. */
  removed(kind: CacheKind, reason: 'evict' | 'expire' | 'delete' | 'set' | 'fetch'): void;
}
