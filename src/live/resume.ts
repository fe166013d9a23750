import { holdsEverythingAfter, seenBy, type LoggedOddsChange, type LogPlace } from '../domain/change-log.js';
import type { LogReader } from './recent-changes.js';
import { matches, type EventUpdateMessage, type OddsSubscription, type OddsUpdateMessage, type PubSub, type SubscribeOptions } from './pubsub.js';
import type { Subscription } from './subscription.js';

/**
 * A subscriber can no longer be told every change: the place it asked to
 * resume after is no longer (or not yet) in the change log, or its gateway
 * missed changes the log no longer holds.
 */
export class CursorExpiredError extends Error {
  override name = 'CursorExpiredError';

  constructor(why: string) {
    super(`${why}: query again, then subscribe after the new oddsCursor`);
  }
}

export interface ResumeOptions extends SubscribeOptions {
  after: LogPlace;
  /** Log positions read per round of replay (default 200). */
  pageSize?: number;
  now?: () => number;
}

/**
 * A subscription that first replays, in log order, every matching change
 * after `after` from the database's change log, then goes on live, skipping
 * what the replay already delivered: no gap, no duplicate. The live
 * subscription starts before the first read, so a change committed while
 * the replay reads is in one or the other (or both, and then sent once).
 * Throws `CursorExpiredError` when the log no longer holds the positions
 * after `after` (older than the replay window) or never held it (a log
 * younger than the place: the database was reset).
 */
export async function resumeOdds(pubsub: PubSub, reader: LogReader, options: ResumeOptions): Promise<OddsSubscription> {
  const keep = (change: LoggedOddsChange) => matches(options, change);
  const readPage = async (place: LogPlace): Promise<ReplayPage<OddsUpdateMessage>> => {
    const page = await reader.changesAfter(place, { limit: options.pageSize ?? 200, keep });
    const publishedAt = (options.now ?? Date.now)();
    const updates = page.entries.flatMap((entry) => {
      const position = BigInt(entry.position);
      return entry.odds.map(({ eventId, bookmakerId, snapshot, changedMarkets, index }) => ({ eventId, bookmakerId, snapshot, changedMarkets, publishedAt, place: { position, index } }));
    });
    return { updates, last: page.entries.at(-1)?.position, more: page.more };
  };
  const seen = (place: LogPlace, update: OddsUpdateMessage) => seenBy(place, update.place.position, update.place.index);
  return resumed(pubsub.subscribe(options), reader, options.after, readPage, seen);
}

/**
 * The same for event updates. A replayed event comes once a round of replay, at the last position of the
 * round that changed it, in its state now (an event's status, score and clock only move forward: the newest
 * state stands for those in between, as for a subscriber that fell behind). An event change follows all of its
 * position's odds, so after a place inside a position (an odds update's cursor) that position's event changes
 * are still to come.
 */
export async function resumeEvents(
  pubsub: PubSub,
  reader: LogReader,
  options: Omit<ResumeOptions, 'bookmakerIds' | 'marketKeys' | 'batched'>,
): Promise<Subscription<EventUpdateMessage>> {
  const { eventIds } = options;
  const readPage = async (place: LogPlace): Promise<ReplayPage<EventUpdateMessage>> => {
    const page = await reader.changesAfter(place, { limit: options.pageSize ?? 200, keep: () => false, keepEvent: (id) => !eventIds || eventIds.has(id) });
    const publishedAt = (options.now ?? Date.now)();
    const events = new Map(page.events.map((event) => [event.id, event]));
    // Each event at the last position that changed it, in the order of those positions.
    const lastChanged = new Map<number, bigint>();
    for (const entry of page.entries) {
      for (const eventId of entry.eventsChanged) {
        lastChanged.delete(eventId);
        lastChanged.set(eventId, BigInt(entry.position));
      }
    }
    const updates = [...lastChanged].flatMap(([eventId, position]) => {
      const event = events.get(eventId);
      return event ? [{ eventId, event, publishedAt, place: { position } }] : [];
    });
    return { updates, last: page.entries.at(-1)?.position, more: page.more };
  };
  const seen = (place: LogPlace, update: EventUpdateMessage) => seenBy(place, update.place.position, Infinity);
  return resumed(pubsub.subscribeEvents(options), reader, options.after, readPage, seen);
}

/** One round of replay: its updates, the last position it read (as the log gives it), and whether the log goes on. */
interface ReplayPage<T> {
  updates: T[];
  last: string | undefined;
  more: boolean;
}

/** `live` resumed after `after`, once the log is known to hold everything after it; ends `live` when it does not. */
async function resumed<T>(
  live: Subscription<T>,
  reader: LogReader,
  after: LogPlace,
  readPage: (place: LogPlace) => Promise<ReplayPage<T>>,
  seen: (place: LogPlace, update: T) => boolean,
): Promise<Subscription<T>> {
  try {
    const { oldest, newest } = await reader.logBounds();
    if (after.position > (newest ?? 0n) || !holdsEverythingAfter(after.position, oldest)) {
      throw new CursorExpiredError(`after names position ${after.position}, outside the change log's ${oldest ?? 0}..${newest ?? 0}`);
    }
  } catch (error) {
    await live.return();
    throw error;
  }
  return new ResumedSubscription(live, after, readPage, seen);
}

class ResumedSubscription<T> implements Subscription<T> {
  #replayed: T[] = [];
  /** Everything up to here was replayed: live updates at or before it are skipped. */
  #place: LogPlace;
  #replaying = true;

  constructor(
    private readonly live: Subscription<T>,
    after: LogPlace,
    private readonly readPage: (place: LogPlace) => Promise<ReplayPage<T>>,
    private readonly seen: (place: LogPlace, update: T) => boolean,
  ) {
    this.#place = after;
  }

  get dropped(): number {
    return this.live.dropped;
  }

  get conflated(): number {
    return this.live.conflated;
  }

  async next(): Promise<IteratorResult<T>> {
    while (this.#replaying && this.#replayed.length === 0) await this.#readPage();
    const replayed = this.#replayed.shift();
    if (replayed) return { value: replayed, done: false };
    for (;;) {
      const result = await this.live.next();
      if (result.done || !this.seen(this.#place, result.value)) return result;
    }
  }

  async nextBatch(max: number): Promise<IteratorResult<T[]>> {
    while (this.#replaying && this.#replayed.length === 0) await this.#readPage();
    if (this.#replayed.length > 0) return { value: this.#replayed.splice(0, max), done: false };
    for (;;) {
      const result = await this.live.nextBatch(max);
      if (result.done) return result;
      // The batch itself when nothing in it was replayed: batches read from a shared tape are shared by identity.
      const replayedAny = result.value.some((update) => this.seen(this.#place, update));
      const fresh = replayedAny ? result.value.filter((update) => !this.seen(this.#place, update)) : result.value;
      if (fresh.length > 0) return { value: fresh, done: false };
    }
  }

  return(): Promise<IteratorResult<T>> {
    this.#replaying = false;
    this.#replayed = [];
    return this.live.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** One round of the log after the place replayed so far. */
  async #readPage(): Promise<void> {
    const page = await this.readPage(this.#place);
    if (!this.#replaying) return;
    this.#replayed.push(...page.updates);
    if (page.last !== undefined) this.#place = { position: BigInt(page.last) };
    if (!page.more) this.#replaying = false;
  }
}
