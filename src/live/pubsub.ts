import { ConflatingQueue } from './conflating-queue.js';
import type { Subscription } from './subscription.js';
import { DeliveryTurn } from './delivery-turn.js';
import { SubscriptionEnd } from './subscription-end.js';
import { SharedTape, type TapeReader } from './shared-tape.js';
import type { LogPlace } from '../domain/change-log.js';
import type { EventRecord, SnapshotRecord } from '../domain/records.js';

/** One (event, bookmaker)'s new latest snapshot, published after its transaction committed. */
export interface OddsUpdateMessage {
  eventId: number;
  bookmakerId: number;
  snapshot: SnapshotRecord;
  /** Keys of the markets this change moved (src/domain/market-changes.ts); subscribers to some markets get only changes that moved one. */
  changedMarkets: readonly string[];
  /** When the worker published the change, epoch milliseconds. */
  publishedAt: number;
  /** Where the change stands in the change log: a subscriber resumes after it. */
  place: Required<LogPlace>;
}

/** An event's new status, score or clock, published after its transaction committed. */
export interface EventUpdateMessage {
  eventId: number;
  event: EventRecord;
  /** When the worker published the change, epoch milliseconds. */
  publishedAt: number;
  /** The log position that moved it: its events' changes follow all of the position's odds, so it names the whole position. */
  place: LogPlace;
}


export type OddsSubscription = Subscription<OddsUpdateMessage>;

export interface SubscribeOptions {
  /** Only these events (all when undefined). */
  eventIds?: ReadonlySet<number> | undefined;
  /** Only these bookmakers (all when undefined). */
  bookmakerIds?: ReadonlySet<number> | undefined;
  /** Only changes that moved one of these market keys (all when undefined). */
  marketKeys?: ReadonlySet<string> | undefined;
  /**
   * (event, bookmaker)s with an update waiting for a subscriber that reads slower than they arrive
   * (default 10,000: queued updates are shared messages, so this bounds a slow subscriber to about 1.5 MB).
   */
  maxQueue?: number;
  /**
   * Read with `nextBatch` only (`oddsUpdatedBatch`). A batched subscriber on every event (and the
   * default `maxQueue`) reads the shared tape (src/live/shared-tape.ts) instead of a queue of its own.
   */
  batched?: boolean;
}

export interface PubSub {
  publish(update: OddsUpdateMessage): void;
  subscribe(options?: SubscribeOptions): OddsSubscription;
  publishEvent(update: EventUpdateMessage): void;
  /** Event updates; `bookmakerIds` and `marketKeys` do not apply. */
  subscribeEvents(options?: Omit<SubscribeOptions, 'bookmakerIds' | 'marketKeys'>): Subscription<EventUpdateMessage>;
  /** Live subscriptions, updates handed to subscribers and updates dropped, for health and metrics. */
  stats(): PubSubStats;
}

export interface PubSubStats {
  subscribers: number;
  dropped: number;
  /** Updates a slow subscriber never saw because a newer one of the same (event, bookmaker) took their place. */
  conflated: number;
  /** Updates subscribers took from their queues (to send to their clients), since start. */
  delivered: number;
}

/**
 * Fan-out within one process. Filters run here, before a message is queued;
 * each subscriber has a bounded queue that drops its oldest update when full,
 * so a slow client costs at most `maxQueue` messages of memory.
 */
export class InProcessPubSub implements PubSub {
  readonly #odds = new Routes<OddsUpdateMessage>();
  readonly #oddsTape: SharedTape<OddsUpdateMessage>;
  readonly #tapeReaders = new Set<TapeReader<OddsUpdateMessage>>();
  readonly #events = new Routes<EventUpdateMessage>();
  readonly #turn: DeliveryTurn;
  readonly #fanOut: FanOut;

