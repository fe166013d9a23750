import type { Redis } from 'ioredis';
import { deepFreeze } from '../domain/records.js';
import { connectRedis } from '../redis/connect.js';
import type { OddsBus, OddsChange } from './odds-bus.js';

export interface RedisOddsBusOptions {
  url: string;
  /** Prefix of the channel name, so several deployments can share one Redis (default `oddsgate:`). */
  prefix?: string;
  log?: (message: string) => void;
}

/**
 * Odds changes over Redis pub/sub, for a fleet: any number of workers
 * publish, every gateway hears every change. Redis pub/sub keeps nothing
 * for a subscriber that was away, so after a reconnect the bus reports a
 * gap and the gateway drops the odds it may have missed.
 */
export class RedisOddsBus implements OddsBus {
  readonly channel: string;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #listeners: Array<(change: OddsChange) => void> = [];
  readonly #gapListeners: Array<() => void> = [];
  readonly #log: (message: string) => void;

  constructor({ url, prefix = 'oddsgate:', log = console.log }: RedisOddsBusOptions) {
    this.channel = `${prefix}odds-changes`;
    this.#log = log;
    this.#publisher = connectRedis(url, { name: `${prefix}odds-publish`, queueWhileDisconnected: false, log });
    this.#subscriber = connectRedis(url, { name: `${prefix}odds-subscribe`, queueWhileDisconnected: true, log });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.#deliver(message);
    });
    let connectedOnce = false;
    let interrupted = false;
    this.#subscriber.on('error', () => (interrupted = true));
    this.#subscriber.on('close', () => {
      if (connectedOnce) interrupted = true;
    });
    this.#subscriber.on('ready', () => {
      // ioredis subscribes again by itself; what was published meanwhile is gone.
      if (interrupted) for (const listener of this.#gapListeners) listener();
      connectedOnce = true;
      interrupted = false;
    });
  }

  /** Both connections are up (for /health). */
  get connected(): boolean {
    return this.#subscriber.status === 'ready' && this.#publisher.status === 'ready';
  }

  /** Resolves once subscribed, so nothing published after start-up is missed. */
  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.channel);
  }

  async publish(change: OddsChange): Promise<void> {
    await this.#publisher.publish(this.channel, JSON.stringify(change));
  }

  onChange(listener: (change: OddsChange) => void): void {
    this.#listeners.push(listener);
  }

  onGap(listener: () => void): void {
    this.#gapListeners.push(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#subscriber.quit(), this.#publisher.quit()]);
  }

  #deliver(message: string): void {
    let change: OddsChange;
    try {
      change = deepFreeze(JSON.parse(message) as OddsChange);
    } catch (error) {
      this.#log(`odds bus: ignored a message that is not JSON (${(error as Error).message})`);
      return;
    }
    for (const listener of this.#listeners) listener(change);
  }
}
