import type { PersistedQueryOptions } from '@apollo/server';
import type { Redis } from 'ioredis';
import type { Logger } from '../ops/log.js';
import { connectRedis } from '../redis/connect.js';
import { redisNames } from '../redis/names.js';

/** Apollo's `KeyValueCache<string>`, as its persisted-query option takes it. */
export type PersistedQueryCache = NonNullable<PersistedQueryOptions['cache']>;

/**
 * Automatic persisted queries' store in Redis, under `oddsgate:` (Apollo adds
 * `apq:`, so keys read `oddsgate:apq:<sha256>`). Redis is an optimisation
 * here, never a dependency: a failed or slow read is a miss (the client
 * resends the full query) and a failed write is dropped.
 */
export class RedisQueryCache implements PersistedQueryCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(redis: Redis, options: { prefix?: string; logger: Logger }) {
    this.#redis = redis;
    this.#prefix = redisNames(options.prefix).persistedQueries;
    this.#logger = options.logger;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.#redis.get(this.#prefix + key)) ?? undefined;
    } catch (error) {
      this.#logger.warn({ err: error }, 'persisted query read failed, answering as a miss');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    try {
      // Apollo's ttl is in seconds; null or absent keeps the query until Redis evicts it.
      if (options?.ttl) await this.#redis.set(this.#prefix + key, value, 'EX', options.ttl);
      else await this.#redis.set(this.#prefix + key, value);
    } catch (error) {
      this.#logger.warn({ err: error }, 'persisted query not stored');
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.#redis.del(this.#prefix + key)) > 0;
    } catch {
      return false;
    }
  }
}

export interface PersistedQueryStore {
  /** Undefined: Apollo's own in-memory store. */
  cache: PersistedQueryCache | undefined;
  close(): Promise<void>;
}

/** Redis when `redisUrl` is set, else Apollo's in-memory LRU. */
export function openPersistedQueryStore(
  redisUrl: string | undefined,
  options: { prefix?: string; logger: Logger },
): PersistedQueryStore {
  if (!redisUrl) return { cache: undefined, close: async () => {} };
  // Fails fast while Redis is away instead of queueing: the request goes on without its stored query.
  const redis = connectRedis(redisUrl, {
    name: redisNames(options.prefix).connections.persistedQueries,
    queueWhileDisconnected: false,
    commandTimeoutMs: 500,
    logger: options.logger,
  });
  return {
    cache: new RedisQueryCache(redis, options),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
