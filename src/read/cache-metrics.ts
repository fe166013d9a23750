import type { CacheObserver } from './cache-observer.js';
import type { HitWindow } from '../ops/hit-window.js';
import type { Metrics } from '../ops/metrics.js';

/** What the gateway's cache reports: Prometheus counters, and the hit-ratio window behind `/health/cache`. */
export function cacheMetricsObserver(metrics: Metrics, hitWindow: HitWindow): CacheObserver {
  return {
    request(kind, result) {
      metrics.cacheRequest(kind, result);
      hitWindow.record(kind, result);
    },
    set: (kind) => metrics.cacheSet(kind),
    removed: (_kind, reason) => metrics.cacheEviction(reason),
  };
}
