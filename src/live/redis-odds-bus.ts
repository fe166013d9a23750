import type { Redis } from 'ioredis';
import type { Logger } from '../ops/log.js';
import { RedisChannel } from '../redis/channel.js';
import { connectRedis } from '../redis/connect.js';
import { redisNames } from '../redis/names.js';
import type { OddsBus, OddsChange } from './odds-bus.js';
import { encodeOddsChange, OddsChangeDecoder } from './odds-wire.js';

export interface RedisOddsBusOptions {
  url: string;
  /** Prefix of the channel name, so several deployments can share one Redis (default `oddsgate:`). */
  prefix?: string;
  logger: Logger;
}

/**
 * Odds changes over Redis pub/sub, for a fleet: any number of workers
 * publish, every gateway hears every change, in the compact form of
 * src/live/odds-wire.ts. After a reconnect the channel reports a gap (Redis
 * kept nothing meanwhile) and the gateway fills it from the database's
 * change log.
 */
export class RedisOddsBus implements OddsBus {
  readonly #publisher: Redis;
  readonly #channel: RedisChannel<OddsChange>;

  constructor({ url, prefix, logger }: RedisOddsBusOptions) {
    const names = redisNames(prefix);
    const decoder = new OddsChangeDecoder();
    this.#publisher = connectRedis(url, { name: names.connections.oddsPublish, queueWhileDisconnected: false, logger });
    this.#channel = new RedisChannel({
      url,
      channel: names.oddsChanges,
      connectionName: names.connections.oddsSubscribe,
      logger,
      decode: (json) => decoder.decode(json),
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
    await this.#publisher.publish(this.#channel.name, encodeOddsChange(change));
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
