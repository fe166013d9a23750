import type { EventOddsRecord } from '../domain/records.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { LatestChange } from '../db/odds-store.js';
import type { Metrics } from '../ops/metrics.js';
import type { OddsBus } from '../live/odds-bus.js';
import type { Logger } from '../ops/log.js';
import type { SharedTier } from '../read/read-through.js';
import { cacheKey } from '../domain/cache-keys.js';

export interface ChangePublisherOptions {
  reader: Pick<OddsReader, 'events' | 'eventOdds'>;
  bus: OddsBus;
  now: () => number;
  /** The fleet's Redis cache tier: the changed odds are written there before the change is published. */
  sharedTier?: Pick<SharedTier, 'setMany'> | undefined;
  logger: Logger;
  metrics?: Pick<Metrics, 'ingestLag'> | undefined;
}

/**
 * Committed changes on their way to the bus. Every change not yet
 * published (odds of an (event, bookmaker), an event's state) goes out as
 * one message, with the changed events and their
 * whole current odds read after the commit. If the read or the bus fails,
 * the changes wait for the next try: a committed change is published at
 * least once, and the gateways keep the newer snapshot when two cross.
 */
export class ChangePublisher {
  /** Committed changes not yet on the bus, keyed `eventId:bookmakerId`. */
  readonly #unpublished = new Map<string, { eventId: number; bookmakerId: number }>();
  /** Events whose committed state change is not yet on the bus. */
  readonly #unpublishedEvents = new Set<number>();

  constructor(private readonly options: ChangePublisherOptions) {}

  add(changes: readonly LatestChange[], eventsChanged: readonly number[]): void {
    for (const pair of changes) this.#unpublished.set(`${pair.eventId}:${pair.bookmakerId}`, pair);
    for (const eventId of eventsChanged) this.#unpublishedEvents.add(eventId);
  }

  /** Publishes what waits; returns how many (event, bookmaker) changes went out (0 when it must try again). */
  async publish(): Promise<number> {
    if (this.#unpublished.size === 0 && this.#unpublishedEvents.size === 0) return 0;
    const changed = [...this.#unpublished.values()];
    const eventsChanged = [...this.#unpublishedEvents];
    const eventIds = [...new Set([...changed.map((c) => c.eventId), ...eventsChanged])];
    try {
      const { reader, bus, sharedTier, now } = this.options;
      const [events, odds] = await Promise.all([reader.events(eventIds), reader.eventOdds(eventIds)]);
      // Never fails: with Redis away the write is skipped, and gateways read the odds from the database.
      await sharedTier?.setMany([...odds.values()].map((value) => ({ key: cacheKey('EventOdds', value.eventId), value, ageMs: 0 })));
      const publishedAt = now();
      await bus.publish({ publishedAt, events: [...events.values()], odds: [...odds.values()], changed, eventsChanged });
      this.#observeLag(publishedAt, odds, changed);
    } catch (error) {
      this.options.logger.warn({ changes: changed.length, err: error }, 'committed changes not published yet, retrying next cycle');
      return 0;
    }
    this.#unpublished.clear();
    this.#unpublishedEvents.clear();
    return changed.length;
  }

  /** Capture-to-publish lag of each changed (event, bookmaker)'s published snapshot. */
  #observeLag(publishedAt: number, odds: Map<number, EventOddsRecord>, changed: Array<{ eventId: number; bookmakerId: number }>): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    for (const { eventId, bookmakerId } of changed) {
      const snapshot = odds.get(eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      if (snapshot) metrics.ingestLag(Math.max(0, publishedAt - Date.parse(snapshot.capturedAt)) / 1000);
    }
  }
}
