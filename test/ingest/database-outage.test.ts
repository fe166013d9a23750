import { silentLogger } from '../../src/ops/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import type { FeedAdapter, FeedBatch } from '../../src/ingest/feed-record.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus, type OddsChange } from '../../src/live/odds-bus.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** One new price per poll for one event, captured at the moment of the poll. */
class TickingFeed implements FeedAdapter {
  readonly name = 'ticking';
  constructor(
    private readonly event: string,
    private readonly bookmaker: string,
  ) {}
  async poll(cursor: string | null): Promise<FeedBatch> {
    const record = {
      event: this.event,
      bookmaker: this.bookmaker,
      capturedAt: new Date().toISOString(),
      markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price: 1.8 }, { key: 'no', name: 'No', price: 2 }] }],
    };
    return { records: [record], cursor };
  }
}

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it): the worker reaches it through a proxy the test cuts.
describe.skipIf(!postgresUrl)('an ingest worker whose database connection is cut, on PostgreSQL', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let proxied: Database;
  let worker: IngestWorker;
  const published: Array<{ at: number; change: OddsChange }> = [];

  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    const target = new URL(test.url!);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(test.url!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    proxied = await openDatabase({ databaseUrl: viaProxy.toString(), pgliteDataDir: 'unused', databasePoolSize: 4 });
    const event = await test.db.prisma.event.findFirstOrThrow({ where: { kickoffAt: { gt: new Date() } } });
    const bookmaker = await test.db.prisma.bookmaker.findFirstOrThrow();
    const bus = new InProcessOddsBus();
    bus.onChange((change) => published.push({ at: Date.now(), change }));
    worker = new IngestWorker({
      prisma: proxied.prisma,
      feed: new TickingFeed(event.externalId, bookmaker.key),
      bus,
      intervalMs: 50,
      breakers: { failures: 3, firstProbeMs: 1_000, openMs: 30_000 },
      logger: silentLogger(),
    });
  }, 60_000);

  afterAll(async () => {
    await worker.stop();
    await proxy.start();
    await proxied.close();
    await test.drop();
  });

  it('opens its own breaker while the database is away and publishes again soon after it returns', async () => {
    worker.start();
    await expect.poll(() => published.length, { timeout: 10_000 }).toBeGreaterThan(0);

    await proxy.stop();
    const cutAt = Date.now();
    await expect.poll(() => worker.databaseBreaker.state, { timeout: 20_000 }).toBe('open');
    expect(worker.health()).toMatchObject({ breakers: { database: 'open', feed: 'closed' }, waitingRecords: 1 });
    // At least one failed trial, so the breaker is backing off when the database returns.
    await expect.poll(() => Date.now() - cutAt, { timeout: 10_000, interval: 100 }).toBeGreaterThan(4_000);
    const publishedBeforeReturn = published.length;

    await proxy.start();
    const returnedAt = Date.now();
    await expect.poll(() => published.length, { timeout: 60_000, interval: 20 }).toBeGreaterThan(publishedBeforeReturn);
    const resumedAfterMs = published[publishedBeforeReturn]!.at - returnedAt;
    expect(worker.databaseBreaker.state).toBe('closed');
    // The price captured during the outage was kept and published, not dropped.
    const capturedDuringOutage = published
      .slice(publishedBeforeReturn)
      .flatMap(({ change }) => change.entries.flatMap((entry) => entry.odds.map((o) => Date.parse(o.snapshot.capturedAt))))
      .some((capturedAt) => capturedAt >= cutAt && capturedAt < returnedAt);
    expect(capturedDuringOutage).toBe(true);
    console.log(`database outage: cut for ${returnedAt - cutAt} ms; first publish ${resumedAfterMs} ms after it returned`);
  }, 120_000);
});
