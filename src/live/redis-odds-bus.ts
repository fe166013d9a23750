import type { Redis } from 'ioredis';
import { deepFreeze } from '../domain/records.js';
import type { Logger } from '../ops/log.js';
import { RedisChannel } from '../redis/channel.js';
import { connectRedis } from '../redis/connect.js';
import { redisNames } from '../redis/names.js';
import type { OddsBus, OddsChange } from './odds-bus.js';

export interface RedisOddsBusOptions {
  url: string;
  /** Prefix of the channel name, so several deployments can share one Redis (default `oddsgate:`). */
  prefix?: string;
  logger: Logger;
}

/**
 * Odds changes over Redis pub/sub, for a fleet: any number of workers
 * publish, every gateway hears every change. After a reconnect the channel
 * reports a gap (Redis kept nothing meanwhile) and the gateway fills it from
 * the database's change log.
 */
export class RedisOddsBus implements OddsBus {
  readonly #publisher: Redis;
  readonly #channel: RedisChannel<OddsChange>;

  constructor({ url, prefix, logger }: RedisOddsBusOptions) {
    const names = redisNames(prefix);
    this.#publisher = connectRedis(url, { name: names.connections.oddsPublish, queueWhileDisconnected: false, logger });
    this.#channel = new RedisChannel({
      url,
      channel: names.oddsChanges,
      connectionName: names.connections.oddsSubscribe,
      logger,
      decode: decodeOddsChange,
    });
  }

  get channel(): string {
    return this.#channel.name;
  }

  /** Both connections are up (for /health). */
  get connected(): boolean {
    return this.#channel.connected && this.#publisher.status === 'ready';
  }

  /** Resolves once subscribed, so nothing published after start-up is missed. */
  start(): Promise<void> {
    return this.#channel.start();
  }

  async publish(change: OddsChange): Promise<void> {
    await this.#publisher.publish(this.#channel.name, JSON.stringify(change));
  }

  onChange(listener: (change: OddsChange) => void): void {
    this.#channel.onMessage(listener);
  }

  onGap(listener: () => void): void {
    this.#channel.onGap(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#channel.close(), this.#publisher.quit()]);
  }
}

/** An odds change as workers publish it, frozen: every gateway listener shares it. */
export function decodeOddsChange(json: unknown): OddsChange {
  const change = json as Partial<OddsChange> | null;
  if (
    typeof change !== 'object' ||
    change === null ||
    typeof change.publishedAt !== 'number' ||
    !Array.isArray(change.events) ||
    !Array.isArray(change.entries) ||
    !change.entries.every((entry) => typeof entry?.position === 'string' && /^\d+$/.test(entry.position) && Array.isArray(entry.odds) && Array.isArray(entry.eventsChanged))
  ) {
    throw new Error('an odds change has a numeric publishedAt, an events array and log entries with a decimal position, odds and eventsChanged');
  }
  return deepFreeze(change as OddsChange);
}
