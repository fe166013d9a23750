import { describe, expect, it } from 'vitest';
import type { MovedMarket } from '../../src/domain/movement.js';
import { outcomeKey } from '../../src/domain/movement.js';
import { overround } from '../../src/domain/odds.js';
import { marketId, outcomeId } from '../../src/domain/odds-ids.js';
import { eventOddsRecord, marketRecords, recordShape, recordShapeOf, type SnapshotRecord } from '../../src/domain/records.js';
import { movedMarkets, storedMarkets, type ShapeMarket, type StoredPrices } from '../../src/domain/stored-odds.js';

const capturedAtMs = Date.parse('2026-11-30T10:00:00Z');
const markets = (home: number, over: number): MovedMarket[] => [
  {
    key: '1x2',
    name: 'Match result',
    line: null,
    status: 'OPEN',
    outcomes: [
      { key: 'home', name: 'Home', price: home, previousPrice: 2.1, changedAtMs: capturedAtMs, result: null },
      { key: 'draw', name: 'Draw', price: 3.35, previousPrice: null, changedAtMs: capturedAtMs - 21_600_000, result: null },
      { key: 'away', name: 'Away "the visitors"', price: 3.9, previousPrice: null, changedAtMs: capturedAtMs - 21_600_000, result: null },
    ],
  },
  {
    key: 'over_under',
    name: 'Over/under 2.5',
    line: 2.5,
    status: 'SETTLED',
    outcomes: [
      { key: 'over', name: 'Over', price: over, previousPrice: 1.95, changedAtMs: capturedAtMs - 1, result: 'WON' },
      { key: 'under', name: 'Under', price: 1.95, previousPrice: 1.91, changedAtMs: capturedAtMs - 1, result: 'LOST' },
    ],
  },
];

/** Records as the reader built them before shapes were prepared: each value derived on its own, in the plain way. */
function plainRecords(ownerId: string, moved: readonly MovedMarket[]) {
  return moved.map((market) => {
    const id = marketId(ownerId, market);
    return {
      id,
      key: market.key,
      name: market.name,
      line: market.line,
      status: market.status,
      margin: Math.round(overround(market.outcomes.map((o) => o.price)) * 1e6) / 1e6,
      outcomes: market.outcomes.map((o) => ({
        id: outcomeId(id, o.key),
        key: o.key,
        name: o.name,
        price: o.price,
        previousPrice: o.previousPrice,
        changedAt: new Date(o.changedAtMs).toISOString(),
        result: o.result,
      })),
    };
  });
}

function stored(home: number, over: number): { shape: ShapeMarket[]; prices: StoredPrices } {
  const form = storedMarkets(markets(home, over), capturedAtMs);
  return { shape: JSON.parse(form.shapeJson) as ShapeMarket[], prices: JSON.parse(form.pricesJson) as StoredPrices };
}

describe('market records from a prepared shape', () => {
  it('are the records the plain derivation makes, byte for byte, frozen all through', () => {
    const { shape, prices } = stored(2.05, 1.87);
    const records = marketRecords('42:3', recordShape(shape), prices, capturedAtMs);
    expect(JSON.stringify(records)).toBe(JSON.stringify(plainRecords('42:3', movedMarkets(shape, prices, capturedAtMs))));
    expect(Object.isFrozen(records) && records.every((m) => Object.isFrozen(m) && Object.isFrozen(m.outcomes) && m.outcomes.every(Object.isFrozen))).toBe(true);
  });

  it('keep only the markets asked for, with the numbers of those markets', () => {
    const { shape, prices } = stored(2.05, 1.87);
    const records = marketRecords('7', recordShape(shape), prices, capturedAtMs, (market) => market.key === 'over_under');
    expect(JSON.stringify(records)).toBe(JSON.stringify(plainRecords('7', movedMarkets(shape, prices, capturedAtMs)).slice(1)));
  });

  it('name the shape they were built from, which a copy does not carry', () => {
    const { shape, prices } = stored(2.05, 1.87);
    const prepared = recordShape(shape);
    const [first] = marketRecords('42:3', prepared, prices, capturedAtMs);
    expect(recordShapeOf(first!)).toBe(prepared.markets[0]);
    expect(recordShapeOf({ ...first! })).toBeUndefined();
    expect(Object.keys(first!)).toEqual(['id', 'key', 'name', 'line', 'status', 'margin', 'outcomes']);
  });

  it('find the same best prices as records without a shape (read back from the fleet tier)', () => {
    const snapshot = (bookmakerId: number, home: number, over: number): SnapshotRecord => {
      const { shape, prices } = stored(home, over);
      const nodeId = `9:${bookmakerId}`;
      return { id: bookmakerId, nodeId, eventId: 9, bookmakerId, capturedAt: new Date(capturedAtMs).toISOString(), markets: marketRecords(nodeId, recordShape(shape), prices, capturedAtMs) };
    };
    const shaped = [snapshot(2, 2.05, 1.9), snapshot(1, 2.2, 1.87), snapshot(3, 2.2, 1.95)];
    const copies = JSON.parse(JSON.stringify(shaped)) as SnapshotRecord[];
    const best = eventOddsRecord(9, shaped).bestPrices;
    expect(best).toEqual(eventOddsRecord(9, copies).bestPrices);
    expect(best.map((b) => [outcomeKey({ key: b.market, line: b.line }, b.outcome), b.price, b.bookmakerId])).toEqual([
      ['1x2||home', 2.2, 1],
      ['1x2||draw', 3.35, 1],
      ['1x2||away', 3.9, 1],
      ['over_under|2.5|over', 1.95, 3],
      ['over_under|2.5|under', 1.95, 1],
    ]);
  });
});
