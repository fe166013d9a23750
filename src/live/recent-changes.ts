import { seenBy, type LogBatch, type LogEntry, type LogPlace, type OddsLogItem } from '../domain/change-log.js';
import type { EventRecord } from '../domain/records.js';
import type { LogReadOptions, OddsReader } from '../db/odds-reader.js';

/** What resuming reads: the log's bounds, and its pages. */
export type LogReader = Pick<OddsReader, 'changesAfter' | 'logBounds'>;

export interface RecentChangesOptions {
  /** The position the gateway's cache reflects at start: the window holds what it applies after it. */
  startAfter: bigint;
  /**
   * Moved odds kept, at most (default 2,000: about 40 s at the simulated feed's 50 changes a second, 4 s at
   * 500). Each is a snapshot record the cache may no longer hold: 5,000 of them took about 48 MB more heap.
   */
  maxOdds?: number;
  /** How long a position is kept, in milliseconds (default 5 minutes; less than the change log's replay window, 15 minutes at least). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * The newest stretch of the change log as this gateway applied it, kept in
 * memory (the same frozen records its cache and subscribers got), so that a
 * subscriber resuming after a place inside it is answered without the
 * database's log rows, snapshots and events. Every subscriber that
 * reconnects at once (a network blip, a gateway of the fleet gone) read
 * them for itself: three queries each (besides the log's bounds, still
 * checked), their rows' JSON parsed again each time.
 *
 * Why it is gap-free: entries are appended in the same synchronous call that
 * publishes them to subscribers (src/live/live-side.ts), and a resumed
 * subscription is live before it reads (src/live/resume.ts); so a change is
 * in the window when read, or reaches the subscription live, or both. A
 * position applied in pieces (a catch-up's long positions) is not answered
 * from here until its last piece: a page ending inside it would let the
 * subscriber skip its remaining items as already seen.
 */
export class RecentChanges {
  /** Everything after this position, up to the newest entry, is in `#entries`. */
  #after: bigint;
  /** Each position with the records of the events its pieces touched, as they were then. */
  readonly #entries: Array<{ entry: LogEntry; events: readonly EventRecord[]; appliedAt: number }> = [];
  /** The last position applied whole (its last piece applied). */
  #complete: bigint;
  readonly #maxOdds: number;
  /** Moved odds in `#entries` (a position that moved none counts as one). */
  #odds = 0;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #pagesAnswered = 0;

  constructor({ startAfter, maxOdds = 2_000, maxAgeMs = 5 * 60_000, now = Date.now }: RecentChangesOptions) {
    this.#after = this.#complete = startAfter;
    this.#maxOdds = maxOdds;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** Replay pages answered from the window since start (for health and tests). */
  get pagesAnswered(): number {
    return this.#pagesAnswered;
  }

  /** A piece the follower applied (src/live/log-follower.ts): in position order, each item once. */
  append(batch: LogBatch & { completes: string | null }): void {
    for (const entry of batch.entries) {
      const last = this.#entries.at(-1);
      if (last?.entry.position === entry.position) {
        // The next piece of a long position.
        this.#odds -= weight(last.entry);
        last.entry = { position: entry.position, odds: [...last.entry.odds, ...entry.odds], eventsChanged: [...last.entry.eventsChanged, ...entry.eventsChanged] };
        last.events = [...last.events, ...batch.events];
        this.#odds += weight(last.entry);
      } else {
        this.#entries.push({ entry, events: batch.events, appliedAt: this.#now() });
        this.#odds += weight(entry);
      }
    }
    if (batch.completes !== null) this.#complete = BigInt(batch.completes);
    this.#trim();
  }

  /** The follower skipped positions the log no longer held: the window starts again after `position`. */
  restartAfter(position: bigint): void {
    this.#entries.length = 0;
    this.#odds = 0;
    this.#after = this.#complete = position;
  }

  /** `reader` answering from the window where it holds the place asked about. */
  over(reader: LogReader): LogReader {
    return {
      // Still read: a place older than the log keeps is CURSOR_EXPIRED whatever memory holds. One indexed query.
      logBounds: () => reader.logBounds(),
      changesAfter: (place, options) => {
        const page = this.changesAfter(place, options);
        return page ? Promise.resolve(page) : reader.changesAfter(place, options);
      },
    };
  }

  /** Whether everything after `place` that the log holds now is in the window. */
  holds(place: LogPlace): boolean {
    if (this.#partial()) return false;
    // A place inside position `#after` needs that position's later items, which the window does not hold.
    const from = place.index === undefined ? place.position >= this.#after : place.position > this.#after;
    return from && place.position <= this.#complete;
  }

  /** What `OddsReader.changesAfter` answers, from the window; undefined when the window does not hold `place`. */
  changesAfter(place: LogPlace, { limit = 1_000, keep, keepEvent }: LogReadOptions = {}): (LogBatch & { more: boolean }) | undefined {
    this.#trim();
    if (!this.holds(place)) return undefined;
    // After a whole position, from the next; inside one, from its later items.
    const start = this.#entries.findIndex(({ entry }) => (place.index === undefined ? BigInt(entry.position) > place.position : BigInt(entry.position) >= place.position));
    const stored = start < 0 ? [] : this.#entries.slice(start);
    const after = stored.map(({ entry }) => entry);
    const page = after.slice(0, limit);
    // Each event's newest record the window holds: later positions' records replace earlier ones.
    const newest = new Map<number, EventRecord>();
    for (const { events } of stored) for (const event of events) newest.set(event.id, event);
    const touched = new Set<number>();
    const entries = page.map((entry): LogEntry => {
      const position = BigInt(entry.position);
      const odds = entry.odds.filter((item) => !seenBy(place, position, item.index) && (!keep || keep(loggedChange(item))));
      const eventsChanged = keepEvent ? entry.eventsChanged.filter(keepEvent) : entry.eventsChanged;
      for (const item of odds) touched.add(item.eventId);
      for (const eventId of eventsChanged) touched.add(eventId);
      return { position: entry.position, odds, eventsChanged };
    });
    this.#pagesAnswered++;
    return { entries, events: [...touched].flatMap((id) => newest.get(id) ?? []), more: after.length > limit };
  }

  #partial(): boolean {
    const last = this.#entries.at(-1);
    return last !== undefined && BigInt(last.entry.position) > this.#complete;
  }

  /** Drops the oldest positions past the window's size or age (never one still being applied). */
  #trim(): void {
    const oldestKept = this.#now() - this.#maxAgeMs;
    let drop = 0;
    while (
      drop < this.#entries.length &&
      BigInt(this.#entries[drop]!.entry.position) <= this.#complete &&
      (this.#odds > this.#maxOdds || this.#entries[drop]!.appliedAt < oldestKept)
    ) {
      this.#odds -= weight(this.#entries[drop]!.entry);
      drop++;
    }
    if (drop === 0) return;
    this.#after = BigInt(this.#entries[drop - 1]!.entry.position);
    this.#entries.splice(0, drop);
  }
}

function weight(entry: LogEntry): number {
  return Math.max(1, entry.odds.length);
}

/** An applied item as the log stores it, for the filters written against the log (`LogReadOptions.keep`). */
function loggedChange(item: OddsLogItem) {
  return { eventId: item.eventId, bookmakerId: item.bookmakerId, snapshotId: item.snapshot.id, capturedAt: item.snapshot.capturedAt, changedMarkets: item.changedMarkets };
}
