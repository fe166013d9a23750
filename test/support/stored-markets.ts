import type { Database } from '../../src/db/database.js';
import { readShapes } from '../../src/db/market-shapes.js';
import type { MovedMarket } from '../../src/domain/movement.js';
import { movedMarkets, type StoredPrices } from '../../src/domain/stored-odds.js';

/** A history or latest-odds row as Prisma reads it. */
interface StoredRow {
  capturedAt: Date;
  shape: string;
  prices: unknown;
}

/** The rows with the markets their shape and prices stand for. */
export async function withMarkets<T extends StoredRow>(db: Database, rows: readonly T[]): Promise<Array<T & { markets: MovedMarket[] }>> {
  const shapes = await readShapes(db.query, rows.map((row) => row.shape));
  return rows.map((row) => ({ ...row, markets: movedMarkets(shapes.get(row.shape)!, row.prices as StoredPrices, row.capturedAt.getTime()) }));
}
