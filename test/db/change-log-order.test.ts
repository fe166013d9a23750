import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeSnapshots } from '../../src/db/odds-store.js';
import type { SnapshotInput } from '../../src/domain/odds.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it): two writers in two sessions.
describe.skipIf(!postgresUrl)('change-log positions in commit order, with two writers', () => {
  let test: TestDatabase;
  let other: pg.Client;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    other = new pg.Client({ connectionString: test.url });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await test?.drop();
  });

  const snapshot = async (capturedAt: string): Promise<SnapshotInput> => {
    const [event, bookmaker] = await Promise.all([test.db.prisma.event.findFirstOrThrow(), test.db.prisma.bookmaker.findFirstOrThrow()]);
    return {
      eventId: event.id,
      bookmakerId: bookmaker.id,
      capturedAt: new Date(capturedAt),
      markets: [{ key: '1x2', name: 'Match result', line: null, outcomes: [{ key: 'home', name: 'Home', price: 2.1 }] }],
    };
  };

  it('makes a writer that reaches its log row while another has not committed take the next position after that commit', async () => {
    // The other writer takes its position first and holds its transaction open, as a slow batch would.
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock(72707371)'); // src/db/feed-commit.ts's lock
    const { rows } = await other.query<{ position: string }>(`INSERT INTO change_log (feed, changes) VALUES ('slow-writer', '[]') RETURNING position`);
    const slow = BigInt(rows[0]!.position);

    let committed = false;
    // Newer than the seed's latest odds (a fixed date fell behind them as the calendar moved on: a late
    // snapshot joins history without moving the odds, and takes no log position).
    const fast = storeSnapshots(test.db.prisma, [await snapshot(new Date(Date.now() + 60_000).toISOString())], [], { feed: 'fast-writer', cursor: 'c1' }).then((result) => {
      committed = true;
      return result.position!;
    });
    // The fast batch waits for the lock at its log row, not somewhere before it: its snapshot is written, uncommitted.
    // (This database's advisory locks only: other test files' writers share the server. The write before the lock
    // can take seconds on a loaded box.)
    const waitingForTheLock = async () =>
      (
        await other.query(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
      ).rows[0].n;
    await expect.poll(waitingForTheLock, { timeout: 15_000 }).toBe(1);
    expect(committed).toBe(false);
    await other.query('COMMIT');

    // Without the lock the fast batch would have committed first with a later position: a reader following the
    // log after it would have skipped the slow one's position for good.
    const position = await fast;
    expect(position).toBeGreaterThan(slow);
    const log = await test.db.prisma.changeLog.findMany({ orderBy: { position: 'asc' }, select: { feed: true } });
    expect(log.map((row) => row.feed)).toEqual(['slow-writer', 'fast-writer']);
  });
});
