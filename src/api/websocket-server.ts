import type http from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { connectionLoggers, type Logger } from '../ops/log.js';
import type { GraphQLContext } from './context.js';
import type { LimitsProtection } from './limits.js';
import { webSocketGuard, type WebSocketGuardStats } from './websocket-guard.js';

export interface WebSocketServerOptions {
  config: Pick<Config, 'wsToken' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsMaxSubscribesPerMinute'>;
  server: http.Server;
  schema: GraphQLSchema;
  limits: LimitsProtection;
  /** The context of one subscription; `log` is bound to its connection. */
  createContext: (log: Logger) => GraphQLContext;
  logger: Logger;
}

export interface GraphQLWebSockets {
  /** What the WebSocket guard refused, since start. */
  stats: WebSocketGuardStats;
  /** Closes every socket with 1001 "going away" and stops accepting new ones. */
  close(): Promise<void>;
}

/** graphql-ws on the same port and path as HTTP, behind the WebSocket guard. */
export function startWebSockets({ config, server, schema, limits, createContext, logger }: WebSocketServerOptions): GraphQLWebSockets {
  // A WebSocket message gets the same 1 MiB bound as an HTTP body (ws closes bigger ones with 1009).
  const webSockets = new WebSocketServer({ server, path: '/graphql', maxPayload: 1024 * 1024 });
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
      context: (ctx): GraphQLContext => createContext(connectionLog(ctx.extra)),
      onClose: (ctx, code) => connectionLog(ctx.extra).debug({ code }, 'websocket closed'),
    },
    webSockets,
  );
  return {
    stats: guard.stats,
    async close() {
      // 1001 "going away" tells clients to reconnect elsewhere.
      for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
      await subscriptions.dispose();
      await new Promise<void>((resolve) => webSockets.close(() => resolve()));
    },
  };
}
