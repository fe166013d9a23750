import { boardWindowMs, type BoardIndex } from '../read/board-index.js';
import { type OddsCache } from '../read/odds-cache.js';
import { cacheKey } from '../domain/cache-keys.js';
import type { LogBatch } from '../domain/change-log.js';
import { eventOddsRecord, type EventOddsRecord, type SnapshotRecord } from '../domain/records.js';
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
 * A gateway's side of the change log: each entry replaces the changed odds
 * in this gateway's cache, puts new events on its board, and only then tells
 * its subscribers, so a client that queries right after an update sees that
 * price. Past events leave the board as changes arrive.
 */
export class LiveOdds {
  readonly #options: LiveOddsOptions;
  readonly #now: () => number;

  constructor(options: LiveOddsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Applies log entries: every moved snapshot replaces its bookmaker's in the
   * cached odds of its event, then each reaches subscribers, in position
   * order, with its place in the log. Returns how many subscriber updates it
   * published.
   */
  apply(batch: LogBatch, publishedAt: number): number {
    const { pubsub } = this.#options;
    const events = new Map(batch.events.map((event) => [event.id, event]));
    this.#placeEvents(batch);
    this.#placeOdds(batch);
    let published = 0;
    for (const entry of batch.entries) {
      const position = BigInt(entry.position);
      for (const { eventId, bookmakerId, snapshot, changedMarkets, index } of entry.odds) {
        pubsub.publish({ eventId, bookmakerId, snapshot, changedMarkets, publishedAt, place: { position, index } });
        published++;
      }
      for (const eventId of entry.eventsChanged) {
        const event = events.get(eventId);
        if (!event) continue;
        pubsub.publishEvent({ eventId, event, publishedAt, place: { position } });
        published++;
      }
    }
    this.evictPastEvents();
    return published;
  }

  /**
   * Each moved snapshot into its event's cached odds (an event whose odds are not cached is left to the next
   * read): one new record per event, however many of its bookmakers moved in the batch, as building one
   * (best prices, freezing, sizing) was most of a catch-up's CPU.
   */
  #placeOdds(batch: LogBatch): void {
    const { cache } = this.#options;
    const moved = new Map<number, SnapshotRecord[]>();
    for (const entry of batch.entries) {
      for (const { eventId, snapshot } of entry.odds) {
        const snapshots = moved.get(eventId);
        if (snapshots) snapshots.push(snapshot);
        else moved.set(eventId, [snapshot]);
      }
    }
    for (const [eventId, snapshots] of moved) {
      const key = cacheKey('EventOdds', eventId);
      const cached = cache.peek<EventOddsRecord>(key)?.value;
      if (!cached) continue;
      const kept = withSnapshots(cached, snapshots);
      if (kept !== cached) cache.set(key, kept);
    }
  }

  /** The touched events' records into the cache, and onto the board when it shows them. */
  #placeEvents(batch: LogBatch): void {
    const { cache, board } = this.#options;
    const withOdds = new Set(batch.entries.flatMap((entry) => entry.odds.map((o) => o.eventId)));
    for (const event of batch.events) {
      cache.set(cacheKey('Event', event.id), event);
      if (!board) continue;
      if (board.has(event.id)) {
        board.replace(event);
        if (withOdds.has(event.id)) board.markWithOdds(event.id);
      } else if (event.kickoffAtMs >= board.windowStart()) board.upsert(event, withOdds.has(event.id));
    }
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

  /** After changes were missed for good (the log no longer holds them): forget all cached odds, so the next reads load them from the database. */
  forgetOdds(): number {
    return this.#options.cache.invalidateKind('EventOdds');
  }
}

/**
 * The cached odds with each of `moved` (in log order) as its bookmaker's, except where the cache holds a
 * later one for that bookmaker (odds read from the database after a later commit than the one being
 * applied): the older must not win.
 */
function withSnapshots(cached: EventOddsRecord, moved: readonly SnapshotRecord[]): EventOddsRecord {
  const byBookmaker = new Map(cached.snapshots.map((s) => [s.bookmakerId, s]));
  let changed = false;
  for (const snapshot of moved) {
    const current = byBookmaker.get(snapshot.bookmakerId);
    if (current && Date.parse(current.capturedAt) > Date.parse(snapshot.capturedAt)) continue;
    byBookmaker.set(snapshot.bookmakerId, snapshot);
    changed = true;
  }
  return changed ? eventOddsRecord(cached.eventId, [...byBookmaker.values()]) : cached;
}
