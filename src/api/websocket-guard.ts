import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Context, ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { Logger } from '../ops/log.js';
import type { LimitsProtection } from './limits.js';
import { operationChecker } from './operation-check.js';
import { sameSecret } from './secrets.js';

/** WebSocket close code for a connection over a per-connection limit (RFC 6455: policy violation). */
export const POLICY_VIOLATION = 1008;

export interface WebSocketGuardOptions {
  schema: GraphQLSchema;
  limits: LimitsProtection;
  /** When set, `connection_init`'s payload must carry `{ token }` equal to it; else close 4403. */
  token: string | undefined;
  /** How long a socket may wait before `connection_init`, in ms; then graphql-ws closes it with 4408. */
  initTimeoutMs: number;
  /** Active subscriptions per socket; one more closes it with 1008. */
  maxSubscriptions: number;
  /** Subscribe messages per socket per minute; one more closes it with 1008. */
  maxSubscribesPerMinute: number;
  logger: Logger;
}

/** Counts of what the guard refused, since start. */
export interface WebSocketGuardStats {
  forbidden: number;
  tooManySubscriptions: number;
  subscribeFloods: number;
  rejectedOperations: number;
}

type WsContext = Context<Record<string, unknown> | undefined, Extra>;

/**
 * graphql-ws options that keep one connection from hurting the rest: the
 * token check, the init timeout, per-socket subscription and rate limits,
 * and the same query limits as HTTP. graphql-ws itself closes a socket that
 * sends garbage (4400), subscribes before init (4401), inits twice (4429) or
 * reuses a live id (4409).
 */
export function webSocketGuard(
  options: WebSocketGuardOptions,
): { serverOptions: Partial<ServerOptions<Record<string, unknown> | undefined, Extra>>; stats: WebSocketGuardStats } {
  const stats: WebSocketGuardStats = { forbidden: 0, tooManySubscriptions: 0, subscribeFloods: 0, rejectedOperations: 0 };
  const subscribeWindows = new WeakMap<WsContext, { startedAt: number; count: number }>();
  const checkOperation = operationChecker(options.schema, options.limits);

  const refuse = (ctx: WsContext, reason: string, counter: keyof WebSocketGuardStats) => {
    stats[counter]++;
    options.logger.warn({ remoteAddress: ctx.extra.request.socket.remoteAddress, reason }, 'closing a WebSocket');
    ctx.extra.socket.close(POLICY_VIOLATION, reason);
    return [new GraphQLError(reason)];
  };

  return {
    stats,
    serverOptions: {
      connectionInitWaitTimeout: options.initTimeoutMs,
      onConnect(ctx) {
        if (options.token === undefined) return true;
        const given = ctx.connectionParams?.token;
        if (typeof given === 'string' && sameSecret(given, options.token)) return true;
        stats.forbidden++;
        return false; // graphql-ws closes with 4403 Forbidden
      },
      onSubscribe(ctx, _id, payload) {
        // graphql-ws adds the new id to ctx.subscriptions before calling this hook.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptions) {
          return refuse(ctx, `Too many subscriptions: at most ${options.maxSubscriptions} per connection`, 'tooManySubscriptions');
        }
        const now = Date.now();
        let window = subscribeWindows.get(ctx);
        if (!window || now - window.startedAt >= 60_000) subscribeWindows.set(ctx, (window = { startedAt: now, count: 0 }));
        if (++window.count > options.maxSubscribesPerMinute) {
          return refuse(ctx, `Too many subscribe messages: at most ${options.maxSubscribesPerMinute} per minute`, 'subscribeFloods');
        }
        const checked = checkOperation(payload);
        if (checked instanceof Array) stats.rejectedOperations++;
        return checked;
      },
    },
  };
}
