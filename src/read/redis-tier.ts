import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { deepFreeze } from '../domain/records.js';
import { cacheKinds, type CacheKey } from '../domain/cache-keys.js';
import type { Logger } from '../ops/log.js';
import { RedisChannel } from '../redis/channel.js';
import { connectRedis } from '../redis/connect.js';
import { redisNames } from '../redis/names.js';
import { invalidationMessage, type Invalidation } from './invalidation.js';
import { policyOf } from './odds-cache.js';

/** An entry as the fleet shares it: the value and its age. */
export interface SharedEntry {
  value: object;
  /** Milliseconds since it was read from the database (or published by a worker). */
  ageMs: number;
}

export interface RedisTierOptions {
  url: string;
  prefix?: string;
  logger: Logger;
}

/**
 * The fleet's second cache tier, behind each gateway's in-process LRU:
 * values as JSON with the wall-clock time they were stored, expiring with
 * their kind's lifetime. Every call degrades instead of failing: with Redis
 * away a read is a miss and a write is skipped (counted in `failures`), and
 * the gateway carries on with its own tier and the database. A worker only
 * writes (it does not `start`); a gateway also hears invalidations.
 */
export class RedisTier {
  failures = 0;
  readonly #redis: Redis;
  readonly #url: string;
  readonly #names: ReturnType<typeof redisNames>;
  readonly #logger: Logger;
  #invalidations: RedisChannel<Invalidation> | undefined;
  readonly #listeners: Array<(invalidation: Invalidation) => void> = [];

  constructor({ url, prefix, logger }: RedisTierOptions) {
    this.#url = url;
    this.#names = redisNames(prefix);
    this.#logger = logger;
    this.#redis = connectRedis(url, { name: this.#names.connections.cache, queueWhileDisconnected: false, logger });
  }

  /**
   * Subscribes to the fleet's invalidations. A gap in them (Redis lost the
   * connection meanwhile) may have hidden any invalidation, so listeners
   * then hear one that drops every kind: the entries come back from Redis
   * and the database, never stale past an admin's invalidation.
   */
  async start(): Promise<void> {
    const channel = new RedisChannel({
      url: this.#url,
      channel: this.#names.invalidations,
      connectionName: this.#names.connections.invalidations,
      logger: this.#logger,
      decode: (json) => invalidationMessage.parse(json),
    });
    channel.onMessage((invalidation) => this.#deliver(invalidation));
    channel.onGap(() => {
      this.#logger.warn('cache invalidations: messages may have been missed; dropping every cached entry here');
      this.#deliver({ keys: [], kinds: [...cacheKinds] });
    });
    this.#invalidations = channel;
    await channel.start();
  }

  get available(): boolean {
    return this.#redis.status === 'ready';
  }

  /** One MGET for a loader batch; a key Redis lacks (or cannot answer for) is undefined. */
  async getMany(keys: readonly CacheKey[]): Promise<Array<SharedEntry | undefined>> {
    if (keys.length === 0) return [];
    try {
      const raw = await this.#redis.mget(keys.map((key) => this.#names.cacheKeys + key));
      const now = Date.now();
      return raw.map((json) => {
        if (json === null) return undefined;
        const { v, t } = JSON.parse(json) as { v: object; t: number };
        return { value: deepFreeze(v), ageMs: Math.max(0, now - t) };
      });
    } catch {
      this.failures++;
      return keys.map(() => undefined);
    }
  }

  /** Stores entries for the fleet, in one round trip; skipped (and counted) when Redis is away. */
  async setMany(entries: ReadonlyArray<{ key: CacheKey; value: object; ageMs: number }>): Promise<void> {
    if (entries.length === 0 || !this.available) {
      if (entries.length > 0) this.failures++;
      return;
    }
    const now = Date.now();
    const pipeline = this.#redis.pipeline();
    for (const { key, value, ageMs } of entries) {
      const ttl = Math.round(policyOf(key, value).ttlMs - ageMs);
      if (ttl > 0) pipeline.set(this.#names.cacheKeys + key, JSON.stringify({ v: value, t: now - ageMs }), 'PX', ttl);
    }
    await pipeline.exec().catch(() => this.failures++);
  }

  /** Drops entries from Redis and tells every instance (this one included) to drop them from its own tier. */
  async invalidate(invalidation: Invalidation): Promise<void> {
    const prefix = this.#names.cacheKeys;
    const keys = invalidation.keys.map((key) => prefix + key);
    for (const kind of invalidation.kinds) {
      let cursor = '0';
      do {
        const [next, found] = await this.#redis.scan(cursor, 'MATCH', `${prefix}${kind}:*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
    }
    if (keys.length > 0) await this.#redis.unlink(...keys);
    await this.#redis.publish(this.#names.invalidations, JSON.stringify(invalidation));
  }

  /**
   * After the database was replaced (a reseed): drops every shared entry and
   * tells every gateway to drop its own and read its board again.
   */
  async dropAll(timeoutMs = 5_000): Promise<void> {
    // A new connection (the seed command's) is not ready at once, and this one sends nothing before it is.
    if (this.#redis.status !== 'ready') {
      await once(this.#redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {
        throw new Error(`Redis did not answer within ${timeoutMs} ms: the fleet's cache still holds the old data set`);
      });
    }
    await this.invalidate({ keys: [], kinds: [...cacheKinds] });
  }

  onInvalidation(listener: (invalidation: Invalidation) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#redis.quit(), this.#invalidations?.close()]);
  }

  #deliver(invalidation: Invalidation): void {
    for (const listener of this.#listeners) listener(invalidation);
  }
}
