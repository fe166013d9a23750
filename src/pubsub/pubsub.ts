import type { SnapshotRecord } from '../cache/records.js';

/** One (event, bookmaker)'s new latest snapshot, published after its transaction committed. */
export interface OddsUpdateMessage {
  eventId: number;
  bookmakerId: number;
  snapshot: SnapshotRecord;
  /** When the worker published the change, epoch milliseconds. */
  publishedAt: number;
}

export interface OddsSubscription extends AsyncIterableIterator<OddsUpdateMessage> {
  /** Updates dropped because this subscriber fell more than its queue's length behind. */
  readonly dropped: number;
}

export interface SubscribeOptions {
  /** Only these events (all when undefined). */
  eventIds?: ReadonlySet<number> | undefined;
  /** Only these bookmakers (all when undefined). */
  bookmakerIds?: ReadonlySet<number> | undefined;
  /** Updates held for a subscriber that reads slower than they arrive (default 100). */
  maxQueue?: number;
}

export interface PubSub {
  publish(update: OddsUpdateMessage): void;
  subscribe(options?: SubscribeOptions): OddsSubscription;
  /** Live subscriptions and drops, for health and metrics. */
  stats(): { subscribers: number; dropped: number };
}

/**
 * Fan-out within one process. Filters run here, before a message is queued;
 * each subscriber has a bounded queue that drops its oldest update when full,
 * so a slow client costs at most `maxQueue` messages of memory.
 */
export class InProcessPubSub implements PubSub {
  readonly #subscribers = new Set<Subscriber>();
  #dropped = 0;

  publish(update: OddsUpdateMessage): void {
    for (const subscriber of this.#subscribers) subscriber.offer(update);
  }

  subscribe(options: SubscribeOptions = {}): OddsSubscription {
    const subscriber = new Subscriber(options, () => {
      this.#subscribers.delete(subscriber);
      this.#dropped += subscriber.dropped;
    });
    this.#subscribers.add(subscriber);
    return subscriber;
  }

  stats(): { subscribers: number; dropped: number } {
    let dropped = this.#dropped;
    for (const subscriber of this.#subscribers) dropped += subscriber.dropped;
    return { subscribers: this.#subscribers.size, dropped };
  }
}

class Subscriber implements OddsSubscription {
  dropped = 0;
  readonly #queue: OddsUpdateMessage[] = [];
  #waiting: ((result: IteratorResult<OddsUpdateMessage>) => void) | undefined;
  #done = false;
  readonly #maxQueue: number;

  constructor(
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    this.#maxQueue = options.maxQueue ?? 100;
  }

  offer(update: OddsUpdateMessage): void {
    if (this.#done) return;
    if (this.options.eventIds && !this.options.eventIds.has(update.eventId)) return;
    if (this.options.bookmakerIds && !this.options.bookmakerIds.has(update.bookmakerId)) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: update, done: false });
      return;
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(update);
  }

  next(): Promise<IteratorResult<OddsUpdateMessage>> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve({ value: queued, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<OddsUpdateMessage>> {
    if (!this.#done) {
      this.#done = true;
      this.#queue.length = 0;
      this.#waiting?.({ value: undefined, done: true });
      this.#waiting = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
