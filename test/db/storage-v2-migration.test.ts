import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlSession } from '../../src/db/database.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrate.js';
import { storeSnapshots } from '../../src/db/odds-store.js';
import type { SnapshotInput } from '../../src/domain/odds.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { withMarkets } from '../support/stored-markets.js';

const v2 = '20261203000000_odds_storage_v2';
const marketShapes = '20261205010000_market_shapes';
const earlier = (await readdir(defaultMigrationsDir, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && entry.name < v2)
  .map((entry) => entry.name);

/** One bookmaker's snapshots of one event over two UTC days: changes, a market left out and back, a settlement. */
function history(eventId: number, bookmakerId: number): SnapshotInput[] {
  const result = (home: number, status?: 'SETTLED') => ({
    key: '1x2',
    name: 'Match result',
    line: null,
    ...(status && { status }),
    outcomes: [
      { key: 'home', name: 'Home', price: home, ...(status && { result: 'WON' as const }) },
      { key: 'draw', name: 'Draw', price: 3.4, ...(status && { result: 'LOST' as const }) },
    ],
  });
  const totals = (over: number) => ({ key: 'over_under', name: 'Total 2.5', line: 2.5, outcomes: [{ key: 'over', name: 'Over', price: over }, { key: 'under', name: 'Under', price: 1.95 }] });
  const at = (iso: string) => new Date(iso);
  return [
    { eventId, bookmakerId, capturedAt: at('2026-11-29T22:00:00Z'), markets: [result(2.0), totals(1.9)] },
    { eventId, bookmakerId, capturedAt: at('2026-11-29T23:30:00Z'), markets: [result(2.1), totals(1.9)] },
    { eventId, bookmakerId, capturedAt: at('2026-11-30T01:00:00Z'), markets: [result(2.1), totals(1.85)] },
    { eventId, bookmakerId, capturedAt: at('2026-11-30T02:00:00Z'), markets: [result(2.1)] },
    { eventId, bookmakerId, capturedAt: at('2026-11-30T03:00:00Z'), markets: [result(2.05, 'SETTLED'), totals(1.85)] },
  ];
}

/** The same snapshots as the tables before storage v2 held them: one row per snapshot, market and outcome. */
async function storeAsBefore(session: SqlSession, snapshot: SnapshotInput): Promise<void> {
  const [row] = await session.query<{ id: number }>(
    'INSERT INTO odds_snapshot (event_id, bookmaker_id, captured_at) VALUES ($1, $2, $3) RETURNING id',
    [snapshot.eventId, snapshot.bookmakerId, snapshot.capturedAt.toISOString()],
  );
  for (const market of snapshot.markets) {
    const [marketRow] = await session.query<{ id: number }>(
      `INSERT INTO market (snapshot_id, key, name, line, status) VALUES ($1, $2, $3, $4, $5::"MarketStatus") RETURNING id`,
      [row!.id, market.key, market.name, market.line, market.status ?? 'OPEN'],
    );
    for (const outcome of market.outcomes) {
      await session.query(`INSERT INTO outcome (market_id, key, name, price, result) VALUES ($1, $2, $3, $4, $5::"OutcomeResult")`, [
        marketRow!.id,
        outcome.key,
        outcome.name,
        outcome.price,
        outcome.result ?? null,
      ]);
    }
  }
  await session.query(
    `INSERT INTO latest_odds (event_id, bookmaker_id, snapshot_id, captured_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (event_id, bookmaker_id) DO UPDATE SET snapshot_id = EXCLUDED.snapshot_id, captured_at = EXCLUDED.captured_at`,
    [snapshot.eventId, snapshot.bookmakerId, row!.id, snapshot.capturedAt.toISOString()],
  );
}

async function addReferenceData(session: SqlSession): Promise<void> {
  await session.exec(`
    INSERT INTO sport (key, name) VALUES ('football', 'Football');
    INSERT INTO competition (sport_id, key, name) VALUES (1, 'eng', 'English');
    INSERT INTO event (external_id, sport_id, competition_id, home, away, kickoff_at)
      VALUES ('e1', 1, 1, 'A', 'B', '2026-11-30T15:00:00Z'), ('e2', 1, 1, 'C', 'D', '2026-11-30T17:00:00Z');
    INSERT INTO bookmaker (key, name) VALUES ('one', 'One'), ('two', 'Two');`);
}

describe.each(databaseKinds)('migrating to storage v2 on %s', (kind) => {
  let old: TestDatabase;
  let fresh: TestDatabase;
  let migrationsDir: string;
  beforeEach(async () => {
    [old, fresh] = await Promise.all([createTestDatabase(kind, 'empty'), createTestDatabase(kind, 'migrated')]);
    migrationsDir = await mkdtemp(path.join(tmpdir(), 'oddsgate-migrations-'));
    for (const name of earlier) await cp(path.join(defaultMigrationsDir, name), path.join(migrationsDir, name), { recursive: true });
  });
  afterEach(async () => {
    await Promise.all([old.drop(), fresh.drop()]);
    await rm(migrationsDir, { recursive: true, force: true });
  });

  const snapshots = [...history(1, 1), ...history(2, 1).slice(0, 2), ...history(1, 2).slice(1, 3)].sort(
    (a, b) => a.capturedAt.getTime() - b.capturedAt.getTime(),
  );
  // Markets as their shapes and prices stand for them: the migration names a shape by PostgreSQL's JSON of it,
  // ingest by its own, so the digests may differ where the markets do not.
  const withoutDigests = <T extends { shape: string; prices: unknown }>(rows: T[]) => rows.map(({ shape: _, prices: __, ...rest }) => rest);
  const contents = async (t: TestDatabase) => ({
    history: withoutDigests(await withMarkets(t.db, await t.db.prisma.oddsSnapshot.findMany({ orderBy: { id: 'asc' } }))),
    latest: withoutDigests(
      await withMarkets(t.db, await t.db.prisma.latestOdds.findMany({ orderBy: [{ eventId: 'asc' }, { bookmakerId: 'asc' }] })),
    ),
  });

  const pricesText = (t: TestDatabase) =>
    t.db.withSession(async (s) => ({
      history: await s.query('SELECT id, prices::text AS prices FROM odds_snapshot ORDER BY id'),
      latest: await s.query('SELECT event_id, bookmaker_id, prices::text AS prices FROM latest_odds ORDER BY 1, 2'),
    }));
  /** What the history and latest-odds tables are besides their columns: keys, indexes (also the default partition's), foreign keys, storage options, the id sequence. */
  const tableDefinitions = (t: TestDatabase) =>
    t.db.withSession(async (s) => ({
      constraints: await s.query(
        `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
         WHERE conrelid IN ('odds_snapshot'::regclass, 'odds_snapshot_default'::regclass, 'latest_odds'::regclass)
         ORDER BY 1, 2`,
      ),
      indexes: await s.query(
        `SELECT tablename, indexname, indexdef FROM pg_indexes
         WHERE tablename IN ('odds_snapshot', 'odds_snapshot_default', 'latest_odds') ORDER BY 1, 2`,
      ),
      options: await s.query(
        `SELECT relname, relkind::text, reloptions FROM pg_class
         WHERE relname IN ('odds_snapshot', 'odds_snapshot_default', 'latest_odds') ORDER BY 1`,
      ),
      idDefault: await s.query(
        `SELECT column_default FROM information_schema.columns WHERE table_name = 'odds_snapshot' AND column_name = 'id'`,
      ),
      sequenceOwner: await s.query(
        `SELECT d.refobjid::regclass::text AS tbl, a.attname FROM pg_depend d
         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.objid = 'odds_snapshot_id_seq'::regclass AND d.deptype = 'a'`,
      ),
    }));

  // Two databases migrated step by step: slow on PGlite on a loaded machine.
  it('keeps every snapshot, with the movement ingest derives now, in day partitions', { timeout: 120_000 }, async () => {
    await applyMigrations(old.db, migrationsDir);
    await old.db.withSession(async (session) => {
      await addReferenceData(session);
      for (const snapshot of snapshots) await storeAsBefore(session, snapshot);
    });
    await cp(path.join(defaultMigrationsDir, v2), path.join(migrationsDir, v2), { recursive: true });
    expect((await applyMigrations(old.db, migrationsDir)).applied).toEqual([v2]);
    // And on through the later migrations, as a deployment would. Market shapes rebuilds the history and latest-odds
    // tables: they keep the keys, indexes, foreign keys, storage options and id sequence they had before it.
    const beforeShapes = (await readdir(defaultMigrationsDir)).filter((name) => name > v2 && name < marketShapes);
    for (const name of beforeShapes) await cp(path.join(defaultMigrationsDir, name), path.join(migrationsDir, name), { recursive: true });
    await applyMigrations(old.db, migrationsDir);
    const definitions = await tableDefinitions(old);
    expect((await applyMigrations(old.db)).applied).toContain(marketShapes);
    expect(await tableDefinitions(old)).toEqual(definitions);

    await fresh.db.withSession(addReferenceData);
    for (const snapshot of snapshots) await storeSnapshots(fresh.db.prisma, [snapshot]);
    const migrated = await contents(old);
    expect(migrated.history).toHaveLength(snapshots.length);
    expect(migrated).toEqual(await contents(fresh));

    // The numbers as ingest writes them, byte for byte.
    expect(await pricesText(old)).toEqual(await pricesText(fresh));

    const placed = await old.db.withSession((s) =>
      s.query(`SELECT tableoid::regclass::text AS partition, count(*)::int AS rows FROM odds_snapshot GROUP BY 1 ORDER BY 1`),
    );
    expect(placed).toEqual([
      { partition: 'odds_snapshot_d20261129', rows: 5 },
      { partition: 'odds_snapshot_d20261130', rows: 4 },
    ]);
    // Ids continue after the carried-over snapshots.
    const next = history(2, 2)[4]!;
    await storeSnapshots(old.db.prisma, [next]);
    const newest = await old.db.prisma.oddsSnapshot.findFirstOrThrow({ where: { eventId: 2, bookmakerId: 2 } });
    expect(newest.id).toBe(snapshots.length + 1);
  });
});
