import { silentLogger } from '../../src/ops/log.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreditBudget } from '../../src/ingest/budget/credit-budget.js';
import type { OddsApiEvent } from '../../src/ingest/feeds/odds-api-records.js';
import { OddsApiFeed } from '../../src/ingest/feeds/the-odds-api.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startOddsApiServer } from '../support/odds-api-server.js';
import { withMarkets } from '../support/stored-markets.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/the-odds-api');
const fixtureEvents = ['soccer_epl', 'basketball_nba'].flatMap((sport) => JSON.parse(readFileSync(path.join(fixtures, `${sport}.json`), 'utf8')) as OddsApiEvent[]);

describe('The Odds API feed', () => {
  let api: Awaited<ReturnType<typeof startOddsApiServer>>;
  let test: TestDatabase;
  let clock = Date.parse('2026-12-01T12:00:00Z');
  const sports = [
    { sport: 'soccer_epl', competition: 'eng-premier' },
    { sport: 'basketball_nba', competition: 'usa-pro-basketball' },
  ];
  beforeAll(async () => {
    api = await startOddsApiServer({ events: () => fixtureEvents, now: () => clock, quota: 20_000 });
    test = await createTestDatabase(anyKind, 'seeded-small');
  });
  afterAll(async () => {
    await api.close();
    await test.drop();
  });

  const feed = (apiKey = 'test-key') =>
    new OddsApiFeed({
      apiKey,
      sports,
      baseUrl: api.url,
      intervalMs: 60_000,
      budget: new CreditBudget({ credits: 1_000_000, period: 'month' }, { prisma: test.db.prisma, feed: `test-${apiKey}` }),
      now: () => clock,
    });

  it('asks the odds endpoint for decimal h2h, spreads and totals, and maps them to 1x2/moneyline, handicap and over_under', async () => {
    const { records, cursor } = await feed().poll(null);
    // The free reference lists first, then one paid request per sport (its events are all days away: one tier).
    expect(api.state.requests.map((r) => [r.path, r.cost])).toEqual([
      ['/v4/sports', 0],
      ['/v4/sports/soccer_epl/events', 0],
      ['/v4/sports/basketball_nba/events', 0],
      ['/v4/sports/soccer_epl/odds', 3],
      ['/v4/sports/basketball_nba/odds', 3],
    ]);
    expect(api.state.requests[3]!.query).toEqual({
      apiKey: 'test-key',
      regions: 'eu',
      markets: 'h2h,spreads,totals',
      oddsFormat: 'decimal',
      dateFormat: 'iso',
      eventIds: 'e912304de2b2ce35b473ce2ecd3d1502,7a1c0c5f0b8b4a3d9e2f6c1d0e9b8a7f',
    });
    expect(JSON.parse(cursor!).polled).toMatchObject({ e912304de2b2ce35b473ce2ecd3d1502: clock });
    expect(records).toHaveLength(4); // one per (event, bookmaker)
    expect(records[0]).toEqual({
      event: 'oddsapi:e912304de2b2ce35b473ce2ecd3d1502',
      fixture: { competition: 'eng-premier', home: 'Arsenal', away: 'Newcastle United', kickoffAt: '2030-05-06T14:00:00Z' },
      bookmaker: 'unibet_eu',
      bookmakerName: 'Unibet',
      capturedAt: '2026-11-30T10:01:12Z',
      markets: [
        {
          key: '1x2',
          name: 'Match result',
          line: null,
          outcomes: [
            { key: 'home', name: 'Arsenal', price: 1.91 },
            { key: 'away', name: 'Newcastle United', price: 4.1 },
            { key: 'draw', name: 'Draw', price: 3.7 },
          ],
        },
        {
          key: 'handicap',
          name: 'Handicap -0.75',
          line: -0.75,
          outcomes: [
            { key: 'home', name: 'Arsenal', price: 2.02 },
            { key: 'away', name: 'Newcastle United', price: 1.84 },
          ],
        },
        {
          key: 'over_under',
          name: 'Total over/under 2.5',
          line: 2.5,
          outcomes: [
            { key: 'over', name: 'Over', price: 1.87 },
            { key: 'under', name: 'Under', price: 1.97 },
          ],
        },
      ],
    });
    // Pinnacle's exchange-style h2h_lay is not a market this gateway knows: left out.
    expect((records[1] as { markets: Array<{ key: string }> }).markets.map((m) => m.key)).toEqual(['1x2']);
    const nba = records[3] as { markets: Array<{ key: string; line: number | null; outcomes: Array<{ key: string }> }> };
    expect(nba.markets.map((m) => [m.key, m.line, m.outcomes.map((o) => o.key)])).toEqual([
      ['moneyline', null, ['home', 'away']],
      ['handicap', -7.5, ['home', 'away']],
      ['over_under', 214.5, ['over', 'under']],
    ]);
  });

  it('asks again for events days away only when their interval (60 x the in-play one) since the committed poll has passed', async () => {
    const polled = Object.fromEntries(fixtureEvents.map((e) => [e.id, clock - 30 * 60_000]));
    const cursor = JSON.stringify({ polled });
    const before = api.oddsRequests().length;
    const adapter = feed();
    expect(await adapter.poll(cursor)).toEqual({ records: [], cursor });
    expect(api.oddsRequests().length).toBe(before);
    clock += 30 * 60_000;
    expect((await adapter.poll(cursor)).records).toHaveLength(4);
    expect(adapter.report().budget).toMatchObject({ pollIntervalSeconds: { inplay: 60, soon: 120, today: 600, later: 3600 }, events: { later: 3 } });
  });

  it('says which variable to fix when the key is refused', async () => {
    await expect(feed('wrong-key').poll(null)).rejects.toThrow('The Odds API refused the key (401): check ODDS_API_KEY');
  });

  it('feeds the worker: events and bookmakers created, every snapshot stored once however often it is polled', async () => {
    const worker = new IngestWorker({ prisma: test.db.prisma, feed: feed(), bus: new InProcessOddsBus(), now: () => clock, logger: silentLogger() });
    expect(await worker.runCycle()).toMatchObject({ received: 4, stored: 4, createdEvents: 3, rejected: {} });
    const event = await test.db.prisma.event.findUniqueOrThrow({
      where: { externalId: 'oddsapi:c1d2e3f4a5b60718293a4b5c6d7e8f90' },
      include: { competition: true, latestOdds: { include: { bookmaker: true } } },
    });
    expect(event).toMatchObject({ home: 'Boston Celtics', away: 'Miami Heat', competition: { key: 'usa-pro-basketball' } });
    expect(event.latestOdds[0]!.bookmaker).toMatchObject({ key: 'pinnacle', name: 'Pinnacle' });
    const [latest] = await withMarkets(test.db, event.latestOdds);
    const handicap = latest!.markets.find((m) => m.key === 'handicap')!;
    expect([handicap.line, handicap.outcomes.map((o) => [o.key, o.price])]).toEqual([
      -7.5,
      [
        ['home', 1.93],
        ['away', 1.93],
      ],
    ]);
    clock += 3_600_000; // events days away are polled hourly (at most)
    expect(await worker.runCycle()).toMatchObject({ received: 4, stored: 0, duplicates: 4 });
  });
});
