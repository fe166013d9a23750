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

/**
 * Stores the shapes of `stored` that `market_shape` does not hold yet. In the
 * transaction that writes the snapshots naming them: they commit together.
 */
export async function writeShapes(query: RowQuery, stored: readonly StoredMarkets[]): Promise<void> {
  const shapes = new Map(stored.map((s) => [s.digest, s.shapeJson]));
  await query(
    `INSERT INTO market_shape (digest, markets)
     SELECT digest, markets::jsonb FROM unnest($1::uuid[], $2::text[]) AS s(digest, markets)
     ON CONFLICT (digest) DO NOTHING`,
    [[...shapes.keys()], [...shapes.values()]],
  );
}

/** The shape a row names; a missing one is an error: shapes are written with their snapshots and never deleted. */
export function shapeOf<T>(shapes: ReadonlyMap<string, T>, digest: string, what: string): T {
  const shape = shapes.get(digest);
  if (!shape) throw new Error(`${what} names market shape ${digest}, which market_shape does not hold`);
  return shape;
}
