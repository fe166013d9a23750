import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeedCursor } from '../../src/db/feed-commit.js';
import { ChangesFeedServer } from '../support/changes-feed.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startProcess, type RunningProcess } from '../support/processes.js';

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it): the worker runs as its own process and is SIGKILLed.
describe.skipIf(!postgresUrl)('an ingest worker killed mid-run and started again', () => {
  const total = 5_000;
  let test: TestDatabase;
  let feed: ChangesFeedServer;
  let feedUrl: string;
  const workers: RunningProcess[] = [];
  const firstCapture = Date.now() - 2 * 3_600_000;

  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    // Every snapshot in the database is then one the feed delivered.
    await test.db.withSession((session) => session.exec('DELETE FROM latest_odds; DELETE FROM odds_snapshot;'));
    const events = (await test.db.prisma.event.findMany({ select: { externalId: true } })).map((e) => e.externalId);
    const bookmakers = (await test.db.prisma.bookmaker.findMany({ select: { key: true } })).map((b) => b.key);
    feed = new ChangesFeedServer({ total, perSecond: 800, events, bookmakers, firstCapture });
    feedUrl = await feed.start();
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await feed.close();
    await test.drop();
  });

  const startWorker = () => {
    const url = new URL(test.url!);
    url.searchParams.set('application_name', workerSessions);
    const worker = startProcess('src/cli/ingest.ts', { DATABASE_URL: url.href, FEED_URL: feedUrl, REDIS_URL: '', METRICS_PORT: '' });
    workers.push(worker);
    return worker;
  };
  const storedFromFeed = () => test.db.prisma.oddsSnapshot.count();
  const feedName = () => `http ${feedUrl}`;
  // The workers' sessions carry this name, so the test can wait until a killed worker's last one has ended.
  const workerSessions = 'crash-test-worker';
  const workerSessionsLeft = async () => {
    const [row] = await test.db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
      workerSessions,
    );
    return row!.n;
  };
  const committedAndStored = async () => {
    // One statement, one snapshot: the two figures cannot straddle a commit.
    const [row] = await test.db.prisma.$queryRawUnsafe<Array<{ cursor: string; stored: number }>>(
      `SELECT (SELECT cursor FROM feed_cursor WHERE feed = $1) AS cursor, (SELECT count(*)::int FROM odds_snapshot) AS stored`,
      feedName(),
    );
    return { committed: Number(row!.cursor), stored: row!.stored };
  };

  it('resumes at the committed cursor: nothing lost, nothing stored twice, nothing committed downloaded again', async () => {
    const first = startWorker();
    await expect.poll(storedFromFeed, { timeout: 60_000, interval: 20 }).toBeGreaterThan(1_000);
    expect(await workerSessionsLeft()).toBeGreaterThan(0); // the name reaches the server, so the wait below means something
    await first.stop('SIGKILL');
    const answersBeforeRestart = feed.answers.length;
    // A COMMIT the worker sent just before it died may still land: wait until every session of it has ended.
    await expect.poll(workerSessionsLeft, { timeout: 10_000, interval: 20 }).toBe(0);
    const { committed: committedAtKill, stored: storedAtKill } = await committedAndStored();
    expect(storedAtKill).toBe(committedAtKill); // the cursor says exactly what was stored

    // Changes keep coming while the worker is away; a feed asked without a cursor would skip them.
    await expect.poll(() => feed.head(), { timeout: 10_000, interval: 20 }).toBeGreaterThan(committedAtKill + 500);
    startWorker();
    await expect.poll(storedFromFeed, { timeout: 90_000, interval: 100 }).toBe(total);

    const restarted = feed.answers.slice(answersBeforeRestart);
    expect(restarted[0]!.since).toBe(String(committedAtKill));
    const twice = feed.servedTwice();
    // Only the answer in flight at the kill (downloaded, not committed) can be downloaded again.
    for (const [n, times] of twice) {
      expect(times).toBe(2);
      expect(n).toBeGreaterThan(committedAtKill);
    }
    const inFlight = feed.answers[answersBeforeRestart - 1]!;
    expect(twice.size).toBeLessThanOrEqual(Math.max(0, inFlight.last - committedAtKill));
    expect(await test.db.prisma.oddsSnapshot.count()).toBe(total);
    expect(await readFeedCursor(test.db.prisma, feedName())).toBe(String(total));
    console.log(
      `crash test: killed with ${committedAtKill} of ${total} committed; ${twice.size} records downloaded twice ` +
        `(the answer in flight: ${inFlight.first}..${inFlight.last}); ${feed.answers.length} answers in all`,
    );
  }, 180_000);
});
