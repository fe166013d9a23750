import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { OddsReader } from '../db/odds-reader.js';
import type { Health } from '../ops/health.js';
import { HitWindow } from '../ops/hit-window.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import { BoardIndex } from './board-index.js';
import { Breaker, guarded } from './breaker.js';
import { cacheMetricsObserver } from './cache-metrics.js';
import { notifyingCache, type CacheWriteListener } from './cache-writes.js';
import { applyInvalidation, resolveInvalidation, type InvalidationTarget } from './invalidation.js';
import { DisabledCache, LruOddsCache, type OddsCache } from './odds-cache.js';
import { HistoryCache } from './history-cache.js';
import { addReadHealthParts, cacheDetail } from './read-health.js';
import type { RedisTier } from './redis-tier.js';
import { createSharedReads, type SharedReads } from './shared-reads.js';
import { timedReader } from './timed-reader.js';
import { warmUp, type WarmUpResult } from './warm-up.js';

export interface ReadSideOptions {
  config: Pick<Config, 'cache' | 'cacheMaxBytes' | 'historyCacheMaxBytes' | 'breakerFailures' | 'breakerFirstProbeMs' | 'breakerOpenMs'>;
  db: Database;
  /** The fleet's shared cache tier in Redis (with `REDIS_URL`), behind this gateway's own LRU. */
  sharedTier?: RedisTier | undefined;
  metrics: Metrics;
  health: Health;
  logger: Logger;
}

/** The read side as the other parts use it. */
export interface ReadSide {
  /** The database reader, behind the database's breaker. */
  reader: OddsReader;
  cache: OddsCache;
  /** Null with `CACHE=off`. */
  board: BoardIndex | null;
  /** The fleet's tier; undefined without Redis or with `CACHE=off` (no tier to put in front of it). */
  shared: RedisTier | undefined;
  sharedReads: SharedReads;
  /** Events' odds history from memory; null with `CACHE=off`. */
  history: HistoryCache | null;
  warmUp: WarmUpResult | null;
  /** The change-log position the cache reflects at least, read before the warm-up (0 when the database could not say). */
  logPosition: bigint;
  /** True while the database's breaker is not closed. */
  databaseDown(): boolean;
  /** Adds a listener told of every cache write (the response cache). */
  onCacheWrite(listener: CacheWriteListener): void;
  /** Drops a target from this instance's cache and, with Redis, from every instance's. */
  invalidate(target: InvalidationTarget): Promise<{ keys: number; kinds: string[]; dropped: number; fleet: boolean }>;
  /** `/health/cache`. */
  cacheDetail(): object;
}

