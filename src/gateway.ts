import { startApi, type ApiSettings, type Api } from './api/api-side.js';
import type { PersistedQueryCache } from './api/persisted-queries.js';
import type { WebSocketGuardStats } from './api/websocket-guard.js';
import { loadConfig, type Config } from './config.js';
import type { Database } from './db/database.js';
import type { OddsReader } from './db/odds-reader.js';
import { startLiveSide } from './live/live-side.js';
import type { LiveOdds } from './live/live-odds.js';
import type { LogFollower } from './live/log-follower.js';
import type { OddsBus } from './live/odds-bus.js';
import type { InProcessPubSub } from './live/pubsub.js';
import type { RecentChanges } from './live/recent-changes.js';
import { RedisOddsBus } from './live/redis-odds-bus.js';
import { addRedisPart, Health } from './ops/health.js';
import type { Logger } from './ops/log.js';
import { Metrics } from './ops/metrics.js';
import { opsEndpoints } from './ops/ops-endpoints.js';
import type { BoardIndex } from './read/board-index.js';
import type { OddsCache } from './read/odds-cache.js';
import { startReadSide } from './read/read-side.js';
import type { RedisTier } from './read/redis-tier.js';
import type { WarmUpResult } from './read/warm-up.js';

export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:4000`; GraphQL is at `${url}/graphql`. */
  url: string;
  cache: OddsCache;
  /** Null with `CACHE=off`. */
  board: BoardIndex | null;
  warmUp: WarmUpResult | null;
  /** The read side's reader (behind the gateway's database breaker). */
  reader: OddsReader;
  /** This gateway's own subscribers. */
  pubsub: InProcessPubSub;
  /** Applies odds changes from the bus to the cache, board and subscribers. */
  liveOdds: LiveOdds;
  /** Keeps them in change-log order; its position is what the cache reflects. */
  follower: LogFollower;
  /** The newest applied stretch of the change log, from which resuming subscribers are replayed. */
  recentChanges: RecentChanges;
  metrics: Metrics;
  /** `/health`, which turns 503 once `close` starts draining. */
  health: Health;
  /** What the WebSocket guard refused, since start. */
  webSocketStats: WebSocketGuardStats;
  /** Stops accepting, drains HTTP (at most `shutdownTimeoutMs`), closes WebSockets with 1001. */
  close(): Promise<void>;
}

/** Limits, errors, operations and shutdown settings; each defaults to its `loadConfig` default. */
/** The API's settings, and what the gateway itself uses: the breakers and the drain. */
type GatewaySettings = ApiSettings & Pick<Config, 'breakerFailures' | 'breakerFirstProbeMs' | 'breakerOpenMs' | 'shutdownTimeoutMs'>;

export interface GatewayOptions {
  config: Pick<Config, 'host' | 'port' | 'cache' | 'cacheMaxBytes'> & Partial<GatewaySettings>;
  db: Database;
  /** Where odds changes come from: the worker in this process, or every worker over Redis. */
  bus: OddsBus;
  /** The fleet's shared cache tier in Redis (with `REDIS_URL`), behind this gateway's own LRU. */
  sharedTier?: RedisTier | undefined;
  /** Apollo's persisted-query store in Redis (with `REDIS_URL`); absent: Apollo's in-memory one. */
  persistedQueries?: PersistedQueryCache | undefined;
  logger: Logger;
  /** This process's metrics (default: a registry of its own), shared with an ingest worker in the same process. */
  metrics?: Metrics;
  /** How often past events leave the board when no change arrives, in milliseconds (default 60 s). */
  evictEveryMs?: number;
}

/**
 * Wires the read side (cache and board, warmed before the port opens), the
 * live side (the odds bus to cache, board and subscribers), the API (HTTP
 * and WebSocket) and operations (health, metrics), and owns their close order.
 * The connections it is given (database, bus, Redis) stay the caller's to close.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { db, bus, sharedTier, persistedQueries, logger, metrics = new Metrics(), evictEveryMs } = options;
  const config = { ...loadConfig({}), ...options.config };
  const health = new Health();
  const read = await startReadSide({ config, db, sharedTier, metrics, health, logger });
  // Over Redis a worker can die between commit and publish: check the log for what no message brought.
  const logCheckEveryMs = bus instanceof RedisOddsBus ? 5_000 : 0;
  const live = startLiveSide({ bus, read, metrics, health, logger, evictEveryMs, logCheckEveryMs });
  // Up when every Redis connection this gateway has (the odds bus, the cache tier) is.
  addRedisPart(health, () => [bus instanceof RedisOddsBus ? bus.connected : undefined, sharedTier?.available]);
  const endpoints = opsEndpoints(health, metrics, read.cacheDetail);
  const api: Api = await startApi({ config, read, live, persistedQueries, endpoints, metrics, health, logger });
  const url = await api.listen(config.port, config.host);
  return {
    url,
    cache: read.cache,
    board: read.board,
    reader: read.reader,
    pubsub: live.pubsub,
    liveOdds: live.liveOdds,
    follower: live.follower,
    recentChanges: live.recentChanges,
    metrics,
    health,
    warmUp: read.warmUp,
    webSocketStats: api.webSockets.stats,
    async close() {
      health.setDraining();
      live.close();
      await api.webSockets.close();
      if (!(await api.drain(config.shutdownTimeoutMs))) logger.info(`requests still running after ${config.shutdownTimeoutMs} ms were cut off`);
      await api.stop();
    },
  };
}
