import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { BoardIndex } from './board/board-index.js';
import { warmUp, type WarmUpResult } from './board/warm-up.js';
import { DisabledCache, LruOddsCache, type OddsCache } from './cache/odds-cache.js';
import { loadConfig, type Config } from './config.js';
import type { Database } from './db/database.js';
import { OddsReader } from './db/odds-reader.js';
import type { GraphQLContext } from './graphql/context.js';
import { errorReportingPlugin, formatError } from './graphql/error-reporting.js';
import { executionTimeoutPlugin, withExecutionTimeout } from './graphql/execution-timeout.js';
import { queryLimits } from './graphql/limits.js';
import { createLoaders, createSharedReads } from './graphql/loaders.js';
import { openPersistedQueryStore } from './graphql/persisted-queries.js';
import { createRequestReads, invalidatingCache, ResponseCache, trackDirectReads } from './graphql/response-cache.js';
import { resolvers } from './graphql/resolvers.js';
import { createHttpServer, listen } from './http/server.js';
import { drainHttpServer } from './http/shutdown.js';
import { webSocketGuard, type WebSocketGuardStats } from './http/websocket-guard.js';
import { cacheMetricsObserver } from './observability/cache-metrics.js';
import { addGatewayHealthParts, cacheDetail } from './observability/gateway-health.js';
import { graphqlMetricsPlugin } from './observability/graphql-metrics.js';
import { Health } from './observability/health.js';
import { HitWindow } from './observability/hit-window.js';
import { connectionLoggers, type Logger } from './observability/log.js';
import { Metrics } from './observability/metrics.js';
import { timedReader } from './observability/timed-reader.js';
import { LiveOdds } from './pubsub/live-odds.js';
import { Breaker, guarded } from './resilience/breaker.js';
import { applyInvalidation, resolveInvalidation, type InvalidationTarget } from './cache/invalidation.js';
import type { RedisTier } from './cache/redis-tier.js';
import type { OddsBus } from './pubsub/odds-bus.js';
import { InProcessPubSub } from './pubsub/pubsub.js';
import { RedisOddsBus } from './pubsub/redis-odds-bus.js';

export const typeDefs = readFileSync(path.resolve(import.meta.dirname, '../schema.graphql'), 'utf8');

