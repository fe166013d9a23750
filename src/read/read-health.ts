import { cacheKinds } from '../domain/cache-keys.js';
import type { Database } from '../db/database.js';
import { withTimeout, type Health } from '../ops/health.js';
import type { HitWindow } from '../ops/hit-window.js';
import type { BoardIndex } from './board-index.js';
import type { Breaker } from './breaker.js';
import type { OddsCache } from './odds-cache.js';

export interface ReadHealthParts {
  db: Database;
  cache: OddsCache;
  board: BoardIndex | null;
  hitWindow: HitWindow;
  /** The breaker around every database read of the gateway. */
  databaseBreaker: Breaker;
  /** Background refreshes that failed since start. */
  refreshFailures: () => number;
  /** How long the database has to answer `SELECT 1`, in milliseconds (default 2 s). */
  databaseTimeoutMs?: number;
}

/** Registers the read side's parts on `health`: database, cache, board, breakers. */
export function addReadHealthParts(health: Health, parts: ReadHealthParts): void {
  const { db, cache, board, hitWindow, databaseBreaker, refreshFailures, databaseTimeoutMs = 2_000 } = parts;
  health.addPart('database', async () => {
    const error = await withTimeout(() => db.prisma.$queryRawUnsafe('SELECT 1'), databaseTimeoutMs, 'the database').then(
      () => undefined,
      (e: unknown) => (e as Error).message,
    );
    if (error === undefined) return { status: 'up', kind: db.kind, ready: true };
    // Without the database the gateway still serves what the cache holds; with nothing cached it can serve nothing.
    return { status: 'down', kind: db.kind, error, ready: cache.enabled && cache.stats().entries > 0 };
  });
  health.addPart('cache', () => {
    const { entries, bytes, maxBytes } = cache.stats();
    return { status: cache.enabled ? 'on' : 'off', entries, bytes, maxBytes, hitRatio5m: hitWindow.total().hitRatio };
  });
  health.addPart('board', () => (board ? { status: 'on', events: board.size } : { status: 'off' }));
  health.addPart('breakers', () => ({ status: databaseBreaker.state, database: databaseBreaker.state, refreshFailures: refreshFailures() }));
}

/** `/health/cache`: per kind of data, entries, bytes, and hits, misses, stale serves and hit ratio over the window (5 minutes). */
export function cacheDetail(cache: OddsCache, hitWindow: HitWindow): object {
  const sizes = cache.sizeByKind();
  const { entries, bytes, maxBytes } = cache.stats();
  return {
    enabled: cache.enabled,
    entries,
    bytes,
    maxBytes,
    windowSeconds: hitWindow.windowMs / 1000,
    total: hitWindow.total(),
    kinds: Object.fromEntries(cacheKinds.map((kind) => [kind, { ...sizes[kind], ...hitWindow.counts(kind) }])),
  };
}
