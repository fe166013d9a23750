import { createHash } from 'node:crypto';
import type { MarketStatus, OutcomeResult } from '../generated/prisma/enums.js';
import type { MovedMarket } from './movement.js';

/**
 * How a snapshot's markets are stored (issue 16): what rarely changes between
 * a bookmaker's snapshots (market keys, names, lines and statuses, outcome
 * keys, names and results: the snapshot's shape) once per distinct shape in
 * `market_shape`, named by a digest of its JSON; per snapshot only the shape's
 * digest and its numbers. Names repeated in every snapshot were most of a
 * document's bytes (about 1.7 KB of JSON for 5 markets, 620 bytes stored
 * compressed; the numbers alone about 150).
 */
export interface ShapeMarket {
  key: string;
  name: string;
  line: number | null;
  status: MarketStatus;
  outcomes: Array<{ key: string; name: string; result: OutcomeResult | null }>;
}

/**
 * A snapshot's numbers, three per outcome in the shape's order: price, the
 * price before its last change (null until it changed once), and how long
 * before the capture it last changed, in ms (0: this snapshot changed it).
 */
export type StoredPrices = ReadonlyArray<number | null>;

export interface StoredMarkets {
  shape: ShapeMarket[];
  /** The shape as stored, and the digest that names it. */
  shapeJson: string;
  digest: string;
  prices: StoredPrices;
  /** `prices` as JSON. */
  pricesJson: string;
}

/** The stored form of markets captured at `capturedAtMs`. */
export function storedMarkets(markets: readonly MovedMarket[], capturedAtMs: number): StoredMarkets {
  const prices: Array<number | null> = [];
  const shape = markets.map((market) => ({
    key: market.key,
    name: market.name,
    line: market.line,
    status: market.status,
    outcomes: market.outcomes.map((outcome) => {
      prices.push(outcome.price, outcome.previousPrice, capturedAtMs - outcome.changedAtMs);
      return { key: outcome.key, name: outcome.name, result: outcome.result };
    }),
  }));
  const shapeJson = JSON.stringify(shape);
  return { shape, shapeJson, digest: shapeDigest(shapeJson), prices, pricesJson: JSON.stringify(prices) };
}

/** The markets a stored shape and its numbers stand for. */
export function movedMarkets(shape: readonly ShapeMarket[], prices: StoredPrices, capturedAtMs: number): MovedMarket[] {
  let at = 0;
  return shape.map((market) => ({
    key: market.key,
    name: market.name,
    line: market.line,
    status: market.status,
    outcomes: market.outcomes.map((outcome) => {
      const moved = {
        key: outcome.key,
        name: outcome.name,
        price: prices[at]!,
        previousPrice: prices[at + 1] ?? null,
        changedAtMs: capturedAtMs - prices[at + 2]!,
        result: outcome.result,
      };
      at += 3;
      return moved;
    }),
  }));
}

/**
 * The digest naming a shape: md5 of its JSON, as a uuid (16 bytes a row).
 * The migration names the shapes it converts the same way, from PostgreSQL's
 * own JSON text: one shape may then be stored twice under two digests, which
 * costs a row, never a wrong answer.
 */
export function shapeDigest(shapeJson: string): string {
  const hex = createHash('md5').update(shapeJson).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