export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:4000`; GraphQL is at `${url}/graphql`. */
  url: string;
  cache: OddsCache;
  /** Null with `CACHE=off`. */
  board: BoardIndex | null;
  warmUp: WarmUpResult | null;
  /** This gateway's own subscribers. */
  pubsub: InProcessPubSub;
  /** Applies odds changes from the bus to the cache, board and subscribers. */
  liveOdds: LiveOdds;
  metrics: Metrics;
  /** `/health`, which turns 503 once `close` starts draining. */
  health: Health;
  /** What the WebSocket guard refused, since start. */
  webSocketStats: WebSocketGuardStats;
  /** Stops accepting, drains HTTP (at most `shutdownTimeoutMs`), closes WebSockets with 1001. */
  close(): Promise<void>;
}

/** Limits, errors, operations and shutdown settings; each defaults to its `loadConfig` default. */
type GatewaySettings = Pick<
  Config,
  | 'redisUrl'
  | 'redisPrefix'
  | 'breakerFailures'
  | 'breakerFirstProbeMs'
  | 'breakerOpenMs'
  | 'adminToken'
  | 'maskErrors'
  | 'introspection'
  | 'maxQueryDepth'
  | 'maxQueryCost'
  | 'maxQueryAliases'
  | 'maxQueryDirectives'
  | 'maxQueryTokens'
  | 'executionTimeoutMs'
  | 'wsToken'
  | 'wsInitTimeoutMs'
  | 'wsMaxSubscriptions'
  | 'wsMaxSubscribesPerMinute'
  | 'shutdownTimeoutMs'
>;

export interface GatewayOptions {
  config: Pick<Config, 'host' | 'port' | 'cache' | 'cacheMaxBytes'> & Partial<GatewaySettings>;
  db: Database;
  /** Where odds changes come from: the worker in this process, or every worker over Redis. */
  bus: OddsBus;
  /** The fleet's shared cache tier in Redis (with `REDIS_URL`), behind this gateway's own LRU. */
  sharedTier?: RedisTier | undefined;
  logger: Logger;
  /** This process's metrics (default: a registry of its own), shared with an ingest worker in the same process. */
  metrics?: Metrics;
  /** How often past events leave the board when no change arrives, in milliseconds (default 60 s). */
  evictEveryMs?: number;
}

/** The read side: cache and board (warmed before the port opens), Apollo Server, and the HTTP server. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { db, bus, sharedTier, logger, metrics = new Metrics(), evictEveryMs = 60_000 } = options;
  const config = { ...loadConfig({}), ...options.config };
  const log = (message: string) => logger.info(message);
  // Every database read of the gateway goes through one breaker: when it opens, cached data is still served.
  metrics.setBreakerState('database', 'closed');
  const databaseBreaker = new Breaker('database', {
    failures: config.breakerFailures,
    firstProbeMs: config.breakerFirstProbeMs,
    openMs: config.breakerOpenMs,
    log: (message) => logger.warn(message),
    onStateChange: (state) => metrics.setBreakerState('database', state),
  });
  const reader = guarded(new OddsReader(db.prisma), databaseBreaker);
  const databaseDown = () => databaseBreaker.state !== 'closed';
  const hitWindow = new HitWindow();
  const observer = cacheMetricsObserver(metrics, hitWindow);
  const board = config.cache ? new BoardIndex() : null;
  // Whole responses are cached only in front of the odds cache, whose every write tells them what changed.
  const responses = board
    ? new ResponseCache({ boardVersion: () => board.version, bypass: databaseDown })
    : null;
  const cache: OddsCache = responses
    ? invalidatingCache(new LruOddsCache({ maxBytes: config.cacheMaxBytes, observer }), responses)
    : new DisabledCache();
  const loaderReader = timedReader(reader, (kind, seconds) => metrics.cacheLoad(kind, seconds));
  let refreshFailures = 0;
  // Without the in-process cache there is no tier to put in front of Redis either.
  const shared = config.cache ? sharedTier : undefined;
  if (sharedTier) metrics.observeRedisTier(sharedTier);
  const sharedReads = createSharedReads(cache, loaderReader, {
    shared,
    degraded: databaseDown,
    onRefreshFailed: (kind, ids, error) => {
      refreshFailures++;
      metrics.cacheRefreshFailed(kind, ids.length);
      // While the breaker is open every refresh fails at once; the breaker has already said why.
      if (!databaseDown()) log(`cache: refreshing ${ids.length} ${kind} entries failed, serving them stale a while longer: ${(error as Error).message}`);
    },
  });
  let warmed: WarmUpResult | null = null;
  if (board) {
    warmed = await warmUp(sharedReads, reader, cache, board);
    log(
      `warmed the board in ${warmed.durationMs} ms: ${warmed.events} events (${warmed.eventsWithOdds} with odds), ` +
        `${(warmed.cacheBytes / 1024 / 1024).toFixed(1)} MiB cached`,
    );
  } else {
    log('cache off: every read goes to the database');
  }

  const pubsub = new InProcessPubSub();
  metrics.observeCache(cache);
  metrics.observePubSub(pubsub);
  const liveOdds = new LiveOdds({ cache, board, pubsub, shared });
  shared?.onInvalidation((invalidation) => applyInvalidation(invalidation, cache));
  const invalidate = async (target: InvalidationTarget) => {
    const invalidation = await resolveInvalidation(target, db.prisma);
    // With Redis every instance hears it (this one included); without, only this one has a cache to clear.
    const dropped = applyInvalidation(invalidation, cache);
    if (shared) await shared.invalidate(invalidation);
    log(`admin: invalidated ${JSON.stringify(target)}: ${dropped} entries here${shared ? ', and on every instance' : ''}`);
    return { keys: invalidation.keys.length, kinds: invalidation.kinds, dropped, fleet: shared !== undefined };
  };
  let lastChangeAt: number | undefined;
  bus.onChange((change) => {
    lastChangeAt = Date.now();
    liveOdds.apply(change);
  });
  bus.onGap(() => {
    const dropped = liveOdds.forgetOdds();
    log(`odds bus: messages may have been missed; dropped ${dropped} cached odds entries, the database will refill them`);
  });
  const evictTimer = setInterval(() => liveOdds.evictPastEvents(), evictEveryMs).unref();

  const schema = withExecutionTimeout(makeExecutableSchema<GraphQLContext>({ typeDefs, resolvers }));
  const limits = queryLimits({
    maxDepth: config.maxQueryDepth,
    maxCost: config.maxQueryCost,
    maxAliases: config.maxQueryAliases,
    maxDirectives: config.maxQueryDirectives,
    maxTokens: config.maxQueryTokens,
    hideSuggestions: !config.introspection,
  });
  const persistedQueries = openPersistedQueryStore(config.redisUrl, { prefix: config.redisPrefix, log });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    persistedQueries: { cache: persistedQueries.cache },
    csrfPrevention: true,
    formatError,
    includeStacktraceInErrorResponses: !config.maskErrors,
    // main.ts owns SIGTERM: Apollo's own handler would stop it before HTTP drains, then re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      // Apollo's default landing page loads from a CDN; GraphiQL is served from the bundle instead.
      ApolloServerPluginLandingPageDisabled(),
      ...limits.plugins,
      errorReportingPlugin({ mask: config.maskErrors, log: (message) => logger.error(message) }),
      executionTimeoutPlugin(config.executionTimeoutMs),
      graphqlMetricsPlugin(metrics),
    ],
  });
  const health = new Health();
  addGatewayHealthParts(health, {
    db,
    cache,
    board,
    hitWindow,
    redis: () => {
      // Up when every Redis connection this gateway has (the odds bus, the cache tier) is.
      const connections = [bus instanceof RedisOddsBus ? bus.connected : undefined, sharedTier?.available].filter((c) => c !== undefined);
      if (connections.length === 0) return undefined;
      return connections.every(Boolean) ? 'up' : 'down';
    },
    lastChangeAt: () => lastChangeAt,
  });
  health.addPart('subscriptions', () => ({ status: 'on', ...pubsub.stats() }));
  if (responses) health.addPart('responses', () => ({ status: 'on', ...responses.stats() }));
  health.addPart('breakers', () => ({ status: databaseBreaker.state, database: databaseBreaker.state, refreshFailures }));
  await apollo.start();
  const httpServer = createHttpServer({
    apollo: responses ? responses.executor(apollo) : apollo,
    logger,
    createContext: (log) => {
      if (!responses) return { loaders: createLoaders(sharedReads), reader, board, pubsub, log };
      // What the request reads tags its cached response; a direct database read makes it uncacheable.
      const reads = createRequestReads();
      return { loaders: createLoaders(sharedReads, { track: reads.keys }), reader: trackDirectReads(reader, reads), board, pubsub, log, reads };
    },
    admin: { token: config.adminToken, invalidate },
    endpoints: {
      '/health': async () => {
        const { httpStatus, body } = await health.report();
        return { status: httpStatus, body };
      },
      '/health/cache': async () => ({ status: 200, body: cacheDetail(cache, hitWindow) }),
      '/metrics': async () => {
        const { contentType, body } = await metrics.scrape();
        return { status: 200, text: body, contentType };
      },
    },
  });
  // graphql-ws on the same port and path as HTTP.
  // A WebSocket message gets the same 1 MiB bound as an HTTP body (ws closes bigger ones with 1009).
  const webSockets = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1024 * 1024 });
  const guard = webSocketGuard({
    schema,
    limits,
    token: config.wsToken,
    initTimeoutMs: config.wsInitTimeoutMs,
    maxSubscriptions: config.wsMaxSubscriptions,
    maxSubscribesPerMinute: config.wsMaxSubscribesPerMinute,
    log: (message) => logger.warn(message),
  });
  const connectionLog = connectionLoggers(logger);
  const subscriptions = useServer<Record<string, unknown> | undefined>(
    {
      ...guard.serverOptions,
      schema,
      context: (ctx): GraphQLContext => ({
        loaders: createLoaders(sharedReads, { memoize: false }),
        reader,
        board,
        pubsub,
        log: connectionLog(ctx.extra),
      }),
      onClose: (ctx, code) => connectionLog(ctx.extra).debug({ code }, 'websocket closed'),
    },
    webSockets,
  );
  const url = await listen(httpServer, config.port, config.host);
  return {
    url,
    cache,
    board,
    pubsub,
    liveOdds,
    metrics,
    health,
    warmUp: warmed,
    webSocketStats: guard.stats,
    async close() {
      health.setDraining();
      clearInterval(evictTimer);
      // 1001 "going away" tells clients to reconnect elsewhere.
      for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
      await subscriptions.dispose();
      await new Promise<void>((resolve) => webSockets.close(() => resolve()));
      const { drained } = await drainHttpServer(httpServer, config.shutdownTimeoutMs);
      if (!drained) log(`requests still running after ${config.shutdownTimeoutMs} ms were cut off`);
      await apollo.stop();
      await persistedQueries.close();
    },
  };
}