  /**
   * `deliveriesPerTurn`: queued updates (or batches) handed out before the event loop gets a turn
   * (default 500); `offersPerTurn`: updates put in subscribers' queues before it gets one (default 20,000);
   * `behindIntervalMs`: how often a batched subscriber on every event that is behind reads (default 100).
   */
  constructor({ deliveriesPerTurn = 500, offersPerTurn = 20_000, behindIntervalMs = 100 }: { deliveriesPerTurn?: number; offersPerTurn?: number; behindIntervalMs?: number } = {}) {
    this.#turn = new DeliveryTurn(deliveriesPerTurn);
    this.#fanOut = new FanOut(offersPerTurn);
    this.#oddsTape = new SharedTape({ behindIntervalMs });
  }

  #dropped = 0;
  #conflated = 0;
  #delivered = 0;

  publish(update: OddsUpdateMessage): void {
    const key = pairKey(update);
    this.#oddsTape.append(key, update);
    this.#fanOut.add(update, key, this.#odds.of(update));
  }

  subscribe(options: SubscribeOptions = {}): OddsSubscription {
    if (!options.batched || options.eventIds || options.maxQueue !== undefined) return this.#add(this.#odds, options);
    const filtered = options.bookmakerIds || options.marketKeys;
    const reader = this.#oddsTape.reader(this.#turn, filtered ? (update) => matches(options, update) : undefined, () => {
      this.#tapeReaders.delete(reader);
      this.#dropped += reader.dropped;
      this.#conflated += reader.conflated;
      this.#delivered += reader.delivered;
    });
    this.#tapeReaders.add(reader);
    return reader;
  }

  /** Ends every odds and event subscription with `error`: they can no longer be told every change. */
  expireSubscriptions(error: Error): number {
    const subscribers = [...this.#odds.all, ...this.#tapeReaders, ...this.#events.all];
    for (const subscriber of subscribers) subscriber.fail(error);
    return subscribers.length;
  }

  publishEvent(update: EventUpdateMessage): void {
    this.#fanOut.add(update, pairKey(update), this.#events.of(update));
  }

  subscribeEvents(options: Omit<SubscribeOptions, 'bookmakerIds' | 'marketKeys'> = {}): Subscription<EventUpdateMessage> {
    return this.#add(this.#events, options);
  }

  stats(): PubSubStats {
    let dropped = this.#dropped;
    let conflated = this.#conflated;
    let delivered = this.#delivered;
    for (const subscriber of [...this.#odds.all, ...this.#events.all, ...this.#tapeReaders]) {
      dropped += subscriber.dropped;
      conflated += subscriber.conflated;
      delivered += subscriber.delivered;
    }
    return { subscribers: this.#odds.all.size + this.#events.all.size + this.#tapeReaders.size, dropped, conflated, delivered };
  }

  #add<T extends Routed>(routes: Routes<T>, options: SubscribeOptions): Subscriber<T> {
    const subscriber = new Subscriber<T>(options, this.#turn, () => {
      routes.delete(subscriber);
      this.#dropped += subscriber.dropped;
      this.#conflated += subscriber.conflated;
      this.#delivered += subscriber.delivered;
    });
    routes.add(subscriber);
    return subscriber;
  }
}

/**
 * Subscribers by the events they follow: an update is offered to those on
 * its event and those on every event, not to all (20,000 screens on a few
 * events each would otherwise cost 20,000 filter checks per change).
 */
class Routes<T extends Routed> {
  readonly all = new Set<Subscriber<T>>();
  readonly #everyEvent = new Set<Subscriber<T>>();
  readonly #byEvent = new Map<number, Set<Subscriber<T>>>();

  add(subscriber: Subscriber<T>): void {
    this.all.add(subscriber);
    const { eventIds } = subscriber.options;
    if (!eventIds) return void this.#everyEvent.add(subscriber);
    for (const eventId of eventIds) {
      let onEvent = this.#byEvent.get(eventId);
      if (!onEvent) this.#byEvent.set(eventId, (onEvent = new Set()));
      onEvent.add(subscriber);
    }
  }

  delete(subscriber: Subscriber<T>): void {
    this.all.delete(subscriber);
    const { eventIds } = subscriber.options;
    if (!eventIds) return void this.#everyEvent.delete(subscriber);
    for (const eventId of eventIds) {
      const onEvent = this.#byEvent.get(eventId);
      onEvent?.delete(subscriber);
      if (onEvent?.size === 0) this.#byEvent.delete(eventId);
    }
  }

