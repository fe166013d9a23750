import { outcomeKey } from './movement.js';
import type { ShapeMarket, StoredPrices } from './stored-odds.js';
import type { EventStatus, MarketStatus, OutcomeResult } from '../generated/prisma/enums.js';
import { marketId, outcomeId } from './odds-ids.js';

/**
 * The values the cache holds and resolvers read: plain, deeply frozen
 * objects, safe to share between requests. Times are ISO strings (what the
 * API sends) plus epoch milliseconds where code compares them.
 */

/**
 * The shape of these records as the fleet's Redis tier stores them: bump it
 * when a record gains, loses or changes a field, so gateways of two versions
 * (a rolling deploy) never read each other's entries. 2: ids on odds; 3: changedAt on outcomes.
 */
export const recordFormat = 3;

export interface SportRecord {
  readonly id: number;
  readonly key: string;
  readonly name: string;
}

export interface CompetitionRecord {
  readonly id: number;
  readonly sportId: number;
  readonly key: string;
  readonly name: string;
  readonly country: string | null;
}

export interface BookmakerRecord {
  readonly id: number;
  readonly key: string;
  readonly name: string;
}

export interface EventRecord {
  readonly id: number;
  readonly externalId: string;
  readonly sportId: number;
  readonly competitionId: number;
  readonly home: string;
  readonly away: string;
  readonly kickoffAt: string;
  readonly kickoffAtMs: number;
  readonly status: EventStatus;
  /** From kick-off on. */
  readonly score: { readonly home: number; readonly away: number } | null;
  /** While live. */
  readonly clock: { readonly period: string; readonly minute: number } | null;
}

export interface OutcomeRecord {
  /** The client's id (src/domain/odds-ids.ts). */
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly price: number;
  /** The price before the outcome's last change; null until it has changed once. */
  readonly previousPrice: number | null;
  /** When the price last changed (or the outcome was first offered). */
  readonly changedAt: string;
  readonly result: OutcomeResult | null;
}

export interface MarketRecord {
  /** The client's id (src/domain/odds-ids.ts). */
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly line: number | null;
  readonly status: MarketStatus;
  readonly margin: number;
  readonly outcomes: readonly OutcomeRecord[];
}

export interface SnapshotRecord {
  /** The stored snapshot's id. */
  readonly id: number;
  /** The client's id: the (event, bookmaker)'s for current odds, the snapshot's own in history (src/domain/odds-ids.ts). */
  readonly nodeId: string;
  readonly eventId: number;
  readonly bookmakerId: number;
  readonly capturedAt: string;
  readonly markets: readonly MarketRecord[];
}

export interface BestPriceRecord {
  readonly market: string;
  readonly line: number | null;
  readonly outcome: string;
  readonly price: number;
  readonly bookmakerId: number;
}

/** An event's current odds: the latest snapshot per bookmaker, and the best prices across them. */
export interface EventOddsRecord {
  readonly eventId: number;
  readonly snapshots: readonly SnapshotRecord[];
  readonly bestPrices: readonly BestPriceRecord[];
}

