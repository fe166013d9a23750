import { describe, expect, it } from 'vitest';
import type { MovedMarket } from '../../src/domain/movement.js';
import { movedMarkets, storedMarkets } from '../../src/domain/stored-odds.js';

const capturedAtMs = Date.parse('2026-11-30T10:00:00Z');
const markets = (homePrice: number): MovedMarket[] => [
  {
    key: '1x2',
    name: 'Match result',
    line: null,
    status: 'OPEN',
    outcomes: [
      { key: 'home', name: 'Home', price: homePrice, previousPrice: 2.1, changedAtMs: capturedAtMs, result: null },
      { key: 'away', name: 'Away', price: 3.9, previousPrice: null, changedAtMs: capturedAtMs - 21_600_000, result: null },
    ],
  },
  {
    key: 'handicap',
    name: 'Handicap -0.5',
    line: -0.5,
    status: 'SETTLED',
    outcomes: [
      { key: 'home', name: 'Home', price: 1.91, previousPrice: 1.95, changedAtMs: capturedAtMs - 1, result: 'WON' },
      { key: 'away', name: 'Away', price: 1.95, previousPrice: 1.91, changedAtMs: capturedAtMs - 1, result: 'LOST' },
    ],
  },
];

describe('markets as stored: a shape and its numbers', () => {
  it('stand for the same markets again, movement and results included', () => {
    const stored = storedMarkets(markets(2.05), capturedAtMs);
    expect(movedMarkets(JSON.parse(stored.shapeJson), JSON.parse(stored.pricesJson), capturedAtMs)).toEqual(markets(2.05));
    // Three numbers per outcome: price, the price before, ms since it changed.
    expect(JSON.parse(stored.pricesJson)).toEqual([2.05, 2.1, 0, 3.9, null, 21_600_000, 1.91, 1.95, 1, 1.95, 1.91, 1]);
  });

  it('share one shape between snapshots that differ only in prices, and name another for another shape', () => {
    const [a, b] = [storedMarkets(markets(2.05), capturedAtMs), storedMarkets(markets(2.2), capturedAtMs + 60_000)];
    expect(b.digest).toBe(a.digest);
    expect(b.pricesJson).not.toBe(a.pricesJson);
    const renamed = markets(2.05);
    renamed[0]!.outcomes[0]!.name = 'Home team';
    expect(storedMarkets(renamed, capturedAtMs).digest).not.toBe(a.digest);
    expect(a.digest).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
