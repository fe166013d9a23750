import type { SnapshotRecord } from '../domain/records.js';

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
  /** Live subscriptions, updates handed to subscribers and updates dropped, for health and metrics. */
  stats(): PubSubStats;
}

export interface PubSubStats {
  subscribers: number;
  dropped: number;
  /** Updates subscribers took from their queues (to send to their clients), since start. */
  delivered: number;
}

/**
 * Fan-out within one process. Filters run here, before a message is queued;
 * each subscriber has a bounded queue that drops its oldest update when full,
 * so a slow client costs at most `maxQueue` messages of memory.
 */
export class InProcessPubSub implements PubSub {
  readonly #subscribers = new Set<Subscriber>();
  #dropped = 0;
  #delivered = 0;

  publish(update: OddsUpdateMessage): void {
    for (const subscriber of this.#subscribers) subscriber.offer(update);
  }

  subscribe(options: SubscribeOptions = {}): OddsSubscription {
    const subscriber = new Subscriber(options, () => {
      this.#subscribers.delete(subscriber);
      this.#dropped += subscriber.dropped;
      this.#delivered += subscriber.delivered;
    });
    this.#subscribers.add(subscriber);
    return subscriber;
  }

  stats(): PubSubStats {
    let dropped = this.#dropped;
    let delivered = this.#delivered;
    for (const subscriber of this.#subscribers) {
      dropped += subscriber.dropped;
      delivered += subscriber.delivered;
    }
    return { subscribers: this.#subscribers.size, dropped, delivered };
  }
}

class Subscriber implements OddsSubscription {
  dropped = 0;
  delivered = 0;
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
      this.delivered++;
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
    if (queued) {
      this.delivered++;
      return Promise.resolve({ value: queued, done: false });
    }
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
