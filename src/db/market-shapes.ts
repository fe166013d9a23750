import type { ShapeMarket, StoredMarkets } from '../domain/stored-odds.js';
import type { RowQuery } from './database.js';

/** A snapshot as stored: when it was captured, the digest of its shape, and its `StoredPrices` as JSON text. */
export interface StoredRow {
  capturedAt: Date | string;
  shape: string;
  prices: string;
}

/** The columns of `StoredRow` past the capture time, as text on every driver (prices are parsed by us, not the driver). */
export const storedColumns = 'shape::text AS shape, prices::text AS prices';

/** The shapes of these digests that `market_shape` holds, parsed. */
export async function readShapes(query: RowQuery, digests: Iterable<string>): Promise<Map<string, ShapeMarket[]>> {
  const wanted = [...new Set(digests)];
  if (wanted.length === 0) return new Map();
  const rows = await query<{ digest: string; markets: string }>(
    'SELECT digest::text AS digest, markets::text AS markets FROM market_shape WHERE digest = ANY($1::uuid[])',
    [wanted],
  );
  return new Map(rows.map((row) => [row.digest, JSON.parse(row.markets) as ShapeMarket[]]));
}

/** A shape as a snapshot names it, with when that snapshot was captured. */
export interface NamedShape {
  stored: StoredMarkets;
  capturedAt: Date;
}

/**
 * Stores the shapes these snapshots name that `market_shape` does not hold
 * yet, and moves each one's `last_captured_on` forward to its newest capture
 * day here. In the transaction that writes the snapshots naming them: they
 * commit together.
 *
 * The day is moved first, so a shape that history upkeep deletes meanwhile
 * (src/db/history-partitions.ts) is never named by a snapshot committed after:
 * if upkeep's delete came first, this update waits for it, finds no row, and
 * the insert below stores the shape again; if this update came first, the
 * delete waits for this transaction, then sees a day inside the retention and
 * keeps the shape. A shape already at this day or later is not written at all.
 */
export async function writeShapes(query: RowQuery, named: readonly NamedShape[]): Promise<void> {
  const newest = new Map<string, { json: string; day: string }>();
  for (const { stored, capturedAt } of named) {
    const day = capturedAt.toISOString().slice(0, 10);
    const known = newest.get(stored.digest);
    if (!known) newest.set(stored.digest, { json: stored.shapeJson, day });
    else if (known.day < day) known.day = day;
  }
  // In digest order, so two transactions moving the same shapes' days lock them in the same order.
  const digests = [...newest.keys()].sort();
  const days = digests.map((digest) => newest.get(digest)!.day);
  await query(
    `UPDATE market_shape s SET last_captured_on = d.day
     FROM unnest($1::uuid[], $2::date[]) AS d(digest, day)
     WHERE s.digest = d.digest AND s.last_captured_on < d.day`,
    [digests, days],
  );
  await query(
    `INSERT INTO market_shape (digest, markets, last_captured_on)
     SELECT digest, markets::jsonb, day FROM unnest($1::uuid[], $2::text[], $3::date[]) AS s(digest, markets, day)
     ON CONFLICT (digest) DO NOTHING`,
    [digests, digests.map((digest) => newest.get(digest)!.json), days],
  );
}

/** The shape a row names; a missing one is an error: shapes are written with their snapshots and deleted only once none names them. */
export function shapeOf<T>(shapes: ReadonlyMap<string, T>, digest: string, what: string): T {
  const shape = shapes.get(digest);
  if (!shape) throw new Error(`${what} names market shape ${digest}, which market_shape does not hold`);
  return shape;
}
