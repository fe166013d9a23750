import type { LoggedOddsChange } from '../../src/domain/change-log.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFeedCursor } from '../../src/db/feed-commit.js';
import { storeSnapshots } from '../../src/db/odds-store.js';
import { OddsReader } from '../../src/db/odds-reader.js';
import type { MovedMarket } from '../../src/domain/movement.js';
import type { SnapshotInput } from '../../src/domain/odds.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { withMarkets } from '../support/stored-markets.js';

describe.each(databaseKinds)('storing odds snapshots on %s', (kind) => {
  let test: TestDatabase;
  let eventIds: number[];
  let bookmakerIds: number[];

  beforeEach(async () => {
    test = await createTestDatabase(kind, 'migrated');
    const { prisma } = test.db;
    const sport = await prisma.sport.create({ data: { key: 'football', name: 'Football' } });
    const competition = await prisma.competition.create({
      data: { key: 'eng-premier', name: 'Premier Division', country: 'England', sportId: sport.id },
    });
    const events = await prisma.event.createManyAndReturn({
      data: ['A', 'B'].map((home, i) => ({
        externalId: `e${i}`,
        sportId: sport.id,
        competitionId: competition.id,
        home,
        away: `${home}2`,
        kickoffAt: new Date('2026-12-01T15:00:00Z'),
      })),
    });
    const bookmakers = await prisma.bookmaker.createManyAndReturn({
      data: [
        { key: 'one', name: 'One' },
        { key: 'two', name: 'Two' },
      ],
    });
    eventIds = events.map((e) => e.id);
    bookmakerIds = bookmakers.map((b) => b.id);
  });
  afterEach(() => test.drop());

  const snapshot = (event: number, bookmaker: number, capturedAt: string, homePrice: number): SnapshotInput => ({
    eventId: eventIds[event]!,
    bookmakerId: bookmakerIds[bookmaker]!,
    capturedAt: new Date(capturedAt),
    markets: [
      {
        key: '1x2',
        name: 'Match result',
        line: null,
        outcomes: [
          { key: 'home', name: 'Home', price: homePrice },
          { key: 'draw', name: 'Draw', price: 3.4 },
          { key: 'away', name: 'Away', price: 3.9 },
        ],
      },
      {
        key: 'over_under',
        name: 'Total over/under 2.5',
        line: 2.5,
        outcomes: [
          { key: 'over', name: 'Over', price: 1.91 },
          { key: 'under', name: 'Under', price: 1.95 },
        ],
      },
    ],
  });

  const counts = async () => {
    const { prisma } = test.db;
    return { snapshots: await prisma.oddsSnapshot.count(), latest: await prisma.latestOdds.count() };
  };
  const prices = (markets: unknown) =>
    (markets as MovedMarket[]).map((m) => [m.key, m.line, m.outcomes.map((o) => o.price)]);

  it('stores each snapshot as one row with its markets, lines and outcome prices as a document', async () => {
    const result = await storeSnapshots(test.db.prisma, [snapshot(0, 0, '2026-11-30T10:00:00Z', 2.05)]);
    expect(result).toMatchObject({ stored: 1, duplicates: 0 });
    const [stored] = await withMarkets(test.db, [await test.db.prisma.oddsSnapshot.findFirstOrThrow()]);
    expect(prices(stored!.markets)).toEqual([
      ['1x2', null, [2.05, 3.4, 3.9]],
      ['over_under', 2.5, [1.91, 1.95]],
    ]);
    const [latest] = await withMarkets(test.db, [await test.db.prisma.latestOdds.findFirstOrThrow()]);
    expect([latest!.snapshotId, latest!.markets]).toEqual([stored!.id, stored!.markets]);
  });

  it('keeps prices to 3 decimals and lines to 2, rounding half away from zero on the decimal digits', async () => {
    const odd = snapshot(0, 0, '2026-11-30T10:00:00Z', 2.0005);
    odd.markets[1] = { ...odd.markets[1]!, key: 'handicap', line: -1.255 };
    await storeSnapshots(test.db.prisma, [odd]);
    const [stored] = await withMarkets(test.db, [await test.db.prisma.oddsSnapshot.findFirstOrThrow()]);
    expect(prices(stored!.markets)).toEqual([
      ['1x2', null, [2.001, 3.4, 3.9]],
      ['handicap', -1.26, [1.91, 1.95]],
    ]);
  });

  it('stores nothing new when the same snapshots are ingested again', async () => {
    const batch = [snapshot(0, 0, '2026-11-30T10:00:00Z', 2.05), snapshot(1, 1, '2026-11-30T10:00:00Z', 1.8)];
    await storeSnapshots(test.db.prisma, batch);
    const before = await counts();
    expect(before).toEqual({ snapshots: 2, latest: 2 });

    const again = await storeSnapshots(test.db.prisma, batch);
    expect(again).toEqual({ stored: 0, duplicates: 2, latestChanged: [], eventsChanged: [], position: null });
    expect(await counts()).toEqual(before);
  });

  it('stores only the new snapshots of a batch that repeats some', async () => {
    await storeSnapshots(test.db.prisma, [snapshot(0, 0, '2026-11-30T10:00:00Z', 2.05)]);
    const result = await storeSnapshots(test.db.prisma, [
      snapshot(0, 0, '2026-11-30T10:00:00Z', 2.05),
      snapshot(0, 0, '2026-11-30T10:05:00Z', 2.1),
    ]);
    expect(result).toMatchObject({ stored: 1, duplicates: 1 });
    expect(await counts()).toEqual({ snapshots: 2, latest: 1 });
  });

  it('keeps the newest snapshot per (event, bookmaker) as the latest, however the snapshots arrive', async () => {
    const { prisma } = test.db;
    await storeSnapshots(prisma, [
      snapshot(0, 0, '2026-11-30T10:00:00Z', 2.0),
      snapshot(0, 0, '2026-11-30T11:00:00Z', 2.1), // newest for (0, 0), in the same batch as an older one
      snapshot(0, 1, '2026-11-30T10:30:00Z', 2.2),
      snapshot(1, 0, '2026-11-30T09:00:00Z', 1.7),
    ]);
    // Arrives late: older than what (0, 1) already has, so it joins history only.
    const late = await storeSnapshots(prisma, [snapshot(0, 1, '2026-11-30T09:00:00Z', 2.3)]);
    expect(late.latestChanged).toEqual([]);
    // Newer: moves the pointer.
    const newer = await storeSnapshots(prisma, [snapshot(1, 0, '2026-11-30T12:00:00Z', 1.6)]);
    expect(newer.latestChanged).toEqual([
      { eventId: eventIds[1], bookmakerId: bookmakerIds[0], snapshotId: expect.any(Number), capturedAt: '2026-11-30T12:00:00.000Z', changedMarkets: ['1x2'] },
    ]);

    const latest = await withMarkets(
      test.db,
      await prisma.latestOdds.findMany({
        where: { eventId: { in: eventIds } },
        orderBy: [{ eventId: 'asc' }, { bookmakerId: 'asc' }],
      }),
    );
    expect(
      latest.map((l) => [
        eventIds.indexOf(l.eventId),
        bookmakerIds.indexOf(l.bookmakerId),
        l.capturedAt.toISOString(),
        l.markets[0]!.outcomes[0]!.price,
      ]),
    ).toEqual([
      [0, 0, '2026-11-30T11:00:00.000Z', 2.1],
      [0, 1, '2026-11-30T10:30:00.000Z', 2.2],
      [1, 0, '2026-11-30T12:00:00.000Z', 1.6],
    ]);
    expect(await prisma.oddsSnapshot.count()).toBe(6);
    // The same prices again: the latest moves, no market did.
    const same = await storeSnapshots(prisma, [snapshot(1, 0, '2026-11-30T12:05:00Z', 1.6)]);
    expect(same.latestChanged).toMatchObject([{ changedMarkets: [] }]);
  });

  it('writes nothing from a batch that fails part-way', async () => {
    const bad = { ...snapshot(0, 0, '2026-11-30T10:05:00Z', 2.0), eventId: 999_999 }; // no such event
    await expect(storeSnapshots(test.db.prisma, [snapshot(1, 1, '2026-11-30T10:00:00Z', 1.8), bad])).rejects.toThrow();
    expect(await counts()).toEqual({ snapshots: 0, latest: 0 });
  });

  it('stores market status and settled results, and reads them back as the cache holds them', async () => {
    const settled = snapshot(0, 0, '2026-11-30T17:00:00Z', 2.1);
    settled.markets[0] = {
      ...settled.markets[0]!,
      status: 'SETTLED',
      outcomes: settled.markets[0]!.outcomes.map((o) => ({ ...o, result: o.key === 'home' ? 'WON' : 'LOST' })),
    };
    settled.markets[1] = { ...settled.markets[1]!, status: 'SUSPENDED' };
    await storeSnapshots(test.db.prisma, [settled]);
    const odds = (await new OddsReader(test.db.prisma).eventOdds([eventIds[0]!])).get(eventIds[0]!)!;
    const [result, total] = odds.snapshots[0]!.markets;
    expect(result!.status).toBe('SETTLED');
    expect(result!.outcomes.map((o) => [o.key, o.result])).toEqual([['home', 'WON'], ['draw', 'LOST'], ['away', 'LOST']]);
    expect(total!.status).toBe('SUSPENDED');
    expect(total!.outcomes.map((o) => o.result)).toEqual([null, null]);
  });

  it("moves an event's state only forward: a late record never takes back a goal", async () => {
    const eventId = eventIds[0]!;
    const at = (time: string, home: number, minute: number) => ({
      eventId,
      capturedAt: new Date(`2026-12-01T${time}Z`),
      status: 'LIVE' as const,
      score: { home, away: 0 },
      clock: { period: '1H', minute },
    });
    const first = await storeSnapshots(test.db.prisma, [], [at('15:20:00', 1, 20), at('15:10:00', 0, 10)]);
    expect(first.eventsChanged).toEqual([eventId]);
    const late = await storeSnapshots(test.db.prisma, [], [at('15:15:00', 0, 15)]);
    expect(late.eventsChanged).toEqual([]);
    const same = await storeSnapshots(test.db.prisma, [], [at('15:20:30', 1, 20)]);
    expect(same.eventsChanged).toEqual([]);
    const event = (await new OddsReader(test.db.prisma).events([eventId])).get(eventId)!;
    expect([event.status, event.score, event.clock]).toEqual(['LIVE', { home: 1, away: 0 }, { period: '1H', minute: 20 }]);
  });

  it("moves the feed's cursor and the change log only with the snapshots of the same transaction", async () => {
    const { prisma } = test.db;
    expect(await readFeedCursor(prisma, 'feed-a')).toBeUndefined();
    const first = await storeSnapshots(prisma, [snapshot(0, 0, '2026-11-30T10:00:00Z', 2.0)], [], { feed: 'feed-a', cursor: 'c1' });
    expect(await readFeedCursor(prisma, 'feed-a')).toBe('c1');

    const bad = { ...snapshot(0, 1, '2026-11-30T10:05:00Z', 2.0), eventId: 999_999 };
    await expect(storeSnapshots(prisma, [snapshot(1, 1, '2026-11-30T10:00:00Z', 1.8), bad], [], { feed: 'feed-a', cursor: 'c2' })).rejects.toThrow();
    expect(await readFeedCursor(prisma, 'feed-a')).toBe('c1');

    // An answer whose records were all refused still moves the cursor, without a change-log row.
    expect(await storeSnapshots(prisma, [], [], { feed: 'feed-a', cursor: 'c3' })).toMatchObject({ stored: 0, position: null });
    const second = await storeSnapshots(prisma, [snapshot(1, 1, '2026-11-30T10:00:00Z', 1.8)], [], { feed: 'feed-a', cursor: 'c4' });
    expect(await readFeedCursor(prisma, 'feed-a')).toBe('c4');
    expect(second.position!).toBeGreaterThan(first.position!);
    const log = await prisma.changeLog.findMany({ orderBy: { position: 'asc' } });
    const logged = log.map((row) => row.changes as unknown as LoggedOddsChange[]);
    expect(logged.map((changes) => changes.length)).toEqual([1, 1]);
    expect(await prisma.oddsSnapshot.count({ where: { id: { in: logged.flat().map((c) => c.snapshotId) } } })).toBe(2);
  });
});
