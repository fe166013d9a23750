import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeSnapshots } from '../src/db/odds-store.js';
import type { SnapshotInput } from '../src/domain/odds.js';
import { seedDatabase } from '../src/seed/seed.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { withMarkets } from './support/stored-markets.js';

// The seed loads history by COPY: it must hold what the ingest path (storeSnapshots) would have stored.
describe.each(databaseKinds)('a seed with days of history on %s', (kind) => {
  let test: TestDatabase;
  const now = new Date('2026-11-22T12:00:00Z');
  const days = 3;
  beforeAll(async () => {
    test = await createTestDatabase(kind, 'migrated');
    await seedDatabase(test.db, { events: 12, bookmakers: 3, now, snapshotsPerPair: days * 4 + 1 });
  });
  afterAll(() => test.drop());

  const history = async () =>
    withMarkets(
      test.db,
      await test.db.withSession((s) =>
        s.query<{ id: number; eventId: number; bookmakerId: number; capturedAt: Date; shape: string; prices: unknown }>(
          `SELECT id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", shape::text AS shape, prices
           FROM odds_snapshot ORDER BY id`,
        ),
      ),
    );
  const latest = async () =>
    test.db.withSession((s) =>
      s.query<Record<string, unknown>>(
        `SELECT event_id, bookmaker_id, snapshot_id, captured_at, shape::text AS shape, prices::text AS prices FROM latest_odds ORDER BY event_id, bookmaker_id`,
      ),
    );

  it('stores, for every pair, its newest snapshot as the latest odds, and no stray rows', async () => {
    const [check] = await test.db.withSession((s) =>
      s.query<{ snapshots: number; pairs: number; mismatched: number; strays: number; unanalyzed: number }>(
        `SELECT (SELECT count(*)::int FROM odds_snapshot) AS snapshots,
                (SELECT count(*)::int FROM latest_odds) AS pairs,
                (SELECT count(*)::int FROM latest_odds l CROSS JOIN LATERAL (
                   SELECT s.id, s.captured_at, s.shape, s.prices FROM odds_snapshot s
                   WHERE s.event_id = l.event_id AND s.bookmaker_id = l.bookmaker_id ORDER BY s.captured_at DESC LIMIT 1) n
                 WHERE (l.snapshot_id, l.captured_at, l.shape, l.prices::text) IS DISTINCT FROM (n.id, n.captured_at, n.shape, n.prices::text)) AS mismatched,
                (SELECT count(*)::int FROM odds_snapshot_default) AS strays,
                (SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND reltuples < 0) AS unanalyzed`,
      ),
    );
    expect(check).toEqual({ snapshots: 12 * 3 * (days * 4 + 1), pairs: 12 * 3, mismatched: 0, strays: 0, unanalyzed: 0 });
  });

  it('holds the shapes, prices, movement and latest odds the ingest path writes for the same snapshots', async () => {
    const seeded = await history();
    const seededLatest = await latest();
    // Markets as a feed sends them (movement left out), stored again through the ingest path in capture order.
    const inputs: SnapshotInput[] = seeded.map((row) => ({
      eventId: row.eventId,
      bookmakerId: row.bookmakerId,
      capturedAt: new Date(row.capturedAt),
      markets: row.markets.map(({ key, name, line, status, outcomes }) => ({
        key,
        name,
        line,
        status,
        outcomes: outcomes.map(({ key, name, price, result }) => ({ key, name, price, ...(result !== null && { result }) })),
      })),
    }));
    await test.db.prisma.$executeRawUnsafe('TRUNCATE latest_odds, odds_snapshot');
    await test.db.prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('odds_snapshot', 'id'), 1, false)`);
    const byCapture = inputs.map((input, i) => ({ input, i })).sort((a, b) => a.input.capturedAt.getTime() - b.input.capturedAt.getTime());
    for (let start = 0; start < byCapture.length; start += 50) {
      await storeSnapshots(test.db.prisma, byCapture.slice(start, start + 50).map(({ input }) => input));
    }
    const stored = await history();
    const key = (row: { eventId: number; bookmakerId: number; capturedAt: Date }) => `${row.eventId}:${row.bookmakerId}:${new Date(row.capturedAt).getTime()}`;
    const storedByKey = new Map(stored.map((row) => [key(row), row.markets]));
    expect(seeded.some((row) => row.markets.some((m) => m.outcomes.some((o) => o.previousPrice !== null)))).toBe(true);
    for (const row of seeded) expect(storedByKey.get(key(row)), key(row)).toEqual(row.markets);
    // Ids differ (the ingest path numbered them in capture order); the rest of the latest odds must not.
    const withoutId = (rows: Array<Record<string, unknown>>) => rows.map(({ snapshot_id: _, ...rest }) => rest);
    expect(withoutId(await latest())).toEqual(withoutId(seededLatest));
  });

  it('leaves the id sequence after the ids it gave, so ingest goes on after a seed', async () => {
    await seedDatabase(test.db, { events: 2, bookmakers: 1, now, snapshotsPerPair: 5 });
    const [latestRow] = await test.db.withSession((s) => s.query<{ eventId: number }>('SELECT event_id AS "eventId" FROM latest_odds LIMIT 1'));
    const { stored } = await storeSnapshots(test.db.prisma, [
      { eventId: latestRow!.eventId, bookmakerId: 1, capturedAt: new Date(now.getTime() + 60_000), markets: [{ key: 'btts', name: 'Both teams to score', line: null, outcomes: [{ key: 'yes', name: 'Yes', price: 1.8 }, { key: 'no', name: 'No', price: 2 }] }] },
    ]);
    expect(stored).toBe(1);
    const [{ max }] = (await test.db.withSession((s) => s.query<{ max: number }>('SELECT max(id)::int AS max FROM odds_snapshot'))) as [{ max: number }];
    expect(max).toBe(2 * 1 * 5 + 1);
  });
});
