import { outcomeKey } from './movement.js';
import type { ShapeMarket, StoredPrices } from './stored-odds.js';
import { overround } from './odds.js';
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
  kickoffAt: Date;
  status: EventStatus;
  scoreHome: number | null;
  scoreAway: number | null;
  clockPeriod: string | null;
  clockMinute: number | null;
}): EventRecord {
  return deepFreeze({
    id: row.id,
    externalId: row.externalId,
    sportId: row.sportId,
    competitionId: row.competitionId,
    home: row.home,
    away: row.away,
    kickoffAt: row.kickoffAt.toISOString(),
    kickoffAtMs: row.kickoffAt.getTime(),
    status: row.status,
    score: row.scoreHome === null || row.scoreAway === null ? null : { home: row.scoreHome, away: row.scoreAway },
    clock: row.clockPeriod === null || row.clockMinute === null ? null : { period: row.clockPeriod, minute: row.clockMinute },
  });
}

/**
 * Markets as stored (a shape and its numbers, src/domain/stored-odds.ts), movement included, with each
 * market's margin; `ownerId` is their snapshot's `nodeId`. Built straight from the numbers, with no
 * document in between: a board page builds 300 snapshots' markets per miss. `keep`: only these markets.
 */
export function marketRecords(
  ownerId: string,
  shape: readonly ShapeMarket[],
  prices: StoredPrices,
  capturedAtMs: number,
  keep?: (market: ShapeMarket) => boolean,
): MarketRecord[] {
  // Outcomes of a snapshot mostly share a few change times: format each once.
  const isoByMs = new Map<number, string>();
  const iso = (ms: number) => isoByMs.get(ms) ?? isoByMs.set(ms, new Date(ms).toISOString()).get(ms)!;
  const records: MarketRecord[] = [];
  let at = 0;
  for (const market of shape) {
    const first = at;
    at += market.outcomes.length * 3;
    if (keep && !keep(market)) continue;
    const id = marketId(ownerId, market);
    const outcomes = market.outcomes.map((outcome, i) => ({
      id: outcomeId(id, outcome.key),
      key: outcome.key,
      name: outcome.name,
      price: prices[first + i * 3]!,
      previousPrice: prices[first + i * 3 + 1] ?? null,
      changedAt: iso(capturedAtMs - prices[first + i * 3 + 2]!),
      result: outcome.result,
    }));
    records.push({
      id,
      key: market.key,
      name: market.name,
      line: market.line,
      status: market.status,
      margin: round(overround(outcomes.map((o) => o.price)), 6),
      outcomes,
    });
  }
  return records;
}

export function eventOddsRecord(eventId: number, snapshots: SnapshotRecord[]): EventOddsRecord {
  snapshots.sort((a, b) => a.bookmakerId - b.bookmakerId);
  const best = new Map<string, BestPriceRecord>();
  for (const snapshot of snapshots) {
    for (const market of snapshot.markets) {
      for (const outcome of market.outcomes) {
        const key = outcomeKey(market, outcome.key);
        const current = best.get(key);
        // Ties go to the bookmaker seen first (lowest id), so results are stable.
        if (!current || outcome.price > current.price) {
          best.set(key, {
            market: market.key,
            line: market.line,
            outcome: outcome.key,
            price: outcome.price,
            bookmakerId: snapshot.bookmakerId,
          });
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
