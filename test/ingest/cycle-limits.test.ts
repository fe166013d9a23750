import { silentLogger } from '../../src/ops/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeedCursor } from '../../src/db/feed-commit.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { QueuedFeed } from '../support/queued-feed.js';

describe('an ingest cycle', () => {
  let test: TestDatabase;
  let events: string[];
  let bookmaker: string;
  let clock = Date.now();
  const start = clock - 3_600_000;
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded-small');
    bookmaker = (await test.db.prisma.bookmaker.findFirstOrThrow()).key;
    events = (await test.db.prisma.event.findMany({ select: { externalId: true }, orderBy: { id: 'asc' } })).map((e) => e.externalId);
  });
  afterAll(() => test.drop());

  const record = (n: number) => ({
    event: events[n % events.length],
    bookmaker,
    capturedAt: new Date(start + n * 1000).toISOString(),
    markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price: 1.8 }, { key: 'no', name: 'No', price: 2 }] }],
  });
  const worker = (feed: QueuedFeed, options: { maxRecordsPerCycle?: number; staleAfterMs?: number } = {}) =>
    new IngestWorker({
      prisma: test.db.prisma,
      feed,
      bus: new InProcessOddsBus(),
      now: () => clock,
      logger: silentLogger(),
      ...options,
    });

  it('writes at most maxRecordsPerCycle records, and commits the answer\'s cursor with its last part', async () => {
    const feed = new QueuedFeed();
    const polls: Array<string | null> = [];
    const poll = feed.poll.bind(feed);
    feed.poll = (cursor) => (polls.push(cursor), poll(cursor));
    const capped = worker(feed, { maxRecordsPerCycle: 5 });
    feed.queue = Array.from({ length: 12 }, (_, n) => record(n));
    feed.cursor = 'after-12';
    expect(await capped.runCycle()).toMatchObject({ received: 12, stored: 5 });
    expect(await readFeedCursor(test.db.prisma, 'queued')).toBeNull();
    expect(await capped.runCycle()).toMatchObject({ received: 0, stored: 5 });
    expect(await readFeedCursor(test.db.prisma, 'queued')).toBeNull();
    expect(await capped.runCycle()).toMatchObject({ received: 0, stored: 2 });
    expect(await readFeedCursor(test.db.prisma, 'queued')).toBe('after-12');
    expect(polls).toEqual([null]); // the rest of an answer waited; the feed was not asked again meanwhile
    await capped.runCycle();
    expect(polls).toEqual([null, 'after-12']);
  });

  it('is reported stale at /health when delivered records wait longer than staleAfterMs for a commit', async () => {
    const feed = new QueuedFeed();
    const stalled = worker(feed, { staleAfterMs: 30_000 });
    await test.db.withSession((s) =>
      s.exec(`CREATE FUNCTION refuse_snapshots() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql;
              CREATE TRIGGER refuse_snapshots BEFORE INSERT ON odds_snapshot FOR EACH ROW EXECUTE FUNCTION refuse_snapshots();`),
    );
    try {
      feed.queue = [record(100)];
      expect(await stalled.runCycle()).toMatchObject({ received: 1, failed: true });
      expect(stalled.health()).toMatchObject({ status: 'stopped', waitingRecords: 1 });
      stalled.start();
      clock += 30_001;
      expect(stalled.health()).toMatchObject({ status: 'stale', waitingRecords: 1, secondsWaitingForCommit: 30.001 });
      await stalled.stop();
    } finally {
      await test.db.withSession((s) => s.exec('DROP TRIGGER refuse_snapshots ON odds_snapshot'));
    }
    stalled.start();
    await expect.poll(() => stalled.health().status).toBe('running');
    await stalled.stop();
    expect(stalled.health()).toMatchObject({ waitingRecords: 0, secondsSinceLastCommit: 0 });
  });
});
