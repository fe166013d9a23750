import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureHistoryDays, maintainHistory, startHistoryUpkeep } from '../../src/db/history-partitions.js';
import { OddsReader } from '../../src/db/odds-reader.js';
import { writeShapes } from '../../src/db/market-shapes.js';
import { storeSnapshots } from '../../src/db/odds-store.js';
import { withMovement } from '../../src/domain/movement.js';
import { storedMarkets } from '../../src/domain/stored-odds.js';
import type { SnapshotInput } from '../../src/domain/odds.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

describe.each(databaseKinds)('history partitions by day on %s', (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(kind, 'migrated');
    await test.db.withSession((s) =>
      s.exec(`
        INSERT INTO sport (key, name) VALUES ('football', 'Football');
        INSERT INTO competition (sport_id, key, name) VALUES (1, 'eng', 'English');
        INSERT INTO event (external_id, sport_id, competition_id, home, away, kickoff_at) VALUES ('e1', 1, 1, 'A', 'B', '2026-12-10T15:00:00Z');
        INSERT INTO bookmaker (key, name) VALUES ('one', 'One');`),
    );
  });
  afterAll(() => test.drop());
  // One database for the file (PGlite starts slowly): each test begins with no day partitions and no odds.
  beforeEach(async () => {
    const days = await test.db.withSession((s) =>
      s.query<{ name: string }>(
        `SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'odds_snapshot'::regclass AND c.relname <> 'odds_snapshot_default'`,
      ),
    );
    await test.db.withSession((s) => s.exec([...days.map(({ name }) => `DROP TABLE "${name}";`), 'TRUNCATE odds_snapshot, latest_odds;'].join('\n')));
  });

  const snapshot = (iso: string, home = 2): SnapshotInput => ({
    eventId: 1,
    bookmakerId: 1,
    capturedAt: new Date(iso),
    markets: [{ key: 'btts', name: 'Both teams to score', line: null, outcomes: [{ key: 'yes', name: 'Yes', price: home }, { key: 'no', name: 'No', price: 1.8 }] }],
  });
  /** Rows per partition, in name order. */
  const placement = () =>
    test.db.withSession((s) =>
      s.query<{ partition: string; rows: number }>(
        `SELECT c.relname::text AS partition, (SELECT count(*)::int FROM odds_snapshot o WHERE o.tableoid = c.oid) AS rows
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'odds_snapshot'::regclass ORDER BY 1`,
      ),
    );

  it("creates today's partition and the next two days' ahead, and each snapshot lands in its day", async () => {
    const result = await maintainHistory(test.db.prisma, { retentionDays: 30, now: new Date('2026-12-01T18:00:00Z') });
    expect(result).toEqual({ prunedLogPositions: 0, created: ['odds_snapshot_d20261201', 'odds_snapshot_d20261202', 'odds_snapshot_d20261203'], dropped: [], expiredDefaultRows: 0, deletedShapes: 0 });
    await storeSnapshots(test.db.prisma, [snapshot('2026-12-01T23:59:59.999Z'), snapshot('2026-12-02T00:00:00Z', 2.1)]);
    expect(await placement()).toEqual([
      { partition: 'odds_snapshot_d20261201', rows: 1 },
      { partition: 'odds_snapshot_d20261202', rows: 1 },
      { partition: 'odds_snapshot_d20261203', rows: 0 },
      { partition: 'odds_snapshot_default', rows: 0 },
    ]);
    const again = await maintainHistory(test.db.prisma, { retentionDays: 30, now: new Date('2026-12-01T19:00:00Z') });
    expect(again.created).toEqual([]);
  });

  it('moves rows that landed in the default partition into their day when the day is created', async () => {
    await storeSnapshots(test.db.prisma, [snapshot('2026-11-20T10:00:00Z'), snapshot('2026-11-20T11:00:00Z', 2.1)]);
    expect(await placement()).toEqual([{ partition: 'odds_snapshot_default', rows: 2 }]);
    expect(await ensureHistoryDays(test.db.prisma, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:00Z'))).toEqual([
      'odds_snapshot_d20261120',
    ]);
    expect(await placement()).toEqual([
      { partition: 'odds_snapshot_d20261120', rows: 2 },
      { partition: 'odds_snapshot_default', rows: 0 },
    ]);
    // The moved day keeps its indexes: a duplicate is still refused and history still reads in order.
    expect(await storeSnapshots(test.db.prisma, [snapshot('2026-11-20T11:00:00Z', 2.1)])).toMatchObject({ stored: 0, duplicates: 1 });
    const history = await new OddsReader(test.db.prisma).history({ eventId: 1, first: 5 });
    expect(history.map((s) => s.capturedAt)).toEqual(['2026-11-20T11:00:00.000Z', '2026-11-20T10:00:00.000Z']);
  });

  it('drops whole days older than the retention and expired rows of the default partition, never the latest odds', async () => {
    await ensureHistoryDays(test.db.prisma, new Date('2026-11-27T00:00:00Z'), new Date('2026-11-30T00:00:00Z'));
    await storeSnapshots(test.db.prisma, [
      snapshot('2026-11-20T10:00:00Z', 1.9), // no day of its own: the default partition
      snapshot('2026-11-27T10:00:00Z', 2.0),
      snapshot('2026-11-28T10:00:00Z', 2.1),
      snapshot('2026-11-30T10:00:00Z', 2.2),
    ]);
    // Three days before 2026-12-01T12:00 is 2026-11-28T12:00: the 27th is wholly older, the 28th is not.
    const result = await maintainHistory(test.db.prisma, { retentionDays: 3, now: new Date('2026-12-01T12:00:00Z') });
    expect(result).toMatchObject({ dropped: ['odds_snapshot_d20261127'], expiredDefaultRows: 1 });
    const history = await new OddsReader(test.db.prisma).history({ eventId: 1, first: 10 });
    expect(history.map((s) => s.capturedAt)).toEqual(['2026-11-30T10:00:00.000Z', '2026-11-28T10:00:00.000Z']);

    const later = await maintainHistory(test.db.prisma, { retentionDays: 3, now: new Date('2026-12-05T12:00:00Z') });
    expect(later.dropped).toEqual(['odds_snapshot_d20261128', 'odds_snapshot_d20261129', 'odds_snapshot_d20261130', 'odds_snapshot_d20261201']);
    const odds = (await new OddsReader(test.db.prisma).eventOdds([1])).get(1)!;
    expect(odds.snapshots.map((s) => [s.capturedAt, s.markets[0]!.outcomes[0]!.price])).toEqual([['2026-11-30T10:00:00.000Z', 2.2]]);
  });

  it('deletes the market shapes that only expired history named, and stores one again when a new snapshot names it', async () => {
    await test.db.withSession((s) => s.exec(`INSERT INTO bookmaker (key, name) VALUES ('two', 'Two') ON CONFLICT DO NOTHING`));
    // A shape per outcome name (as a feed whose outcomes carry team names makes a shape per event).
    const named = (iso: string, bookmakerId: number, name: string): SnapshotInput => ({
      ...snapshot(iso),
      bookmakerId,
      markets: [{ key: 'winner', name: 'Winner', line: null, outcomes: [{ key: 'home', name, price: 2 }, { key: 'away', name: 'Away', price: 1.8 }] }],
    });
    const shapesLeft = async () =>
      (
        await test.db.withSession((s) =>
          s.query<{ name: string; day: string }>(
            `SELECT markets->0->'outcomes'->0->>'name' AS name, last_captured_on::text AS day FROM market_shape
             WHERE markets->0->>'key' = 'winner' ORDER BY 1`,
          ),
        )
      ).map((shape) => `${shape.name} ${shape.day}`);
    await ensureHistoryDays(test.db.prisma, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    await storeSnapshots(test.db.prisma, [
      named('2026-10-20T10:00:00Z', 1, 'Expired United'), // only ever in history that expires
      named('2026-10-21T10:00:00Z', 2, 'Quiet Town'), // its pair's latest odds, however old
      named('2026-10-22T10:00:00Z', 1, 'Named Again'),
      named('2026-12-01T10:00:00Z', 1, 'Named Again'), // moves its day forward
      named('2026-12-01T11:00:00Z', 1, 'Current City'),
    ]);
    expect(await shapesLeft()).toEqual(['Current City 2026-12-01', 'Expired United 2026-10-20', 'Named Again 2026-12-01', 'Quiet Town 2026-10-21']);

    const result = await maintainHistory(test.db.prisma, { retentionDays: 30, now: new Date('2026-12-01T12:00:00Z') });
    expect(result).toMatchObject({ expiredDefaultRows: 3, deletedShapes: 1 });
    expect(await shapesLeft()).toEqual(['Current City 2026-12-01', 'Named Again 2026-12-01', 'Quiet Town 2026-10-21']);
    const reader = new OddsReader(test.db.prisma);
    expect((await reader.eventOdds([1])).get(1)!.snapshots.map((s) => s.markets[0]!.outcomes[0]!.name)).toEqual(['Current City', 'Quiet Town']);

    // Named again by a new snapshot: stored again with it, and read back.
    await storeSnapshots(test.db.prisma, [named('2026-12-01T13:00:00Z', 1, 'Expired United')]);
    expect(await shapesLeft()).toContain('Expired United 2026-12-01');
    const history = await new OddsReader(test.db.prisma).history({ eventId: 1, bookmakerId: 1, first: 1 });
    expect(history.map((s) => s.markets[0]!.outcomes[0]!.name)).toEqual(['Expired United']);
  });

  it.runIf(kind === 'postgres')('keeps a shape that a snapshot being written names while upkeep deletes the unnamed ones', async () => {
    const capturedAt = new Date('2026-12-01T10:00:00Z');
    const markets = [{ key: 'raced', name: 'Raced', line: null, outcomes: [{ key: 'home', name: 'Home', price: 2 }, { key: 'away', name: 'Away', price: 1.8 }] }];
    const stored = storedMarkets(withMovement(markets, capturedAt.getTime(), undefined), capturedAt.getTime());
    const dayOfShape = async () =>
      (await test.db.withSession((s) => s.query<{ day: string }>(`SELECT last_captured_on::text AS day FROM market_shape WHERE digest = $1::uuid`, [stored.digest])))[0]?.day;
    // Last named long before the retention: upkeep would delete it.
    await test.db.withSession((s) => writeShapes(s.query, [{ stored, capturedAt: new Date('2026-10-20T10:00:00Z') }]));
    // Ingest names it again in a transaction still open (before its snapshot is written) when upkeep runs.
    const ingest = new pg.Client({ connectionString: test.url });
    await ingest.connect();
    try {
      await ingest.query('BEGIN');
      await writeShapes(async (sql, params) => (await ingest.query(sql, params)).rows, [{ stored, capturedAt }]);
      let settled = false;
      const upkeep = maintainHistory(test.db.prisma, { retentionDays: 30, now: new Date('2026-12-01T12:00:00Z') }).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(settled).toBe(false); // its delete waits for the ingest transaction
      await ingest.query('COMMIT');
      await upkeep;
    } finally {
      await ingest.end();
    }
    expect(await dayOfShape()).toBe('2026-12-01');
  });

  it('reads a page of history newest first whether it lies in the recent days, the older ones or both', async () => {
    await ensureHistoryDays(test.db.prisma, new Date('2026-11-25T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    const times = ['2026-11-25T08:00:00Z', '2026-11-27T08:00:00Z', '2026-11-29T08:00:00Z', '2026-11-30T08:00:00Z', '2026-11-30T20:00:00Z', '2026-12-01T08:00:00Z'];
    await storeSnapshots(test.db.prisma, times.map((time, i) => snapshot(time, 2 + i / 10)));
    // Recent from 2026-11-29T12:00: three snapshots on each side.
    const split = new OddsReader(test.db.prisma, () => Date.parse('2026-12-01T12:00:00Z'));
    const whole = new OddsReader(test.db.prisma, () => 0);
    const queries = [
      ...[1, 3, 4, 6, 10].map((first) => ({ eventId: 1, first })),
      { eventId: 1, first: 4, bookmakerId: 1, since: new Date('2026-11-26T00:00:00Z') },
      { eventId: 1, first: 10, until: new Date('2026-11-30T08:00:00Z') },
      { eventId: 1, first: 10, since: new Date('2026-11-30T00:00:00Z') },
    ];
    for (const query of queries) {
      const expected = (await whole.history(query)).map((s) => s.capturedAt);
      expect((await split.history(query)).map((s) => s.capturedAt), JSON.stringify(query)).toEqual(expected);
    }
    expect((await split.history({ eventId: 1, first: 4 })).map((s) => s.capturedAt)).toEqual(
      ['2026-12-01T08:00:00Z', '2026-11-30T20:00:00Z', '2026-11-30T08:00:00Z', '2026-11-29T08:00:00Z'].map((t) => new Date(t).toISOString()),
    );
  });

  it("reads the same records through the database's own driver as through Prisma", async () => {
    await test.db.withSession((s) => s.exec('TRUNCATE change_log'));
    await ensureHistoryDays(test.db.prisma, new Date('2026-11-29T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    await storeSnapshots(test.db.prisma, [snapshot('2026-11-29T08:00:00.123Z', 2.05), snapshot('2026-11-30T08:00:00Z', 2.1)]);
    await storeSnapshots(test.db.prisma, [snapshot('2026-12-01T08:00:00Z', 2.2)], [], { feed: 'driver-test', cursor: '1' });
    const now = () => Date.parse('2026-12-01T12:00:00Z');
    const viaPrisma = new OddsReader(test.db.prisma, now);
    const viaDriver = new OddsReader(test.db.prisma, now, test.db.query);
    for (const query of [{ eventId: 1, first: 10 }, { eventId: 1, first: 2, marketKey: 'btts', since: new Date('2026-11-29T00:00:00Z') }]) {
      const history = await viaDriver.history(query);
      expect(history, JSON.stringify(query)).toEqual(await viaPrisma.history(query));
      expect(history.length).toBeGreaterThan(0);
    }
    const odds = await viaDriver.eventOdds([1, 2]);
    expect(odds).toEqual(await viaPrisma.eventOdds([1, 2]));
    expect(odds.get(1)!.snapshots.map((s) => s.capturedAt)).toEqual(['2026-12-01T08:00:00.000Z']);
    const changes = await viaDriver.changesAfter({ position: 0n });
    expect(changes).toEqual(await viaPrisma.changesAfter({ position: 0n }));
    expect(changes.entries.flatMap((entry) => entry.odds)).toHaveLength(1);
  });

  it('prunes the change log beyond the replay window, always keeping its newest position', async () => {
    await test.db.withSession((s) => s.exec('TRUNCATE change_log'));
    const commit = (at: string) =>
      storeSnapshots(test.db.prisma, [snapshot(at, 2 + Date.parse(at) / 1e13)], [], { feed: 'upkeep-test', cursor: at }).then((r) => r.position!);
    const positions = [await commit('2026-12-01T10:00:00Z'), await commit('2026-12-01T10:01:00Z'), await commit('2026-12-01T10:02:00Z')];
    await test.db.withSession((s) =>
      s.exec(`UPDATE change_log SET committed_at = '2026-12-01T10:00:00Z'::timestamptz + (position - ${positions[0]}) * interval '30 minutes'`),
    );
    // The window of 60 minutes before 11:10 starts at 10:10: the position of 10:00 goes, those of 10:30 and 11:00 stay.
    const result = await maintainHistory(test.db.prisma, { retentionDays: 30, replayWindowMinutes: 60, now: new Date('2026-12-01T11:10:00Z') });
    expect(result.prunedLogPositions).toBe(1);
    const kept = async () => (await test.db.prisma.changeLog.findMany({ orderBy: { position: 'asc' } })).map((row) => row.position);
    expect(await kept()).toEqual(positions.slice(1));
    // A day later every position is older than the window: the newest stays, so a cursor is told from a reset log.
    await maintainHistory(test.db.prisma, { retentionDays: 30, replayWindowMinutes: 60, now: new Date('2026-12-02T12:00:00Z') });
    expect(await kept()).toEqual(positions.slice(2));
  });

  it('refuses a retention shorter than a day', async () => {
    await expect(maintainHistory(test.db.prisma, { retentionDays: 0 })).rejects.toThrow(/retentionDays must be a whole number of days, at least 1; got 0/);
  });

  it('keeps the days from the moment it starts, and stops after its run in progress', async () => {
    const messages: string[] = [];
    const upkeep = startHistoryUpkeep(test.db.prisma, { retentionDays: 30, log: (message) => messages.push(message) });
    await upkeep.stop();
    const today = `odds_snapshot_d${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
    expect((await placement()).map((p) => p.partition)).toContain(today);
    expect(messages).toEqual(['history: created 3 day partitions, dropped 0 past the 30-day retention, deleted 0 expired rows and 0 market shapes nothing kept names']);
  });
});
