import { describe, expect, it } from 'vitest';
import { createRandom, driftModel, maxPrice, priceMarkets, sportProfiles, type ScoringModel } from '../../src/domain/pricing.js';
import { checkFeedRecord } from '../../src/ingest/feed-record.js';

const day = 86_400;

/** Every parameter of a model that the walk moves, with the range the sport allows it. */
function parameters(model: ScoringModel, sport: string): Array<[name: string, value: number, min: number, max: number]> {
  const bounds = sportProfiles[sport]!.bounds;
  if (model.kind === 'goals' && bounds.kind === 'goals') {
    return [
      ['homeRate', model.homeRate, ...bounds.rate],
      ['awayRate', model.awayRate, ...bounds.rate],
    ];
  }
  if (model.kind === 'points' && bounds.kind === 'points') {
    return [
      ['homeMargin', model.homeMargin, ...bounds.homeMargin],
      ['total', model.total, ...bounds.total],
    ];
  }
  throw new Error(`model and bounds of ${sport} differ in kind`);
}

describe('simulated prices over a long run', () => {
  // The embedded default moves 50 prices a second over about 280 upcoming events, about 0.18 changes a
  // second each; a change every 5 seconds for thirty days (518,400) is more than any one event gets.
  it.each(Object.keys(sportProfiles))('stay in bounds and storable for 30 days of %s changes', (sport) => {
    const profile = sportProfiles[sport]!;
    const random = createRandom(sport.length);
    const opening = profile.randomModel(random);
    let model = opening;
    let refused: string | undefined;
    let highest = 0;
    for (let change = 0; change < (30 * day) / 5; change++) {
      model = driftModel(model, opening, profile.bounds, random, 0.02);
      for (const [name, value, min, max] of parameters(model, sport)) {
        if (!(value >= min && value <= max)) throw new Error(`${name} = ${value} left [${min}, ${max}] after ${change} changes`);
      }
      // Pricing is the slow part: check a sample of the walk, every 64th change.
      if (change % 64 !== 0) continue;
      const markets = priceMarkets(model, profile.markets, 0.05, random);
      const checked = checkFeedRecord({ event: 'e', bookmaker: 'b', capturedAt: new Date().toISOString(), markets });
      if (!checked.ok) refused ??= `after ${change} changes: ${checked.reason}`;
      for (const market of markets) for (const outcome of market.outcomes) highest = Math.max(highest, outcome.price);
    }
    expect(refused).toBeUndefined();
    expect(highest).toBeLessThanOrEqual(maxPrice);
  });

  it.each(Object.keys(sportProfiles))('returns toward the opening %s model instead of wandering off', (sport) => {
    const profile = sportProfiles[sport]!;
    const random = createRandom(99);
    const opening = profile.randomModel(random);
    let model = opening;
    let sum = 0;
    const changes = 200_000;
    for (let change = 0; change < changes; change++) {
      model = driftModel(model, opening, profile.bounds, random, 0.02);
      sum += model.kind === 'goals' ? model.homeRate : model.total;
    }
    const start = opening.kind === 'goals' ? opening.homeRate : opening.total;
    // The long-run mean of a mean-reverting walk sits near its anchor; an unbounded walk's does not.
    expect(Math.abs(sum / changes / start - 1)).toBeLessThan(0.05);
  });

  it('prices the most lopsided model each sport allows within the store', () => {
    for (const [sport, profile] of Object.entries(sportProfiles)) {
      const bounds = profile.bounds;
      const corners: ScoringModel[] =
        bounds.kind === 'goals'
          ? [
              { kind: 'goals', homeRate: bounds.rate[0], awayRate: bounds.rate[1] },
              { kind: 'goals', homeRate: bounds.rate[1], awayRate: bounds.rate[0] },
            ]
          : bounds.homeMargin.flatMap((homeMargin) =>
              bounds.total.map((total) => ({ kind: 'points' as const, homeMargin, marginSd: 5, total, totalSd: 4 })),
            );
      for (const model of corners) {
        const markets = priceMarkets(model, profile.markets, 0.12, createRandom(3));
        const checked = checkFeedRecord({ event: 'e', bookmaker: 'b', capturedAt: new Date().toISOString(), markets });
        expect(checked, `${sport} ${JSON.stringify(model)}`).toEqual(expect.objectContaining({ ok: true }));
      }
    }
  });
});

describe('feed records beyond what the store holds', () => {
  const record = (price: number, line: number | null = null) => ({
    event: 'e',
    bookmaker: 'b',
    capturedAt: new Date().toISOString(),
    markets: [{ key: 'over_under', name: 'Total', line, outcomes: [{ key: 'over', name: 'Over', price }, { key: 'under', name: 'Under', price: 1.9 }] }],
  });

  it('are refused with the reason instead of failing the batch in the database', () => {
    expect(checkFeedRecord(record(1e300))).toEqual({ ok: false, reason: 'markets.0.outcomes.0.price: price must be below 100000' });
    expect(checkFeedRecord(record(1e15))).toEqual({ ok: false, reason: 'markets.0.outcomes.0.price: price must be below 100000' });
    expect(checkFeedRecord(record(2, 78_211))).toEqual({ ok: false, reason: 'markets.0.line: line must be below 10000' });
    expect(checkFeedRecord(record(99_999.999, 2.5)).ok).toBe(true);
  });
});

describe('feed records that name one market or outcome twice', () => {
  const totals = (line: number, under = 'under') => ({
    key: 'over_under',
    name: 'Total',
    line,
    outcomes: [{ key: 'over', name: 'Over', price: 1.9 }, { key: under, name: 'Under', price: 1.9 }],
  });
  const record = (...markets: object[]) => ({ event: 'e', bookmaker: 'b', capturedAt: new Date().toISOString(), markets });

  it('are refused: clients know a market by (key, line) and an outcome by key', () => {
    expect(checkFeedRecord(record(totals(2.5), totals(2.5)))).toEqual({ ok: false, reason: 'markets.1: market over_under at line 2.5 appears twice in one snapshot' });
    expect(checkFeedRecord(record(totals(2.5, 'over')))).toEqual({ ok: false, reason: 'markets.0.outcomes.1: outcome "over" appears twice in one market' });
    expect(checkFeedRecord(record(totals(2.5), totals(3.5))).ok).toBe(true);
  });
});
