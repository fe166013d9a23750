import { Redis } from 'ioredis';
import type { Logger } from '../ops/log.js';

export interface RedisConnectionOptions {
  /** Shown in Redis' CLIENT LIST and in our log lines. */
  name: string;
  /**
   * Queue commands while disconnected and send them on reconnect (a
   * subscriber's SUBSCRIBE), or fail them at once (a publisher, a cache
   * read: their callers have a fallback and must not wait).
   */
  queueWhileDisconnected: boolean;
  logger: Logger;
  /** For a connection that does not queue: how long a command may wait for Redis' answer (default 1,000 ms). */
  commandTimeoutMs?: number;
}

/**
 * One connection to `REDIS_URL` that keeps reconnecting (backing off to
 * 2 s) and logs when it is lost and when it is back, once each, not on
 * every retry.
 */
export function connectRedis(url: string, { name, queueWhileDisconnected, logger, commandTimeoutMs = 1_000 }: RedisConnectionOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: queueWhileDisconnected,
    maxRetriesPerRequest: queueWhileDisconnected ? null : 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    // A caller with a fallback must not wait long on a Redis that stopped answering.
    ...(!queueWhileDisconnected && { commandTimeout: commandTimeoutMs }),
  });
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ redis: name, err: error }, 'redis connection lost; retrying');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info({ redis: name }, 'redis connected again');
  });
  return redis;
}
