import type { OddsReader } from '../db/odds-reader.js';
import type { Metrics } from '../ops/metrics.js';
import type { OddsBus } from '../live/odds-bus.js';
import type { Logger } from '../ops/log.js';
import type { SharedTier } from '../read/read-through.js';
import { cacheKey } from '../domain/cache-keys.js';
import type { LogBatch } from '../domain/change-log.js';

export interface ChangePublisherOptions {
  reader: Pick<OddsReader, 'changesAt' | 'eventOdds'>;
  bus: OddsBus;
  now: () => number;
  /** The fleet's Redis cache tier: the changed odds are written there before the change is published. */
  sharedTier?: Pick<SharedTier, 'setMany'> | undefined;
  logger: Logger;
  metrics?: Pick<Metrics, 'ingestLag'> | undefined;
}

/**
 * Committed changes on their way to the bus. The change-log positions this
 * worker committed and has not published yet go out as one message, read
 * back from the log after the commit. If the read or the bus fails, they
 * wait for the next try; if the worker dies first, gateways see the
 * positions missing and read them from the log themselves.
 */
export class ChangePublisher {
  /** Change-log positions committed by this worker and not yet on the bus. */
  readonly #unpublished = new Set<bigint>();

  constructor(private readonly options: ChangePublisherOptions) {}

  add(position: bigint | null): void {
    if (position !== null) this.#unpublished.add(position);
  }

  /** Publishes what waits; returns how many (event, bookmaker) changes went out (0 when it must try again). */
  async publish(): Promise<number> {
    if (this.#unpublished.size === 0) return 0;
    const positions = [...this.#unpublished];
    let changed = 0;
    try {
      const { reader, bus, sharedTier, now } = this.options;
      const batch = await reader.changesAt(positions);
      if (sharedTier) {
        const odds = await reader.eventOdds([...new Set(batch.entries.flatMap((e) => e.odds.map((o) => o.eventId)))]);
        // Never fails: with Redis away the write is skipped, and gateways read the odds from the database.
        await sharedTier.setMany([...odds.values()].map((value) => ({ key: cacheKey('EventOdds', value.eventId), value, ageMs: 0 })));
      }
      const publishedAt = now();
      await bus.publish({ publishedAt, ...batch });
      changed = this.#observeLag(publishedAt, batch);
    } catch (error) {
      this.options.logger.warn({ positions: positions.length, err: error }, 'committed changes not published yet, retrying next cycle');
      return 0;
    }
    for (const position of positions) this.#unpublished.delete(position);
    return changed;
  }

  /** Capture-to-publish lag of each published snapshot; returns how many there were. */
  #observeLag(publishedAt: number, batch: LogBatch): number {
    let count = 0;
    for (const entry of batch.entries) {
      for (const { snapshot } of entry.odds) {
        this.options.metrics?.ingestLag(Math.max(0, publishedAt - Date.parse(snapshot.capturedAt)) / 1000);
        count++;
      }
    }
    return count;
  }
}
