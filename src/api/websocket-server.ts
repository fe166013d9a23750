import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { connections, type Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { GraphQLContext } from './context.js';
import type { LimitsProtection } from './limits.js';
import { webSocketPipeline } from './operation-pipeline.js';
import { acknowledgedSends } from './acknowledged-sends.js';
import { startHeartbeat } from './heartbeat.js';
import type { SharedExecutions } from './shared-execution.js';
import { sendSharedPayloads } from './shared-payload.js';
import { webSocketGuard, type WebSocketGuardStats } from './websocket-guard.js';

export interface WebSocketServerOptions {
  config: Pick<Config, 'maskErrors' | 'wsToken' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsMaxSubscribesPerMinute' | 'wsInFlightBytes' | 'wsKeepAliveMs'>;
  server: http.Server;
  schema: GraphQLSchema;
  limits: LimitsProtection;
  /** The context of one subscription; `log` is bound to its connection. */
  createContext: (log: Logger) => GraphQLContext;
  /** Executes each update once per selection, for every transport's subscribers. */
  shared: SharedExecutions;
  metrics: Metrics;
  logger: Logger;
}

export interface GraphQLWebSockets {
  /** What the WebSocket guard refused, since start. */
  stats: WebSocketGuardStats;
  /** Closes every socket with 1001 "going away" and stops accepting new ones. */
  close(): Promise<void>;
}

/** graphql-ws on the same port and path as HTTP, behind the WebSocket guard and through the operation pipeline. */
export function startWebSockets({ config, server, schema, limits, createContext, shared, metrics, logger }: WebSocketServerOptions): GraphQLWebSockets {
  // A WebSocket message gets the same 1 MiB bound as an HTTP body (ws closes bigger ones with 1009).
  // noServer: the HTTP server's own errors (a port in use) stay its own, not graphql-ws's "internal error".
  const webSockets = new WebSocketServer({ noServer: true, path: '/graphql', maxPayload: 1024 * 1024 });
  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
    webSockets.handleUpgrade(req, socket, head, (ws) => webSockets.emit('connection', ws, req));
  server.on('upgrade', upgrade);
  // Before graphql-ws's own listener: its sends go through the splice of shared answers, and complete
  // once the client has read (nearly) all that was sent before.
  webSockets.on('connection', (socket) => {
    acknowledgedSends(socket, config.wsInFlightBytes);
    sendSharedPayloads(socket);
  });
  const guard = webSocketGuard({
    schema,
    limits,
    token: config.wsToken,
    initTimeoutMs: config.wsInitTimeoutMs,
    maxSubscriptions: config.wsMaxSubscriptions,
    maxSubscribesPerMinute: config.wsMaxSubscribesPerMinute,
    logger,
  });
  const connection = connections(logger);
  const { started, ...pipeline } = webSocketPipeline({ mask: config.maskErrors, metrics }, (ctx) => connection(ctx.extra as Extra));
  const subscriptions = useServer<Record<string, unknown> | undefined>(
    {
      ...guard.serverOptions,
      ...pipeline,
      onSubscribe(ctx, id, payload) {
        started(ctx, id);
        return guard.serverOptions.onSubscribe!(ctx, id, payload);
      },
      schema,
      subscribe: (args) => shared.subscribe(args),
      context: (ctx): GraphQLContext => createContext(connection(ctx.extra).log),
      onClose: (ctx, code) => connection(ctx.extra).log.debug({ code }, 'websocket closed'),
    },
    webSockets,
    // Off: one timer for every socket instead (src/api/heartbeat.ts).
    0,
  );
  const heartbeat = startHeartbeat(webSockets, config.wsKeepAliveMs);
  // ws emits 'error' on a server socket only for what its client sent wrong (a message over maxPayload, a bad
  // frame, invalid UTF-8), having already begun closing it with the code that says so (1009, 1002, 1007).
  // graphql-ws's listener, added in its own 'connection' listener just before this one, prints each to stderr as
  // an "internal error" and asks for 1011: ours logs it as the client's doing.
  webSockets.on('connection', (socket, req) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => {
      logger.warn({ remoteAddress: req.socket.remoteAddress, reason: error.message, wsError: error.code }, 'closing a WebSocket');
    });
  });
  return {
    stats: guard.stats,
    // graphql-ws closes every socket with 1001 "Going away" and then the server: once, here.
    close: async () => {
      server.off('upgrade', upgrade);
      heartbeat.stop();
      await subscriptions.dispose();
    },
  };
}
