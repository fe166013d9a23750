import { holdsEverythingAfter, seenBy, type LoggedOddsChange, type LogPlace } from '../domain/change-log.js';
import type { OddsReader } from '../db/odds-reader.js';
import { matches, type OddsSubscription, type OddsUpdateMessage, type PubSub, type SubscribeOptions } from './pubsub.js';

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
export async function resumeOdds(pubsub: PubSub, reader: Pick<OddsReader, 'changesAfter' | 'logBounds'>, options: ResumeOptions): Promise<OddsSubscription> {
  const live = pubsub.subscribe(options);
  try {
    const { oldest, newest } = await reader.logBounds();
    if (options.after.position > (newest ?? 0n) || !holdsEverythingAfter(options.after.position, oldest)) {
      throw new CursorExpiredError(
        `after names position ${options.after.position}, outside the change log's ${oldest ?? 0}..${newest ?? 0}`,
      );
    }
  } catch (error) {
    await live.return();
    throw error;
  }
  return new ResumedSubscription(live, reader, options);
}

class ResumedSubscription implements OddsSubscription {
  #replayed: OddsUpdateMessage[] = [];
  /** Everything up to here was replayed: live updates at or before it are skipped. */
  #place: LogPlace;
  #replaying = true;

  constructor(
    private readonly live: OddsSubscription,
    private readonly reader: Pick<OddsReader, 'changesAfter'>,
    private readonly options: ResumeOptions,
  ) {
    this.#place = options.after;
  }

  get dropped(): number {
    return this.live.dropped;
  }

  get conflated(): number {
    return this.live.conflated;
  }

  async next(): Promise<IteratorResult<OddsUpdateMessage>> {
    while (this.#replaying && this.#replayed.length === 0) await this.#readPage();
    const replayed = this.#replayed.shift();
    if (replayed) return { value: replayed, done: false };
    for (;;) {
      const result = await this.live.next();
      if (result.done || !seenBy(this.#place, result.value.place.position, result.value.place.index)) return result;
    }
  }

  async nextBatch(max: number): Promise<IteratorResult<OddsUpdateMessage[]>> {
    while (this.#replaying && this.#replayed.length === 0) await this.#readPage();
    if (this.#replayed.length > 0) return { value: this.#replayed.splice(0, max), done: false };
    for (;;) {
      const result = await this.live.nextBatch(max);
      if (result.done) return result;
      // The batch itself when nothing in it was replayed: batches read from a shared tape are shared by identity.
      const replayedAny = result.value.some((update) => seenBy(this.#place, update.place.position, update.place.index));
      const fresh = replayedAny ? result.value.filter((update) => !seenBy(this.#place, update.place.position, update.place.index)) : result.value;
      if (fresh.length > 0) return { value: fresh, done: false };
    }
  }

  return(): Promise<IteratorResult<OddsUpdateMessage>> {
    this.#replaying = false;
    this.#replayed = [];
    return this.live.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** One round of the log after the place replayed so far, only the changes this subscriber follows. */
  async #readPage(): Promise<void> {
    const keep = (change: LoggedOddsChange) => matches(this.options, change);
    const page = await this.reader.changesAfter(this.#place, { limit: this.options.pageSize ?? 200, keep });
    if (!this.#replaying) return;
    const publishedAt = (this.options.now ?? Date.now)();
    for (const entry of page.entries) {
      const position = BigInt(entry.position);
      for (const { eventId, bookmakerId, snapshot, changedMarkets, index } of entry.odds) {
        this.#replayed.push({ eventId, bookmakerId, snapshot, changedMarkets, publishedAt, place: { position, index } });
      }
    }
    const last = page.entries.at(-1);
    if (last) this.#place = { position: BigInt(last.position) };
    if (!page.more) this.#replaying = false;
  }
}
