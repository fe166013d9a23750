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
import { createLoaders } from './graphql/loaders.js';
import { createRequestReads, invalidatingCache, ResponseCache, trackDirectReads, trackReads } from './graphql/response-cache.js';
import { resolvers } from './graphql/resolvers.js';
import { createHttpServer, listen } from './http/server.js';
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
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: Pick<Config, 'host' | 'port' | 'cache' | 'cacheMaxBytes'>;
  db: Database;
  pubsub: PubSub;
  log?: (message: string) => void;
}

/** The read side: cache and board (warmed before the port opens), Apollo Server, and the HTTP server. */
export async function startGateway({ config, db, pubsub, log = console.log }: GatewayOptions): Promise<Gateway> {
  const reader = new OddsReader(db.prisma);
  const board = config.cache ? new BoardIndex() : null;
  // Whole responses are cached only in front of the odds cache, which tells them what changed.
  const responses = board ? new ResponseCache({ boardVersion: () => board.version }) : null;
  const cache: OddsCache = responses
    ? invalidatingCache(new LruOddsCache({ maxBytes: config.cacheMaxBytes }), responses)
    : new DisabledCache();
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

  const schema = makeExecutableSchema<GraphQLContext>({ typeDefs, resolvers });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    // Apollo's default landing page loads from a CDN; GraphiQL is served from the bundle instead.
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const httpServer = createHttpServer({
    apollo: responses ? responses.executor(apollo) : apollo,
    createContext: () => {
      if (!responses) return { loaders: createLoaders({ cache, reader }), reader, board, pubsub };
      const reads = createRequestReads();
      return { loaders: createLoaders({ cache: trackReads(cache, reads), reader }), reader: trackDirectReads(reader, reads), board, pubsub, reads };
    },
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
          subscriptions: pubsub.stats(),
          responses: responses?.stats() ?? null,
        },
      };
    },
  });
  // graphql-ws on the same port and path as HTTP.
  const webSockets = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const subscriptions = useServer<Record<string, unknown>, Record<string, unknown>>(
    {
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
    async close() {
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
