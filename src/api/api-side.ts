import type http from 'node:http';
import type { Config } from '../config.js';
import type { LiveSide } from '../live/live-side.js';
import type { Health } from '../ops/health.js';
import { listen } from '../ops/listen.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { ReadSide } from '../read/read-side.js';
import { createApollo } from './apollo.js';
import type { GraphQLContext } from './context.js';
import { createHttpServer, openConnections, type Endpoint } from './http-server.js';
import { queryLimits } from './limits.js';
import { createLoaders } from './loaders.js';
import type { PersistedQueryCache } from './persisted-queries.js';
import { createRequestReads, readOncePerRequest, trackDirectReads } from './request-reads.js';
import { ResponseCache } from './response-cache.js';
import { gatewayCsrfPrevention } from './csrf.js';
import { buildSchema } from './schema.js';
import { SharedExecutions } from './shared-execution.js';
import { createSseHandler } from './sse-server.js';
import { drainHttpServer } from './shutdown.js';
import { startWebSockets, type GraphQLWebSockets } from './websocket-server.js';

export type ApiSettings = Pick<
  Config,
  | 'adminToken'
  | 'maskErrors'
  | 'introspection'
  | 'maxQueryDepth'
  | 'maxQueryCost'
  | 'maxQueryAliases'
  | 'maxQueryDirectives'
  | 'maxQueryTokens'
  | 'executionTimeoutMs'
  | 'compiledExecution'
  | 'cache'
  | 'responseCacheMaxBytes'
  | 'wsToken'
  | 'wsInitTimeoutMs'
  | 'wsMaxSubscriptions'
  | 'wsMaxSubscribesPerMinute'
  | 'wsInFlightBytes'
  | 'wsKeepAliveMs'
  | 'httpHeadersTimeoutMs'
  | 'httpRequestTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpMaxConnections'
  | 'corsOrigins'
  | 'corsCredentials'
>;

export interface ApiOptions {
  config: ApiSettings;
  read: ReadSide;
  live: Pick<LiveSide, 'pubsub' | 'follower' | 'recentChanges'>;
  /** Apollo's persisted-query store (Redis with `REDIS_URL`); undefined: Apollo's in-memory one. */
  persistedQueries: PersistedQueryCache | undefined;
  /** Operations' paths (`/health`, `/metrics`...). */
  endpoints: Record<string, Endpoint>;
  metrics: Metrics;
  health: Health;
  logger: Logger;
}

export interface Api {
  /** What the WebSocket guard refused, since start. */
  webSockets: GraphQLWebSockets;
  /** Starts accepting; resolves to the base URL. */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting and drains HTTP (at most `timeoutMs`); false if requests had to be cut off. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops Apollo, after the drain. */
  stop(): Promise<void>;
}

/** GraphQL over HTTP (Apollo, behind the response cache) and over WebSocket (graphql-ws), on one server. */
export async function startApi({ config, read, live, persistedQueries, endpoints, metrics, health, logger }: ApiOptions): Promise<Api> {
  const schema = buildSchema();
  const limits = queryLimits({
    maxDepth: config.maxQueryDepth,
    maxCost: config.maxQueryCost,
    maxAliases: config.maxQueryAliases,
    maxDirectives: config.maxQueryDirectives,
    maxTokens: config.maxQueryTokens,
    introspection: config.introspection,
  });
  const apollo = createApollo({ config, schema, limits, persistedQueries, metrics });
  const responses = read.board
    ? new ResponseCache({
        maxBytes: config.responseCacheMaxBytes,
        boardVersion: () => read.board!.version,
        boardStableForMs: () => read.board!.stableForMs(),
        bypass: read.databaseDown,
        countCachedAnswer: (seconds) => metrics.graphqlRequest('query', seconds, []),
        csrfPrevention: gatewayCsrfPrevention,
      })
    : null;
  if (responses) {
    read.onCacheWrite({ changed: (key) => responses.invalidate(key), kindDropped: () => responses.clear() });
    metrics.observeResponseCache(responses);
    health.addPart('responses', () => ({ status: 'on', ...responses.stats() }));
  }
  const { reader, board, sharedReads } = read;
  const { pubsub, follower, recentChanges } = live;
  // Subscriptions over WebSocket and Server-Sent Events share one context: no memoising loaders across a long stream.
  const streamContext = (log: Logger): GraphQLContext => ({
    loaders: createLoaders(sharedReads, { memoize: false }),
    reader,
    board,
    pubsub,
    recentChanges,
    log,
    logPosition: follower.position,
  });
  await apollo.start();
  // One per gateway, for both transports: an update reaching subscribers of one selection is executed once.
  const sharedExecutions = new SharedExecutions();
  const httpServer: http.Server = createHttpServer({
    apollo: responses ? responses.executor(apollo) : apollo,
    logger,
    createContext: (log): GraphQLContext => {
      const logPosition = follower.position;
      if (!responses) return { loaders: createLoaders(sharedReads), reader: readOncePerRequest(reader), board, pubsub, log, logPosition };
      // What the request reads tags its cached response; a direct database read makes it uncacheable.
      const reads = createRequestReads();
      const loaders = createLoaders(sharedReads, { track: reads.keys });
      return { loaders, reader: readOncePerRequest(trackDirectReads(reader, reads, read.history)), board, pubsub, log, reads, logPosition };
    },
    admin: { token: config.adminToken, invalidate: (target) => read.invalidate(target) },
    endpoints,
    limits: {
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
      maxConnections: config.httpMaxConnections,
    },
    cors: { origins: config.corsOrigins, credentials: config.corsCredentials },
    stream: createSseHandler({
      schema,
      limits,
      token: config.wsToken,
      mask: config.maskErrors,
      metrics,
      shared: sharedExecutions,
      createContext: ({ log }) => streamContext(log),
    }),
  });
  metrics.observeHttpServer({ openConnections: () => openConnections(httpServer) });
  httpServer.on('drop', () => metrics.httpConnectionDropped());
  const webSockets = startWebSockets({
    config,
    server: httpServer,
    schema,
    limits,
    createContext: streamContext,
    shared: sharedExecutions,
    metrics,
    logger,
  });
  metrics.observeSubscriptionExecutions(() => sharedExecutions.stats());
  health.addPart('subscriptionExecutions', () => ({ status: 'on', ...sharedExecutions.stats() }));
  return {
    webSockets,
    listen: (port, host) => listen(httpServer, port, host),
    drain: async (timeoutMs) => (await drainHttpServer(httpServer, timeoutMs)).drained,
    stop: () => apollo.stop(),
  };
}
