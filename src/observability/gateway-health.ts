import type { BoardIndex } from '../board/board-index.js';
import type { OddsCache } from '../cache/odds-cache.js';
import type { Database } from '../db/database.js';
import { withTimeout, type Health } from './health.js';
import type { HitWindow } from './hit-window.js';
import { cacheKinds } from './metrics.js';

export interface GatewayHealthParts {
  db: Database;
  cache: OddsCache;
  board: BoardIndex | null;
  hitWindow: HitWindow;
  /** `up`/`down` of the Redis connection, or undefined without `REDIS_URL`. */
  redis: () => 'up' | 'down' | undefined;
  /** When this gateway last heard an odds change on the bus (epoch ms), or undefined. */
  lastChangeAt: () => number | undefined;
  now?: () => number;
  /** How long the database has to answer `SELECT 1`, in milliseconds (default 2 s). */
  databaseTimeoutMs?: number;
}

/** Registers the gateway's parts on `health`: database, redis, cache, ingest, board. */
export function addGatewayHealthParts(health: Health, parts: GatewayHealthParts): void {
  const { db, cache, board, hitWindow, redis, lastChangeAt, now = Date.now, databaseTimeoutMs = 2_000 } = parts;
  health.addPart('database', async () => {
    const error = await withTimeout(db.prisma.$queryRawUnsafe('SELECT 1'), databaseTimeoutMs, 'the database').then(
      () => undefined,
      (e: unknown) => (e as Error).message,
    );
    if (error === undefined) return { status: 'up', kind: db.kind, ready: true };
    // Without the database the gateway still serves what the cache holds; with nothing cached it can serve nothing.
    return { status: 'down', kind: db.kind, error, ready: cache.enabled && cache.stats().entries > 0 };
  });
  health.addPart('redis', () => {
    const status = redis();
    return { status: status ?? 'not configured' };
  });
  health.addPart('cache', () => {
    const { entries, bytes, maxBytes } = cache.stats();
    return { status: cache.enabled ? 'on' : 'off', entries, bytes, maxBytes, hitRatio5m: hitWindow.total().hitRatio };
  });
  health.addPart('ingest', () => {
    const last = lastChangeAt();
    if (last === undefined) return { status: 'no change heard yet', secondsSinceLastChange: null };
    return { status: 'receiving', secondsSinceLastChange: Math.max(0, (now() - last) / 1000) };
  });
  health.addPart('board', () => (board ? { status: 'on', events: board.size } : { status: 'off' }));
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