  /** The subscribers an update may reach (their other filters still apply), as they are now. */
  of(update: T): Array<Subscriber<T>> {
    const onEvent = this.#byEvent.get(update.eventId);
    return onEvent ? [...this.#everyEvent, ...onEvent] : [...this.#everyEvent];
  }
}

/**
 * Puts published updates in their subscribers' queues, in publish order, at
 * most `perTurn` offers per turn of the event loop: a worker's batch of 500
 * changes to 1,000 unfiltered subscribers is 500,000 offers, which in one
 * go would hold the loop for most of a second. Each update reaches those
 * subscribed when it was published; the rest wait for the next turn.
 */
class FanOut {
  readonly #pending: Array<{ update: Routed; key: string; to: Array<Subscriber<Routed>>; next: number }> = [];
  #offered = 0;
  /** This turn's offers are used up: what is published waits for the next. */
  #full = false;
  #resetScheduled = false;

  constructor(private readonly perTurn: number) {}

  /** `key`: the update's (event, bookmaker), one string hashed once for every queue. */
  add<T extends Routed>(update: T, key: string, to: Array<Subscriber<T>>): void {
    if (to.length === 0) return;
    this.#pending.push({ update, key, to: to as unknown as Array<Subscriber<Routed>>, next: 0 });
    if (!this.#full) this.#offer();
  }

  #offer(): void {
    while (this.#pending.length > 0) {
      const item = this.#pending[0]!;
      while (item.next < item.to.length) {
        if (this.#offered >= this.perTurn) {
          this.#full = true;
          return;
        }
        if (this.#offered++ === 0) this.#resetNextTurn();
        item.to[item.next++]!.offer(item.update, item.key);
      }
      this.#pending.shift();
    }
  }

  /** The count starts again next turn, and what is still pending is offered then. */
  #resetNextTurn(): void {
    if (this.#resetScheduled) return;
    this.#resetScheduled = true;
    setImmediate(() => {
      this.#resetScheduled = false;
      this.#offered = 0;
      this.#full = false;
      this.#offer();
    });
  }
}

/** What subscribers filter on. */
interface Routed {
  eventId: number;
  bookmakerId?: number;
  changedMarkets?: readonly string[];
}

/** What conflates: the update's (event, bookmaker). */
function pairKey(update: Routed): string {
  return `${update.eventId}:${update.bookmakerId ?? ''}`;
}

/** Whether a subscriber with these filters wants the update. */
export function matches(options: SubscribeOptions, update: Routed): boolean {
  if (options.eventIds && !options.eventIds.has(update.eventId)) return false;
  if (options.bookmakerIds && update.bookmakerId !== undefined && !options.bookmakerIds.has(update.bookmakerId)) return false;
  const { marketKeys } = options;
  return !(marketKeys && update.changedMarkets && !update.changedMarkets.some((key) => marketKeys.has(key)));
}

/**
 * One subscriber's queue, conflated: it holds at most one update per
 * (event, bookmaker), the newest, in the order they arrived (a newer update
 * moves its pair to the back, so what a subscriber receives stays in log
 * order and resuming after the last one received skips nothing). A subscriber that falls behind skips intermediate prices but
 * always gets the current one; memory is bounded by what it follows, and by
 * `maxQueue` beyond that (then the oldest waiting update is dropped).
 */
class Subscriber<T extends Routed> implements Subscription<T> {
  dropped = 0;
  conflated = 0;
  delivered = 0;
  readonly #queue = new ConflatingQueue<T>();
  /** A `next` waiting: the first update offered is handed to it at once. */
  #waiting: ((result: IteratorResult<T> | Promise<IteratorResult<T>>) => void) | undefined;
  /** A `nextBatch` waiting: woken once the offering burst is over (a microtask later), to take all of it. */
  #waitingBatch: { max: number; resolve: (result: Promise<IteratorResult<T[]>> | IteratorResult<T[]>) => void } | undefined;
  #wakeScheduled = false;
  /** A `next` waiting was offered an update past the turn's share: it is woken next turn to take it from the queue. */
  #wakeNextTurnScheduled = false;
  #failWaiting: ((error: Error) => void) | undefined;
  /** Over, and why when it failed (the next read throws it, once). */
  readonly #end = new SubscriptionEnd();
  readonly #maxQueue: number;

