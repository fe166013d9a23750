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
import { createLoaders } from './graphql/loaders.js';
import { openPersistedQueryStore } from './graphql/persisted-queries.js';
import { resolvers } from './graphql/resolvers.js';
import { createHttpServer, listen } from './http/server.js';
import { drainHttpServer } from './http/shutdown.js';
import { webSocketGuard, type WebSocketGuardStats } from './http/websocket-guard.js';
import type { PubSub } from './pubsub/pubsub.js';

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
  /** What the WebSocket guard refused, since start. */
  webSocketStats: WebSocketGuardStats;
  /** Stops accepting, drains HTTP (at most `shutdownTimeoutMs`), closes WebSockets with 1001. */
  close(): Promise<void>;
}

/** Limits, errors and shutdown settings; each defaults to its `loadConfig` default. */
type HardeningConfig = Pick<
  Config,
  | 'redisUrl'
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
  config: Pick<Config, 'host' | 'port' | 'cache' | 'cacheMaxBytes'> & Partial<HardeningConfig>;
  db: Database;
  pubsub: PubSub;
  log?: (message: string) => void;
}

/** The read side: cache and board (warmed before the port opens), Apollo Server, and the HTTP server. */
export async function startGateway({ config: given, db, pubsub, log = console.log }: GatewayOptions): Promise<Gateway> {
  const config = { ...loadConfig({}), ...given };
  const reader = new OddsReader(db.prisma);
  const cache: OddsCache = config.cache ? new LruOddsCache({ maxBytes: config.cacheMaxBytes }) : new DisabledCache();
  const board = config.cache ? new BoardIndex() : null;
  let warmed: WarmUpResult | null = null;
  if (board) {
    warmed = await warmUp(reader, cache, board);
    log(
      `warmed the board in ${warmed.durationMs} ms: ${warmed.events} events (${warmed.eventsWithOdds} with odds), ` +
        `${(warmed.cacheBytes / 1024 / 1024).toFixed(1)} MiB cached`,
    );
  } else {
    log('cache off: every read goes to the database');
  }

  const schema = withExecutionTimeout(makeExecutableSchema<GraphQLContext>({ typeDefs, resolvers }));
  const limits = queryLimits({
    maxDepth: config.maxQueryDepth,
    maxCost: config.maxQueryCost,
    maxAliases: config.maxQueryAliases,
    maxDirectives: config.maxQueryDirectives,
    maxTokens: config.maxQueryTokens,
    hideSuggestions: !config.introspection,
  });
  const persistedQueries = openPersistedQueryStore(config.redisUrl, { log });
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
      errorReportingPlugin({ mask: config.maskErrors, log }),
      executionTimeoutPlugin(config.executionTimeoutMs),
    ],
  });
  await apollo.start();
  const httpServer = createHttpServer({
    apollo,
    createContext: () => ({ loaders: createLoaders({ cache, reader }), reader, board, pubsub }),
    health: async () => {
      const database = await db.prisma.$queryRawUnsafe('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      );
      const { entries, bytes } = cache.stats();
      return {
        status: database === 'up' ? 200 : 503,
        body: {
          status: database === 'up' ? 'ok' : 'degraded',
          database: { status: database, kind: db.kind },
          cache: { enabled: cache.enabled, entries, bytes },
          board: board ? { events: board.size } : null,
        },
      };
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
    log,
  });
  const subscriptions = useServer<Record<string, unknown> | undefined>(
    {
      ...guard.serverOptions,
      schema,
      context: (): GraphQLContext => ({ loaders: createLoaders({ cache, reader }, { memoize: false }), reader, board, pubsub }),
    },
    webSockets,
  );
  const url = await listen(httpServer, config.port, config.host);
  return {
    url,
    cache,
    board,
    reader,
    warmUp: warmed,
    webSocketStats: guard.stats,
    async close() {
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
