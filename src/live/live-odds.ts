import { boardWindowMs, type BoardIndex } from '../read/board-index.js';
import { type OddsCache } from '../read/odds-cache.js';
import { cacheKey } from '../domain/cache-keys.js';
import { changedMarketKeys } from '../domain/market-changes.js';
import { eventOddsRecord, type EventOddsRecord } from '../domain/records.js';
import type { OddsChange } from './odds-bus.js';
import type { PubSub } from './pubsub.js';

export interface LiveOddsOptions {
  cache: OddsCache;
  /** Null with `CACHE=off`. */
  board: BoardIndex | null;
  /** This gateway's own subscribers. */
  pubsub: PubSub;
  now?: () => number;
}

/**
 * A gateway's side of the odds bus: each change replaces the changed
 * events' odds in this gateway's cache, puts new events on its board, and
 * only then tells its subscribers, so a client that queries right after an
 * update sees that price. Past events leave the board as changes arrive.
 */
export class LiveOdds {
  readonly #options: LiveOddsOptions;
  readonly #now: () => number;

  constructor(options: LiveOddsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Applies one change; returns how many subscriber updates it published. */
  apply(change: OddsChange): number {
    const { cache, board, pubsub } = this.#options;
    const current = new Map<number, EventOddsRecord>();
    // What subscribers last saw, to tell them which markets moved.
    const previous = new Map<number, EventOddsRecord | undefined>();
    for (const incoming of change.odds) {
      const key = cacheKey('EventOdds', incoming.eventId);
      const cached = cache.peek<EventOddsRecord>(key)?.value;
      previous.set(incoming.eventId, cached);
      const kept = newest(cached, incoming);
      cache.set(key, kept);
      current.set(incoming.eventId, kept);
    }
    const withOdds = new Set(change.odds.filter((o) => o.snapshots.length > 0).map((o) => o.eventId));
    for (const event of change.events) {
      cache.set(cacheKey('Event', event.id), event);
      if (!board) continue;
      if (board.has(event.id)) {
        board.replace(event);
        if (withOdds.has(event.id)) board.markWithOdds(event.id);
      } else if (event.kickoffAtMs >= board.windowStart()) board.upsert(event, withOdds.has(event.id));
    }
    let published = 0;
    for (const { eventId, bookmakerId } of change.changed) {
      const incoming = change.odds.find((o) => o.eventId === eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      const kept = current.get(eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      // A change that arrives after a newer one for the same pair is not news.
      if (!incoming || kept !== incoming) continue;
      const before = previous.get(eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      pubsub.publish({ eventId, bookmakerId, snapshot: incoming, changedMarkets: changedMarketKeys(before, incoming), publishedAt: change.publishedAt });
      published++;
    }
    for (const eventId of change.eventsChanged ?? []) {
      const event = change.events.find((e) => e.id === eventId);
      if (!event) continue;
      pubsub.publishEvent({ eventId, event, publishedAt: change.publishedAt });
      published++;
    }
    this.evictPastEvents();
    return published;
  }

  /** Takes events more than two hours past kick-off off the board and out of the cache; returns their count. */
  evictPastEvents(): number {
    const { board, cache } = this.#options;
    if (!board) return 0;
    const evicted = board.evictBefore(this.#now() - boardWindowMs);
    for (const id of evicted) {
      cache.invalidate(cacheKey('Event', id));
      cache.invalidate(cacheKey('EventOdds', id));
    }
    return evicted.length;
  }

  /** After messages may have been missed: forget all cached odds, so the next reads load them from the database. */
  forgetOdds(): number {
    return this.#options.cache.invalidateKind('EventOdds');
  }
}

/**
 * Per bookmaker, the later of the cached and the incoming snapshot: two
 * workers' changes can arrive out of order, and the older must not win.
 */
function newest(cached: EventOddsRecord | undefined, incoming: EventOddsRecord): EventOddsRecord {
  if (!cached) return incoming;
  const byBookmaker = new Map(incoming.snapshots.map((s) => [s.bookmakerId, s]));
  let changed = false;
  for (const snapshot of cached.snapshots) {
    const other = byBookmaker.get(snapshot.bookmakerId);
    if (!other || Date.parse(snapshot.capturedAt) > Date.parse(other.capturedAt)) {
      byBookmaker.set(snapshot.bookmakerId, snapshot);
      changed = true;
    }
  }
  return changed ? eventOddsRecord(incoming.eventId, [...byBookmaker.values()]) : incoming;
}
