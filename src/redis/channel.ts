import type { Redis } from 'ioredis';
import type { Logger } from '../ops/log.js';
import { connectRedis } from './connect.js';

export interface ChannelOptions<T> {
  url: string;
  channel: string;
  /** The subscriber connection's name in Redis' CLIENT LIST. */
  connectionName: string;
  logger: Logger;
  /** The message as listeners get it, from its parsed JSON; throws, naming what is wrong, for a message that is not a T. */
  decode: (json: unknown) => T;
}

/**
 * One Redis pub/sub channel as every listener of the gateway hears it.
 * Redis keeps nothing for a subscriber that was away, so after a
 * reconnect (ioredis subscribes again by itself) the channel reports a gap
 * and its owner drops what it may have missed. A message that is not JSON,
 * or not of the expected shape, is logged, counted and dropped: one bad
 * publisher must not stop the others' messages.
 */
export class RedisChannel<T> {
  readonly name: string;
  /** Messages dropped because they were not JSON or not of the expected shape. */
  rejected = 0;
  readonly #subscriber: Redis;
  readonly #options: ChannelOptions<T>;
  readonly #listeners: Array<(message: T) => void> = [];
  readonly #gapListeners: Array<() => void> = [];

  constructor(options: ChannelOptions<T>) {
    this.name = options.channel;
    this.#options = options;
    this.#subscriber = connectRedis(options.url, { name: options.connectionName, queueWhileDisconnected: true, logger: options.logger });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.name) this.#deliver(message);
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

  /** Resolves once subscribed, so nothing published after start-up is missed. */
  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.name);
  }

  get connected(): boolean {
    return this.#subscriber.status === 'ready';
  }

  onMessage(listener: (message: T) => void): void {
    this.#listeners.push(listener);
  }

  /** Called when messages may have been missed (the connection was lost and came back). */
  onGap(listener: () => void): void {
    this.#gapListeners.push(listener);
  }

  async close(): Promise<void> {
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
  }

  #deliver(raw: string): void {
    let message: T;
    try {
      message = this.#options.decode(JSON.parse(raw));
    } catch (error) {
      this.rejected++;
      this.#options.logger.warn({ channel: this.name, err: error, bytes: raw.length }, 'ignored a message that is not JSON or not of the expected shape');
      return;
    }
    for (const listener of this.#listeners) listener(message);
  }
}
