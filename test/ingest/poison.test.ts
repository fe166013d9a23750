import { messagesTo } from '../support/gateway.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFeedCursor } from '../../src/db/feed-commit.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { Metrics } from '../../src/ops/metrics.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { QueuedFeed } from '../support/queued-feed.js';

describe.each(databaseKinds)('a record the database refuses, on %s', (kind) => {
  let test: TestDatabase;
  let feed: QueuedFeed;
  let worker: IngestWorker;
  let metrics: Metrics;
  let events: string[];
  let bookmakers: string[];
  const logged: string[] = [];
  const start = Date.now() - 3_600_000;

  beforeEach(async () => {
    test = await createTestDatabase(kind, 'seeded-small');
    await test.db.withSession((s) => s.exec('DELETE FROM latest_odds; DELETE FROM odds_snapshot;'));
    // A rule the database enforces and the feed schema does not know (prices there go up to 99,999.999).
    await test.db.withSession((s) =>
      s.exec(`ALTER TABLE odds_snapshot ADD CONSTRAINT odds_snapshot_price_sane CHECK ((prices->>0)::numeric < 1000)`),
    );
    events = (await test.db.prisma.event.findMany({ select: { externalId: true } })).map((e) => e.externalId);
    bookmakers = (await test.db.prisma.bookmaker.findMany({ select: { key: true } })).map((b) => b.key);
    feed = new QueuedFeed();
    metrics = new Metrics({ defaultMetrics: false });
    logged.length = 0;
    const bus = new InProcessOddsBus();
    worker = new IngestWorker({ prisma: test.db.prisma, feed, bus, metrics, logger: messagesTo((m) => logged.push(m)) });
  });
  afterEach(() => test.drop());

  const record = (n: number, price = 1.5 + (n % 50) / 100) => ({
    event: events[n % events.length],
    bookmaker: bookmakers[n % bookmakers.length],
    capturedAt: new Date(start + n * 1000).toISOString(),
    markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price }, { key: 'no', name: 'No', price: 2.4 }] }],
  });

  it('is quarantined with its reason while the 1,000 good records of its batch are committed in the same cycle', async () => {
    const poison = record(617, 5_000);
    feed.queue = [...Array.from({ length: 1_000 }, (_, i) => record(i < 617 ? i : i + 1)), poison];
    feed.queue.splice(617, 0, feed.queue.pop()!); // in the middle of the batch
    feed.cursor = 'after-1001';
    const result = await worker.runCycle();
    expect(result).toMatchObject({ received: 1_001, stored: 1_000, quarantined: 1, failed: false });
    expect(await test.db.prisma.oddsSnapshot.count()).toBe(1_000);
    expect(await readFeedCursor(test.db.prisma, 'queued')).toBe('after-1001');

    const letters = await test.db.prisma.quarantinedRecord.findMany();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ feed: 'queued', recordKey: `${poison.event}|${poison.bookmaker}|${poison.capturedAt}`, raw: poison });
    expect(letters[0]!.reason).toMatch(/^SQLSTATE 23514: .*odds_snapshot_price_sane/);
    expect(logged.some((line) => line.includes('quarantined') && line.includes(poison.event!))).toBe(true);
    const scraped = parsePrometheusText((await metrics.scrape()).body);
    expect(worker.health()).toMatchObject({ quarantined: 1 });
    expect(sampleValue(scraped, 'oddsgate_ingest_quarantined_total', 'oddsgate_ingest_quarantined_total')).toBe(1);

    // The next cycle goes on as if nothing happened.
    feed.queue = [record(2_000)];
    expect(await worker.runCycle()).toMatchObject({ stored: 1, quarantined: 0, failed: false });
  });

  it('are all found when several share a batch, and a batch of nothing else commits just its cursor', async () => {
    feed.queue = [record(1, 2_000), record(2), record(3, 3_000), record(4)];
    expect(await worker.runCycle()).toMatchObject({ stored: 2, quarantined: 2 });
    feed.queue = [record(5, 4_000)];
    feed.cursor = 'only-poison';
    expect(await worker.runCycle()).toMatchObject({ stored: 0, quarantined: 1, failed: false });
    expect(await readFeedCursor(test.db.prisma, 'queued')).toBe('only-poison');
    expect(await test.db.prisma.quarantinedRecord.count()).toBe(3);
  });
});