  constructor(
    readonly options: SubscribeOptions,
    private readonly turn: DeliveryTurn,
    private readonly onClose: () => void,
  ) {
    this.#maxQueue = options.maxQueue ?? 10_000;
  }

  /** `key`: the update's (event, bookmaker), what conflates. */
  offer(update: T, key: string): void {
    if (this.#end.over || !matches(this.options, update)) return;
    if (this.#waiting) {
      // Updates already queued (for the wake below) go first: the queue keeps the log order.
      if (this.#queue.size === 0 && this.turn.takeHandOver()) {
        const resolve = this.#waiting;
        this.#waiting = this.#failWaiting = undefined;
        this.delivered++;
        resolve({ value: update, done: false });
        return;
      }
      // Past this turn's share: it waits in the queue, and the reader takes it next turn.
      this.#wakeNextTurn();
    }
    if (this.#waitingBatch && !this.#wakeScheduled) {
      this.#wakeScheduled = true;
      queueMicrotask(() => this.#wakeBatch());
    }
    if (this.#queue.push(key, update)) {
      this.conflated++;
    } else if (this.#queue.size > this.#maxQueue) {
      this.#queue.shift();
      this.dropped++;
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.size > 0) {
      // Past this turn's share, wait for the next: the rest waits in the queue (and conflates) meanwhile.
      if (!this.turn.take()) return this.turn.next().then(() => this.next());
      this.delivered++;
      return Promise.resolve({ value: this.#queue.shift()!, done: false });
    }
    return (
      this.#end.read() ??
      new Promise((resolve, reject) => {
        this.#waiting = resolve;
        this.#failWaiting = reject;
      })
    );
  }

  nextBatch(max: number): Promise<IteratorResult<T[]>> {
    if (this.#queue.size > 0) {
      // A batch counts as one delivery of the turn's share plus one per 50 updates it holds: its
      // bytes are joined once for everyone, but each socket still writes them all.
      if (!this.turn.take()) return this.turn.next().then(() => this.nextBatch(max));
      const batch: T[] = [];
      while (batch.length < max && this.#queue.size > 0) batch.push(this.#queue.shift()!);
      this.turn.spend(Math.floor(batch.length / 50));
      this.delivered += batch.length;
      return Promise.resolve({ value: batch, done: false });
    }
    return (
      this.#end.read() ??
      new Promise((resolve, reject) => {
        this.#waitingBatch = { max, resolve };
        this.#failWaiting = reject;
      })
    );
  }

  #wakeNextTurn(): void {
    if (this.#wakeNextTurnScheduled) return;
    this.#wakeNextTurnScheduled = true;
    void this.turn.next().then(() => {
      this.#wakeNextTurnScheduled = false;
      const resolve = this.#waiting;
      if (!resolve) return;
      this.#waiting = this.#failWaiting = undefined;
      resolve(this.next());
    });
  }

  #wakeBatch(): void {
    this.#wakeScheduled = false;
    const waiting = this.#waitingBatch;
    if (!waiting) return;
    this.#waitingBatch = this.#failWaiting = undefined;
    waiting.resolve(this.nextBatch(waiting.max));
  }

  /** Ends the subscription with an error its reader gets at its next read (what it had queued is dropped). */
  fail(error: Error): void {
    if (!this.#end.close()) return;
    const reject = this.#failWaiting;
    this.#waiting = this.#waitingBatch = this.#failWaiting = undefined;
    this.#queue.clear();
    this.onClose();
    if (reject) reject(error);
    else this.#end.failNextRead(error);
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#end.close()) {
      this.#queue.clear();
      this.#waiting?.({ value: undefined, done: true });
      this.#waitingBatch?.resolve({ value: undefined, done: true });
      this.#waiting = this.#waitingBatch = this.#failWaiting = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
