import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overround } from '../src/domain/odds.js';
import { seedDatabase } from '../src/seed/seed.js';
import { anyKind, createTestDatabase, type TestDatabase } from './support/databases.js';
import { withMarkets } from './support/stored-markets.js';

describe('the seed', () => {
  let test: TestDatabase;
  const now = new Date('2026-11-22T12:00:00Z');
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'migrated');
    await seedDatabase(test.db, { events: 60, bookmakers: 4, now });
  });
  afterAll(() => test.drop());

  it('writes the events and bookmakers asked for, across several sports and competitions', async () => {
    const { prisma } = test.db;
    expect(await prisma.event.count()).toBe(60);
    expect(await prisma.bookmaker.count()).toBe(4);
    const sportsUsed = await prisma.event.groupBy({ by: ['sportId'] });
    const competitionsUsed = await prisma.event.groupBy({ by: ['competitionId'] });
    expect(sportsUsed.length).toBeGreaterThanOrEqual(3);
    expect(competitionsUsed.length).toBeGreaterThanOrEqual(5);
  });

  it('spreads kick-offs from yesterday to two weeks ahead, with statuses that fit them', async () => {
    const events = await test.db.prisma.event.findMany({ orderBy: { kickoffAt: 'asc' } });
    const days = (date: Date) => (date.getTime() - now.getTime()) / 86_400_000;
    expect(days(events[0]!.kickoffAt)).toBeLessThan(0);
    expect(days(events[0]!.kickoffAt)).toBeGreaterThanOrEqual(-1.5);
    expect(days(events.at(-1)!.kickoffAt)).toBeGreaterThan(12);
    expect(days(events.at(-1)!.kickoffAt)).toBeLessThanOrEqual(14);
    for (const event of events.filter((e) => e.status !== 'CANCELLED')) {
      expect(event.status).toBe(event.kickoffAt > now ? 'SCHEDULED' : now.getTime() - event.kickoffAt.getTime() < 7_200_000 ? 'LIVE' : 'FINISHED');
    }
  });

  it('offers result, over/under at several lines, handicap and both-teams-to-score markets for football', async () => {
    const football = await test.db.prisma.latestOdds.findFirstOrThrow({ where: { event: { sport: { key: 'football' } } } });
    const { markets } = (await withMarkets(test.db, [football]))[0]!;
    expect(new Set(markets.map((m) => m.key))).toEqual(new Set(['1x2', 'over_under', 'handicap', 'btts']));
    expect(markets.filter((m) => m.key === 'over_under').map((m) => m.line)).toEqual([1.5, 2.5, 3.5]);
  });

  it('prices every market with a believable margin', async () => {
    const snapshots = await withMarkets(test.db, await test.db.prisma.oddsSnapshot.findMany());
    const markets = snapshots.flatMap((s) => s.markets);
    const margins = markets.map((m) => overround(m.outcomes.map((o) => o.price)));
    const average = margins.reduce((a, b) => a + b, 0) / margins.length;
    expect(average).toBeGreaterThan(0.03);
    expect(average).toBeLessThan(0.08);
    // Rounding prices to two decimals moves single markets a little further.
    for (const margin of margins) expect(margin).toBeGreaterThan(0.005);
  });

  it('keeps a few snapshots of history per (event, bookmaker), the newest one as the latest', async () => {
    const { prisma } = test.db;
    expect(await prisma.oddsSnapshot.count()).toBe(60 * 4 * 3);
    expect(await prisma.latestOdds.count()).toBe(60 * 4);
    const latest = await prisma.latestOdds.findFirstOrThrow();
    const newest = await prisma.oddsSnapshot.findFirstOrThrow({
      where: { eventId: latest.eventId, bookmakerId: latest.bookmakerId },
      orderBy: { capturedAt: 'desc' },
    });
    expect([latest.snapshotId, latest.shape, latest.prices]).toEqual([newest.id, newest.shape, newest.prices]);
  });

  it('lays history out in day partitions and leaves the planner statistics', async () => {
    const rows = await test.db.withSession((s) =>
      s.query<{ partition: string; rows: number }>(
        `SELECT tableoid::regclass::text AS partition, count(*)::int AS rows FROM odds_snapshot GROUP BY 1 ORDER BY 1`,
      ),
    );
    // Three snapshots six hours apart per pair, the last at kick-off or now: the 20th to the 22nd.
    expect(rows.map((r) => r.partition)).toEqual(['odds_snapshot_d20261120', 'odds_snapshot_d20261121', 'odds_snapshot_d20261122']);
    // reltuples is -1 until a table is first analyzed.
    const unanalyzed = await test.db.withSession((s) =>
      s.query(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND reltuples < 0`),
    );
    expect(unanalyzed).toEqual([]);
  });

  it('lays a history of many days into day partitions: one snapshot every six hours per pair', async () => {
    const long = await createTestDatabase(anyKind, 'migrated');
    try {
      const result = await seedDatabase(long.db, { events: 4, bookmakers: 2, now, snapshotsPerPair: 4 * 10 + 1 });
      expect(result.snapshots).toBe(4 * 2 * 41);
      const [placed] = await long.db.withSession((s) =>
        s.query<{ days: number; strays: number }>(
          `SELECT count(DISTINCT tableoid)::int AS days, (SELECT count(*)::int FROM odds_snapshot_default) AS strays FROM odds_snapshot`,
        ),
      );
      expect(placed).toEqual({ days: 11, strays: 0 });
    } finally {
      await long.drop();
    }
  });

  // Last: it seeds the database again (the seed replaces what is there), so the data set is compared with itself.
  it('writes the same data set for the same seed and day', async () => {
    const prices = async () =>
      (await withMarkets(test.db, await test.db.prisma.oddsSnapshot.findMany({ orderBy: { id: 'asc' } }))).map(
        (s) => `${s.id}:${s.markets.flatMap((m) => m.outcomes.map((o) => o.price)).join(',')}`,
      );
    const first = await prices();
    await seedDatabase(test.db, { events: 60, bookmakers: 4, now: new Date(now.getTime() + 3_600_000) });
    expect(await prices()).toEqual(first);
    expect(await test.db.prisma.event.count()).toBe(60);
  });
});
