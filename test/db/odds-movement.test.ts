import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OddsReader } from '../../src/db/odds-reader.js';
import { storeSnapshots } from '../../src/db/odds-store.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { MarketInput, SnapshotInput } from '../../src/domain/odds.js';
import type { MarketRecord } from '../../src/domain/records.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

/** Prices of a result market and an over/under market; null leaves that market out. */
type Prices = { home: number; draw: number; away: number } | null;
type Totals = { over: number; under: number } | null;

describe.each(databaseKinds)('price movement stored with each snapshot on %s', (kind) => {
  let test: TestDatabase;
  let reader: OddsReader;
  let bookmakerId: number;
  let newEvent: () => Promise<number>;

  beforeAll(async () => {
    test = await createTestDatabase(kind, 'migrated');
    reader = new OddsReader(test.db.prisma);
    const { prisma } = test.db;
    const sport = await prisma.sport.create({ data: { key: 'football', name: 'Football' } });
    const competition = await prisma.competition.create({ data: { key: 'eng', name: 'English', sportId: sport.id } });
    bookmakerId = (await prisma.bookmaker.create({ data: { key: 'one', name: 'One' } })).id;
    let n = 0;
    // Each test gets its own event, so they share one database.
    newEvent = async () => {
      const event = await prisma.event.create({
        data: { externalId: `e${n++}`, sportId: sport.id, competitionId: competition.id, home: 'A', away: 'B', kickoffAt: new Date('2026-12-01T15:00:00Z') },
      });
      return event.id;
    };
  });
  afterAll(() => test.drop());

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 10, minute));
  const snapshot = (eventId: number, minute: number, result: Prices, totals: Totals): SnapshotInput => {
    const markets: MarketInput[] = [];
    if (result) {
      const outcomes = Object.entries(result).map(([key, price]) => ({ key, name: key, price }));
      markets.push({ key: '1x2', name: 'Match result', line: null, outcomes });
    }
    if (totals) {
      const outcomes = Object.entries(totals).map(([key, price]) => ({ key, name: key, price }));
      markets.push({ key: 'over_under', name: 'Total 2.5', line: 2.5, outcomes });
    }
    return { eventId, bookmakerId, capturedAt: at(minute), markets };
  };
  /** Each outcome as [market, outcome, price, previousPrice, minute of changedAt]. */
  const movement = (markets: readonly MarketRecord[]) =>
    markets.flatMap((m) => m.outcomes.map((o) => [m.key, o.key, o.price, o.previousPrice, new Date(o.changedAt).getUTCMinutes()]));
  const latest = async (eventId: number) => movement((await reader.eventOdds([eventId])).get(eventId)!.snapshots[0]!.markets);
  const store = (...snapshots: SnapshotInput[]) => storeSnapshots(test.db.prisma, snapshots);

  const opening = { home: 2.0, draw: 3.4, away: 3.9 };
  const totals = { over: 1.9, under: 1.95 };

  it('keeps the price before the last change, however many snapshots since changed only other markets', async () => {
    const event = await newEvent();
    await store(snapshot(event, 0, opening, totals));
    await store(snapshot(event, 1, { ...opening, home: 2.1 }, totals));
    await store(snapshot(event, 2, { ...opening, home: 2.1 }, { ...totals, over: 1.85 }));
    await store(snapshot(event, 3, { ...opening, home: 2.1 }, { ...totals, over: 1.85 }));
    expect(await latest(event)).toEqual([
      ['1x2', 'home', 2.1, 2.0, 1],
      ['1x2', 'draw', 3.4, null, 0],
      ['1x2', 'away', 3.9, null, 0],
      ['over_under', 'over', 1.85, 1.9, 2],
      ['over_under', 'under', 1.95, null, 0],
    ]);
  });

  it('keeps in history the movement each snapshot had when it was taken', async () => {
    const event = await newEvent();
    await store(snapshot(event, 0, opening, null));
    await store(snapshot(event, 1, { ...opening, home: 2.1 }, null));
    await store(snapshot(event, 2, { ...opening, home: 2.0 }, null));
    const history = await reader.history({ eventId: event, marketKey: '1x2', first: 10 });
    expect(history.map((s) => movement(s.markets)[0])).toEqual([
      ['1x2', 'home', 2.0, 2.1, 2], // back where it started: still a change
      ['1x2', 'home', 2.1, 2.0, 1],
      ['1x2', 'home', 2.0, null, 0],
    ]);
  });

  it('starts an outcome afresh when the snapshot before did not offer its market', async () => {
    const event = await newEvent();
    await store(snapshot(event, 0, opening, totals));
    await store(snapshot(event, 1, opening, null));
    await store(snapshot(event, 2, opening, totals));
    expect((await latest(event)).filter(([market]) => market === 'over_under')).toEqual([
      ['over_under', 'over', 1.9, null, 2],
      ['over_under', 'under', 1.95, null, 2],
    ]);
  });

  it('follows the snapshots of one batch in capture order, whatever order they arrive in', async () => {
    const event = await newEvent();
    await store(snapshot(event, 2, { ...opening, home: 2.2 }, null), snapshot(event, 0, opening, null), snapshot(event, 1, { ...opening, home: 2.1 }, null));
    expect((await latest(event))[0]).toEqual(['1x2', 'home', 2.2, 2.1, 2]);
  });

  it('derives a late snapshot from the one stored before it, and leaves the latest as it was', async () => {
    const event = await newEvent();
    await store(snapshot(event, 0, opening, null));
    await store(snapshot(event, 2, { ...opening, home: 2.2 }, null));
    const before = await latest(event);
    const late = await store(snapshot(event, 1, { ...opening, home: 2.1 }, null));
    expect(late).toMatchObject({ stored: 1, latestChanged: [] });
    expect(await latest(event)).toEqual(before);
    const [, middle] = await reader.history({ eventId: event, first: 10 });
    expect(movement(middle!.markets)[0]).toEqual(['1x2', 'home', 2.1, 2.0, 1]);
  });

  it('follows the stored latest when another writer moved it since this one wrote', async () => {
    const event = await newEvent();
    // Another client: the latest documents a writer remembers are its own.
    const other = test.db.prisma.$extends({}) as unknown as PrismaClient;
    await store(snapshot(event, 0, opening, null));
    await storeSnapshots(other, [snapshot(event, 1, { ...opening, home: 2.1 }, null)]);
    await store(snapshot(event, 2, { ...opening, home: 2.2 }, null));
    expect((await latest(event))[0]).toEqual(['1x2', 'home', 2.2, 2.1, 2]);
  });

  it('stores a snapshot delivered again once, its movement untouched', async () => {
    const event = await newEvent();
    await store(snapshot(event, 0, opening, null));
    await store(snapshot(event, 1, { ...opening, home: 2.1 }, null));
    const before = await latest(event);
    const again = await store(snapshot(event, 1, { ...opening, home: 2.1 }, null), snapshot(event, 1, { ...opening, home: 2.1 }, null));
    expect(again).toMatchObject({ stored: 0, duplicates: 2 });
    expect(await latest(event)).toEqual(before);
  });
});
