import { LRUCache } from 'lru-cache';
import type { LogEntry } from '../domain/change-log.js';
import { latestOddsId } from '../domain/odds-ids.js';
import { deepFreeze, recordShape, storedSnapshotRecord, type EventRecord, type RecordShape, type SnapshotRecord } from '../domain/records.js';
import { storedMarkets, type ShapeMarket, type StoredPrices } from '../domain/stored-odds.js';
import type { OddsChange } from './odds-bus.js';

/**
 * Odds changes as they cross Redis: each snapshot as storage holds it (src/domain/stored-odds.ts), the digest
 * of its shape and its numbers, each shape once per message, instead of its records' JSON. At the simulated
 * feed's 480 changes a second a worker's message was 1.3 MB of records on average and 3.6 MB at most, mostly
 * ids and names repeated in every outcome, and each gateway parsed it in one piece: 15-30 ms of its event loop
 * at a time, most of what kept its loop delay over 50 ms with 1,000 subscribers (bench/fanout.ts). Gateways
 * build the records from prepared shapes, as a read from the database does: the same records.
 */
interface WireChange {
  format: typeof wireFormat;
  publishedAt: number;
  entries: Array<{ position: string; odds: WireItem[]; eventsChanged: number[] }>;
  events: EventRecord[];
  /** The shapes the items name, by digest. */
  shapes: Record<string, ShapeMarket[]>;
}

interface WireItem {
  index: number;
  eventId: number;
  bookmakerId: number;
  /** The snapshot's id, capture time (ISO), shape digest and numbers. */
  id: number;
  capturedAt: string;
  shape: string;
  prices: StoredPrices;
  changedMarkets: string[];
}

/** Bumped when the message changes shape: a gateway refuses (and fills from the log) a format it does not know. */
const wireFormat = 2;

/** A change as a worker publishes it. Its snapshots are current odds (their `nodeId` is the (event, bookmaker)'s). */
export function encodeOddsChange(change: OddsChange): string {
  const shapes: Record<string, ShapeMarket[]> = {};
  const item = (odds: LogEntry['odds'][number]): WireItem => {
    const { snapshot } = odds;
    const capturedAtMs = Date.parse(snapshot.capturedAt);
    const moved = snapshot.markets.map((market) => ({
      key: market.key,
      name: market.name,
      line: market.line,
      status: market.status,
      outcomes: market.outcomes.map((outcome) => ({ ...outcome, changedAtMs: Date.parse(outcome.changedAt) })),
    }));
    const stored = storedMarkets(moved, capturedAtMs);
    shapes[stored.digest] ??= stored.shape;
    return {
      index: odds.index,
      eventId: odds.eventId,
      bookmakerId: odds.bookmakerId,
      id: snapshot.id,
      capturedAt: snapshot.capturedAt,
      shape: stored.digest,
      prices: stored.prices,
      changedMarkets: [...odds.changedMarkets],
    };
  };
  const entries = change.entries.map((entry) => ({ position: entry.position, odds: entry.odds.map(item), eventsChanged: [...entry.eventsChanged] }));
  const wire: WireChange = { format: wireFormat, publishedAt: change.publishedAt, entries, events: [...change.events], shapes };
  return JSON.stringify(wire);
}

/** Reads what `encodeOddsChange` wrote, frozen (every listener shares it), with each shape prepared once per process. */
export class OddsChangeDecoder {
  readonly #shapes = new LRUCache<string, RecordShape>({ max: 10_000 });

  decode(json: unknown): OddsChange {
    const wire = json as Partial<WireChange> | null;
    if (
      typeof wire !== 'object' ||
      wire === null ||
      wire.format !== wireFormat ||
      typeof wire.publishedAt !== 'number' ||
      !Array.isArray(wire.events) ||
      typeof wire.shapes !== 'object' ||
      wire.shapes === null ||
      !Array.isArray(wire.entries) ||
      !wire.entries.every((entry) => typeof entry?.position === 'string' && /^\d+$/.test(entry.position) && Array.isArray(entry.odds) && Array.isArray(entry.eventsChanged))
    ) {
      throw new Error(`an odds change has format ${wireFormat}, a numeric publishedAt, events, shapes and log entries with a decimal position, odds and eventsChanged`);
    }
    const shapes = wire.shapes;
    const entries = wire.entries.map(
      (entry): LogEntry => ({
        position: entry.position,
        odds: entry.odds.map((item) => this.#item(item, shapes)),
        eventsChanged: entry.eventsChanged,
      }),
    );
    return deepFreeze({ publishedAt: wire.publishedAt, entries, events: wire.events });
  }

  /**
   * An item whose snapshot record is built when first read: a gateway applies a message a piece at a time
   * (src/live/log-follower.ts), and building the records of a whole message at once held its event loop as
   * long as parsing them had. Its shape is checked now, so a message that cannot be read is refused whole.
   */
  #item(item: WireItem, shapes: Record<string, ShapeMarket[]>): LogEntry['odds'][number] {
    const wellFormed =
      [item.index, item.eventId, item.bookmakerId, item.id].every(Number.isInteger) &&
      typeof item.capturedAt === 'string' &&
      !Number.isNaN(Date.parse(item.capturedAt)) &&
      Array.isArray(item.prices) &&
      Array.isArray(item.changedMarkets);
    if (!wellFormed) throw new Error(`an odds change's item has integer index, eventId, bookmakerId and id, a capture time, prices and changedMarkets; got ${JSON.stringify(item).slice(0, 200)}`);
    const shape = this.#shape(item, shapes);
    let snapshot: SnapshotRecord | undefined;
    return Object.freeze({
      index: item.index,
      eventId: item.eventId,
      bookmakerId: item.bookmakerId,
      get snapshot() {
        return (snapshot ??= storedSnapshotRecord(item, latestOddsId(item.eventId, item.bookmakerId), shape, item.prices));
      },
      changedMarkets: Object.freeze(item.changedMarkets),
    });
  }

  #shape(item: WireItem, shapes: Record<string, ShapeMarket[]>): RecordShape {
    let shape = this.#shapes.get(item.shape);
    if (!shape) {
      const markets = shapes[item.shape];
      if (!Array.isArray(markets)) throw new Error(`an odds change's snapshot ${item.id} names shape ${item.shape}, which the change does not carry`);
      shape = recordShape(deepFreeze(markets));
      this.#shapes.set(item.shape, shape);
    }
    return shape;
  }
}
