import { messagesTo } from '../support/gateway.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { QueuedFeed } from '../support/queued-feed.js';

describe('rejected records', () => {
  let test: TestDatabase;
  let event: string;
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded-small');
    event = (await test.db.prisma.event.findFirstOrThrow()).externalId;
  });
  afterAll(() => test.drop());

  it('are each logged with reason and record key, at most maxLines per interval then a count, and counted by reason', async () => {
    let clock = Date.now();
    const lines: string[] = [];
    const feed = new QueuedFeed();
    const worker = new IngestWorker({
      prisma: test.db.prisma,
      feed,
      bus: new InProcessOddsBus(),
      now: () => clock,
      logger: messagesTo((line) => lines.push(line)),
      recordLog: { maxLines: 5, intervalMs: 10_000 },
      historyRetentionDays: 30,
    });
    const record = (n: number, fields: Record<string, unknown> = {}) => ({
      event,
      bookmaker: 'northbet',
      capturedAt: new Date(clock - n * 1000).toISOString(),
      markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price: 1.8 }, { key: 'no', name: 'No', price: 2 }] }],
      ...fields,
    });
    const future = new Date(clock + 3_600_000).toISOString();
    const expired = new Date(clock - 32 * 86_400_000).toISOString();
    feed.queue = [
      record(1, { capturedAt: future }),
      record(1, { capturedAt: expired }),
      record(2, { event: 'no-such-event' }),
      ...Array.from({ length: 100_000 }, (_, n) => record(n + 3, { markets: [] })),
    ];
    const result = await worker.runCycle();
    expect(result.rejected).toEqual({
      'capturedAt: more than 300 s in the future': 1,
      'capturedAt: older than the 30 days of history kept (HISTORY_RETENTION_DAYS)': 1,
      'markets: a snapshot needs at least one market': 100_000,
      'unknown event "no-such-event"': 1,
    });
    expect(worker.rejectedByReason).toEqual({ capturedAt: 2, markets: 100_000, unknown_event: 1 });
    expect(worker.health()).toMatchObject({ rejected: 100_003, rejectedByReason: { capturedAt: 2 } });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(`ingest: rejected ${event}|northbet|${future}: capturedAt: more than 300 s in the future`);
    expect(lines[1]).toBe(`ingest: rejected ${event}|northbet|${expired}: capturedAt: older than the 30 days of history kept (HISTORY_RETENTION_DAYS)`);
    expect(lines[2]).toMatch(/^ingest: rejected \S+\|northbet\|\S+: markets: a snapshot needs at least one market$/);

    clock += 10_000;
    await worker.runCycle();
    // The unknown event is found only at the commit, after the flood used the interval's lines.
    expect(lines.slice(5)).toEqual(['suppressed 99998 lines in the last 10 s']);
  });
});