/** A page of `events`, before resolvers turn it into edges and nodes. */
export interface EventPage {
  readonly events: readonly EventRecord[];
  readonly hasNextPage: boolean;
  /** Events matching the filter come before this page. */
  readonly hasPreviousPage: boolean;
  readonly totalCount: number;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Walked without Object.values: a board page freezes tens of thousands of objects, each an array to collect.
    if (Array.isArray(value)) for (const child of value) deepFreeze(child);
    else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

export function eventRecord(row: {
  id: number;
  externalId: string;
  sportId: number;
  competitionId: number;
  home: string;
  away: string;
  /** A Date, or its text as PostgreSQL writes it (a raw query through Prisma). */
  kickoffAt: Date | string;
  status: EventStatus;
  scoreHome: number | null;
  scoreAway: number | null;
  clockPeriod: string | null;
  clockMinute: number | null;
}): EventRecord {
  const kickoffAt = new Date(row.kickoffAt);
  return deepFreeze({
    id: row.id,
    externalId: row.externalId,
    sportId: row.sportId,
    competitionId: row.competitionId,
    home: row.home,
    away: row.away,
    kickoffAt: kickoffAt.toISOString(),
    kickoffAtMs: kickoffAt.getTime(),
    status: row.status,
    score: row.scoreHome === null || row.scoreAway === null ? null : { home: row.scoreHome, away: row.scoreAway },
    clock: row.clockPeriod === null || row.clockMinute === null ? null : { period: row.clockPeriod, minute: row.clockMinute },
  });
}

/**
 * A stored shape (src/domain/stored-odds.ts) prepared once per digest for the records built from it: what
 * each market's and outcome's fields are that the shape alone decides, the suffixes of their ids, where
 * their numbers start, and the key best prices are found by. A board page builds 300 snapshots' markets
 * per miss from a few shapes.
 */
export interface RecordShape {
  readonly markets: readonly RecordShapeMarket[];
}

export interface RecordShapeMarket {
  readonly shape: ShapeMarket;
  /** The market record's fields the shape decides, as the record holds them. */
  readonly fixed: Pick<MarketRecord, 'key' | 'name' | 'line' | 'status'>;
  /** `marketId` without its owner. */
  readonly idSuffix: string;
  /** Its first outcome's price in `StoredPrices`. */
  readonly first: number;
  readonly outcomes: readonly RecordShapeOutcome[];
}

export interface RecordShapeOutcome {
  readonly fixed: Pick<OutcomeRecord, 'key' | 'name' | 'result'>;
  /** `outcomeId` without its market's id. */
  readonly idSuffix: string;
  /** `outcomeKey` of the outcome: best prices across bookmakers are found by it. */
  readonly bestKey: string;
}

export function recordShape(shape: readonly ShapeMarket[]): RecordShape {
  let first = 0;
  return deepFreeze({
    markets: shape.map((market) => {
      const prepared: RecordShapeMarket = {
        shape: market,
        fixed: { key: market.key, name: market.name, line: market.line, status: market.status },
        idSuffix: marketId('', market),
        first,
        outcomes: market.outcomes.map((outcome) => ({
          fixed: { key: outcome.key, name: outcome.name, result: outcome.result },
          idSuffix: outcomeId('', outcome.key),
          bestKey: outcomeKey(market, outcome.key),
        })),
      };
      first += market.outcomes.length * 3;
      return prepared;
    }),
  });
}

/**
 * Where a market record was built from a stored shape, that shape's market: best prices are then found by
 * its prepared keys, where a key made per outcome was a string to build and hash 4,000 times a board page.
 * Not enumerable: spread or serialised copies (the Redis tier's) do not carry it.
 */
const shapeOfRecord = Symbol('record shape');

export function recordShapeOf(market: MarketRecord): RecordShapeMarket | undefined {
  return (market as { [shapeOfRecord]?: RecordShapeMarket })[shapeOfRecord];
}

/**
 * A snapshot as stored (its shape, prepared, and its numbers) as the record every read and update carries;
 * `nodeId` as its place asks (current odds or history). `keep`: only these markets.
 */
export function storedSnapshotRecord(
  snapshot: { id: number; eventId: number; bookmakerId: number; capturedAt: Date | string },
  nodeId: string,
  shape: RecordShape,
  prices: StoredPrices,
  keep?: (market: ShapeMarket) => boolean,
): SnapshotRecord {
  const capturedAt = new Date(snapshot.capturedAt);
  // Its markets are frozen as built.
  return Object.freeze({
    id: snapshot.id,
    nodeId,
    eventId: snapshot.eventId,
    bookmakerId: snapshot.bookmakerId,
    capturedAt: capturedAt.toISOString(),
    markets: marketRecords(nodeId, shape, prices, capturedAt.getTime(), keep),
  });
}

/**
 * Markets as stored (a shape and its numbers), movement included, with each market's margin; `ownerId` is
 * their snapshot's `nodeId`. Built straight from the numbers, each object frozen as it is made (a board
 * page's records are thousands of objects: walking them again to freeze was a tenth of their cost).
 * `keep`: only these markets.
 */
export function marketRecords(
  ownerId: string,
  shape: RecordShape,
  prices: StoredPrices,
  capturedAtMs: number,
  keep?: (market: ShapeMarket) => boolean,
): readonly MarketRecord[] {
  // Outcomes of a snapshot mostly share a few change times: format each once.
  const isoByMs = new Map<number, string>();
  const records: MarketRecord[] = [];
  for (const market of shape.markets) {
    if (keep && !keep(market.shape)) continue;
    const id = ownerId + market.idSuffix;
    const outcomes: OutcomeRecord[] = new Array(market.outcomes.length);
    // overround's sum, in its order: the same margin to the last bit.
    let inverses = 0;
    for (let i = 0, at = market.first; i < outcomes.length; i++, at += 3) {
      const outcome = market.outcomes[i]!;
      const price = prices[at]!;
      const changedMs = capturedAtMs - prices[at + 2]!;
      let changedAt = isoByMs.get(changedMs);
      if (changedAt === undefined) isoByMs.set(changedMs, (changedAt = new Date(changedMs).toISOString()));
      inverses += 1 / price;
      outcomes[i] = Object.freeze({
        id: id + outcome.idSuffix,
        key: outcome.fixed.key,
        name: outcome.fixed.name,
        price,
        previousPrice: prices[at + 1] ?? null,
        changedAt,
        result: outcome.fixed.result,
      });
    }
    const { key, name, line, status } = market.fixed;
    const record = { id, key, name, line, status, margin: round(inverses - 1, 6), outcomes: Object.freeze(outcomes) };
    Object.defineProperty(record, shapeOfRecord, { value: market });
    records.push(Object.freeze(record));
  }
  return Object.freeze(records);
}

export function eventOddsRecord(eventId: number, snapshots: SnapshotRecord[]): EventOddsRecord {
  snapshots.sort((a, b) => a.bookmakerId - b.bookmakerId);
  const best = new Map<string, BestPriceRecord>();
  for (const snapshot of snapshots) {
    for (const market of snapshot.markets) {
      const shaped = recordShapeOf(market);
      const outcomes = market.outcomes;
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]!;
        const key = shaped ? shaped.outcomes[i]!.bestKey : outcomeKey(market, outcome.key);
        const current = best.get(key);
        // Ties go to the bookmaker seen first (lowest id), so results are stable.
        if (!current || outcome.price > current.price) {
          best.set(
            key,
            Object.freeze({ market: market.key, line: market.line, outcome: outcome.key, price: outcome.price, bookmakerId: snapshot.bookmakerId }),
          );
        }
      }
    }
  }
  return deepFreeze({ eventId, snapshots, bestPrices: [...best.values()] });
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