/** Breaker, reader, cache (warmed from the database before this resolves), board and shared reads. */
export async function startReadSide({ config, db, sharedTier, metrics, health, logger }: ReadSideOptions): Promise<ReadSide> {
  // Every database read of the gateway goes through one breaker: when it opens, cached data is still served.
  metrics.setBreakerState('database', 'closed');
  const databaseBreaker = new Breaker('database', {
    failures: config.breakerFailures,
    firstProbeMs: config.breakerFirstProbeMs,
    openMs: config.breakerOpenMs,
    probe: () => db.prisma.$queryRawUnsafe('SELECT 1'),
    logger,
    onStateChange: (state) => metrics.setBreakerState('database', state),
  });
  const reader = guarded(new OddsReader(db.prisma, undefined, db.query), databaseBreaker);
  const databaseDown = () => databaseBreaker.state !== 'closed';
  const hitWindow = new HitWindow();
  const board = config.cache ? new BoardIndex() : null;
  const writes = board
    ? notifyingCache(new LruOddsCache({ maxBytes: config.cacheMaxBytes, observer: cacheMetricsObserver(metrics, hitWindow) }))
    : { cache: new DisabledCache(), onWrite: () => {} };
  const { cache } = writes;
  // Without the in-process cache there is no tier to put in front of Redis either.
  const shared = config.cache ? sharedTier : undefined;
  if (sharedTier) metrics.observeRedisTier(sharedTier);
  let refreshFailures = 0;
  const sharedReads = createSharedReads(cache, timedReader(reader, (kind, seconds) => metrics.cacheLoad(kind, seconds)), {
    shared,
    degraded: databaseDown,
    onRefreshFailed: (kind, ids, error) => {
      refreshFailures++;
      metrics.cacheRefreshFailed(kind, ids.length);
      // While the breaker is open every refresh fails at once; the breaker has already said why.
      if (!databaseDown()) logger.warn({ kind, entries: ids.length, err: error }, 'cache refresh failed, serving the entries stale a while longer');
    },
  });
  // Read before the warm-up: the live side applies every change after it, so one committed during the warm-up is not missed.
  const logPosition = await reader.logBounds().then(
    ({ newest }) => newest ?? 0n,
    () => 0n,
  );
  const warmed = board ? await warmUp(sharedReads, reader, cache, board) : null;
  logWarmUp(warmed, logger);
  metrics.observeCache(cache);
  shared?.onInvalidation((invalidation) => {
    applyInvalidation(invalidation, cache);
    // Every event dropped (a reseed, or an operator's `{"kind": "Event"}`): the board's records are as stale.
    if (board && invalidation.kinds.includes('Event')) {
      warmUp(sharedReads, reader, cache, board).then(
        (result) => logger.info({ ms: result.durationMs, events: result.events }, 'every event invalidated: warmed the board again'),
        (error: unknown) => logger.warn({ err: error }, 'every event invalidated: warming the board again failed'),
      );
    }
  });
  addReadHealthParts(health, { db, cache, board, hitWindow, databaseBreaker, refreshFailures: () => refreshFailures });
  const history = board ? historyFollowing(writes.onWrite, new HistoryCache({ reader, maxBytes: config.historyCacheMaxBytes })) : null;
  if (history) health.addPart('history', () => ({ status: 'on', ...history.stats() }));
  return {
    reader,
    cache,
    board,
    shared,
    sharedReads,
    history,
    warmUp: warmed,
    logPosition,
    databaseDown,
    onCacheWrite: writes.onWrite,
    invalidate: (target) => invalidate(target, { db, cache, shared, logger }),
    cacheDetail: () => cacheDetail(cache, hitWindow),
  };
}

/** New snapshots of an event come with a write of its odds: that event's history window goes. */
function historyFollowing(onWrite: (listener: CacheWriteListener) => void, history: HistoryCache): HistoryCache {
  const eventOdds = 'EventOdds:';
  onWrite({
    changed: (key) => {
      if (key.startsWith(eventOdds)) history.changed(Number(key.slice(eventOdds.length)));
    },
    kindDropped: (kind) => {
      if (kind === 'EventOdds') history.clear();
    },
  });
  return history;
}

function logWarmUp(warmed: WarmUpResult | null, logger: Logger): void {
  if (!warmed) return logger.info('cache off: every read goes to the database');
  logger.info(
    `warmed the board in ${warmed.durationMs} ms: ${warmed.events} events (${warmed.eventsWithOdds} with odds), ` +
      `${(warmed.cacheBytes / 1024 / 1024).toFixed(1)} MiB cached`,
  );
}

/** An operator's invalidation: dropped here, and with Redis from the fleet's tier and every instance's own. */
async function invalidate(
  target: InvalidationTarget,
  { db, cache, shared, logger }: { db: Database; cache: OddsCache; shared: RedisTier | undefined; logger: Logger },
): Promise<{ keys: number; kinds: string[]; dropped: number; fleet: boolean }> {
  const invalidation = await resolveInvalidation(target, db.prisma);
  // With Redis every instance hears it (this one included); without, only this one has a cache to clear.
  const dropped = applyInvalidation(invalidation, cache);
  if (shared) await shared.invalidate(invalidation);
  logger.info({ target, dropped, fleet: shared !== undefined }, 'admin: invalidated');
  return { keys: invalidation.keys.length, kinds: invalidation.kinds, dropped, fleet: shared !== undefined };
}
