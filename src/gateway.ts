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
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { OddsReader } from './db/odds-reader.js';
import type { GraphQLContext } from './graphql/context.js';
import { createLoaders, createSharedReads } from './graphql/loaders.js';
import { resolvers } from './graphql/resolvers.js';
import { createHttpServer, listen } from './http/server.js';
import { LiveOdds } from './pubsub/live-odds.js';
import { Breaker, guarded } from './resilience/breaker.js';
import { applyInvalidation, resolveInvalidation, type InvalidationTarget } from './cache/invalidation.js';
import type { RedisTier } from './cache/redis-tier.js';
import type { OddsBus } from './pubsub/odds-bus.js';
import { InProcessPubSub } from './pubsub/pubsub.js';

export const typeDefs = readFileSync(path.resolve(import.meta.dirname, '../schema.graphql'), 'utf8');

export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:4000`; GraphQL is at `${url}/graphql`. */
  url: string;
  cache: OddsCache;
  /** Null with `CACHE=off`. */
  board: BoardIndex | null;
  warmUp: WarmUpResult | null;
  /** The reader, for an ingest worker in the same process. */
  reader: OddsReader;
  /** This gateway's own subscribers. */
  pubsub: InProcessPubSub;
  /** Applies odds changes from the bus to the cache, board and subscribers. */
  liveOdds: LiveOdds;
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: Pick<Config, 'host' | 'port' | 'cache' | 'cacheMaxBytes'> & Partial<Pick<Config, 'breakerFailures' | 'breakerOpenMs' | 'adminToken'>>;
  db: Database;
  /** Where odds changes come from: the worker in this process, or every worker over Redis. */
  bus: OddsBus;
  /** The fleet's shared cache tier in Redis (with `REDIS_URL`), behind this gateway's own LRU. */
  sharedTier?: RedisTier | undefined;
  log?: (message: string) => void;
  /** How often past events leave the board when no change arrives, in milliseconds (default 60 s). */
  evictEveryMs?: number;
}

/** The read side: cache and board (warmed before the port opens), Apollo Server, and the HTTP server. */
export async function startGateway({ config, db, bus, sharedTier, log = console.log, evictEveryMs = 60_000 }: GatewayOptions): Promise<Gateway> {
  // Every database read of the gateway goes through one breaker: when it opens, cached data is still served.
  const databaseBreaker = new Breaker('database', { failures: config.breakerFailures, openMs: config.breakerOpenMs, log });
  const reader = guarded(new OddsReader(db.prisma), databaseBreaker);
  const cache: OddsCache = config.cache ? new LruOddsCache({ maxBytes: config.cacheMaxBytes }) : new DisabledCache();
  const board = config.cache ? new BoardIndex() : null;
  let refreshFailures = 0;
  // Without the in-process cache there is no tier to put in front of Redis either.
  const shared = config.cache ? sharedTier : undefined;
  const reads = createSharedReads(cache, reader, {
    shared,
    degraded: () => databaseBreaker.state !== 'closed',
    onRefreshFailed: (kind, ids, error) => {
      refreshFailures++;
      // While the breaker is open every refresh fails at once; the breaker has already said why.
      if (databaseBreaker.state === 'closed') log(`cache: refreshing ${ids.length} ${kind} entries failed, serving them stale a while longer: ${(error as Error).message}`);
    },
  });
  let warmed: WarmUpResult | null = null;
  if (board) {
    warmed = await warmUp(reads, reader, cache, board);
    log(
      `warmed the board in ${warmed.durationMs} ms: ${warmed.events} events (${warmed.eventsWithOdds} with odds), ` +
        `${(warmed.cacheBytes / 1024 / 1024).toFixed(1)} MiB cached`,
    );
  } else {
    log('cache off: every read goes to the database');
  }

  const pubsub = new InProcessPubSub();
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
  bus.onChange((change) => liveOdds.apply(change));
  bus.onGap(() => {
    const dropped = liveOdds.forgetOdds();
    log(`odds bus: messages may have been missed; dropped ${dropped} cached odds entries, the database will refill them`);
  });
  const evictTimer = setInterval(() => liveOdds.evictPastEvents(), evictEveryMs).unref();

  const schema = makeExecutableSchema<GraphQLContext>({ typeDefs, resolvers });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    // Apollo's default landing page loads from a CDN; GraphiQL is served from the bundle instead.
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const httpServer = createHttpServer({
    apollo,
    createContext: () => ({ loaders: createLoaders(reads), reader, board, pubsub }),
    admin: { token: config.adminToken, invalidate },
    health: async () => {
      const database = await db.prisma.$queryRawUnsafe('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      );
      const { entries, bytes, stale } = cache.stats();
      // With the database down, a warm cache still serves the board: not ready only when nothing can be served.
      const servable = database === 'up' || (cache.enabled && entries > 0);
      return {
        status: servable ? 200 : 503,
        body: {
          status: database === 'up' ? 'ok' : servable ? 'degraded' : 'unavailable',
          database: { status: database, kind: db.kind, breaker: databaseBreaker.state },
          cache: { enabled: cache.enabled, entries, bytes, staleServed: stale, refreshFailures },
          redis: sharedTier ? { status: sharedTier.available ? 'up' : 'down', failures: sharedTier.failures } : null,
          board: board ? { events: board.size } : null,
        },
      };
    },
  });
  // graphql-ws on the same port and path as HTTP.
  const webSockets = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const subscriptions = useServer<Record<string, unknown>, Record<string, unknown>>(
    {
      schema,
      context: (): GraphQLContext => ({ loaders: createLoaders(reads, { memoize: false }), reader, board, pubsub }),
    },
    webSockets,
  );
  const url = await listen(httpServer, config.port, config.host);
  return {
    url,
    cache,
    board,
    reader,
    pubsub,
    liveOdds,
    warmUp: warmed,
    async close() {
      clearInterval(evictTimer);
      // 1001 "going away" tells clients to reconnect elsewhere.
      for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
      await subscriptions.dispose();
      await new Promise<void>((resolve) => webSockets.close(() => resolve()));
      httpServer.closeIdleConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await apollo.stop();
    },
  };
}
