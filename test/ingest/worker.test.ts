import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/ops/log.js';
import { BoardIndex } from '../../src/read/board-index.js';
import { warmUp } from '../../src/read/warm-up.js';
import { LruOddsCache } from '../../src/read/odds-cache.js';
import { cacheKey } from '../../src/domain/cache-keys.js';
import type { EventOddsRecord } from '../../src/domain/records.js';
import { OddsReader } from '../../src/db/odds-reader.js';
import { createSharedReads } from '../../src/read/shared-reads.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { QueuedFeed } from '../support/queued-feed.js';
import { LiveOdds } from '../../src/live/live-odds.js';
import { LogFollower } from '../../src/live/log-follower.js';
import { InProcessOddsBus, type OddsChange } from '../../src/live/odds-bus.js';
import { InProcessPubSub, type OddsUpdateMessage } from '../../src/live/pubsub.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';

const record = (event: string, bookmaker: string, capturedAt: string, homePrice: unknown = 2.1) => ({
  event,
  bookmaker,
  capturedAt,
  markets: [
    {
      key: '1x2',
      name: 'Match result',
      outcomes: [
        { key: 'home', name: 'Home', price: homePrice },
        { key: 'draw', name: 'Draw', price: 3.3 },
        { key: 'away', name: 'Away', price: 3.6 },
      ],
    },
  ],
});

function withoutHomePrice<T extends ReturnType<typeof record>>(raw: T): T {
  delete (raw.markets[0]!.outcomes[0] as { price?: unknown }).price;
  return raw;
}

describe('the ingest worker', () => {
  let test: TestDatabase;
  let feed: QueuedFeed;
  let cache: LruOddsCache;
  let board: BoardIndex;
  let pubsub: InProcessPubSub;
  let bus: InProcessOddsBus;
  let liveOdds: LiveOdds;
  let worker: IngestWorker;
  let published: OddsUpdateMessage[];
  let clock: number;
  const now = new Date();

  beforeEach(async () => {
    test = await createTestDatabase(anyKind, 'seeded');
    const reader = new OddsReader(test.db.prisma);
    feed = new QueuedFeed();
    cache = new LruOddsCache({ maxBytes: 64 << 20 });
    clock = now.getTime();
    board = new BoardIndex(() => clock);
    await warmUp(createSharedReads(cache, reader), reader, cache, board);
    pubsub = new InProcessPubSub();
    published = [];
    const subscription = pubsub.subscribe({ maxQueue: 10_000 });
    void (async () => {
      for await (const update of subscription) published.push(update);
    })();
    bus = new InProcessOddsBus();
    liveOdds = new LiveOdds({ cache, board, pubsub, now: () => clock });
    bus.onChange((change) => liveOdds.apply(change, change.publishedAt));
    worker = new IngestWorker({ prisma: test.db.prisma, feed, bus, now: () => clock, logger: silentLogger() });
  });
  afterEach(() => test.drop());

  const upcoming = async () =>
    test.db.prisma.event.findFirstOrThrow({ where: { kickoffAt: { gt: now } }, orderBy: { kickoffAt: 'asc' } });
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  const homePriceInCache = (eventId: number, bookmakerId: number) =>
    cache
      .get<EventOddsRecord>(cacheKey('EventOdds', eventId))!
      .snapshots.find((s) => s.bookmakerId === bookmakerId)!
      .markets.find((m) => m.key === '1x2')!
      .outcomes.find((o) => o.key === 'home')!.price;

  it('rejects a bad record with its reason while the rest of the batch lands', async () => {
    const event = await upcoming();
    feed.queue = [
      record(event.externalId, 'sharpline', at(1), 2.2),
      withoutHomePrice(record(event.externalId, 'northbet', at(1))),
      record(event.externalId, 'northbet', at(2), 0.9), // price <= 1
      { ...record(event.externalId, 'betharbor', at(1)), markets: [{ ...record('', '', '').markets[0], key: 'corners' }] },
      record('no-such-event', 'sharpline', at(1)),
      record(event.externalId, 'betharbor', at(3), 2.4),
    ];
    const result = await worker.runCycle();
    expect(result).toMatchObject({ received: 6, stored: 2, published: 2, failed: false });
    expect(result.rejected).toEqual({
      'markets.0.outcomes.0.price: price is missing or not a number': 1,
      'markets.0.outcomes.0.price: price must be above 1': 1,
      'markets.0.key: unknown market "corners"': 1,
      'unknown event "no-such-event"': 1,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(published.map((p) => p.bookmakerId).sort()).toEqual([1, 3]);
    expect(homePriceInCache(event.id, 1)).toBe(2.2);
    expect(homePriceInCache(event.id, 3)).toBe(2.4);
  });

  it('leaves cache and subscribers untouched when a batch fails mid-transaction, and stores it once on retry', async () => {
    const event = await upcoming();
    const before = homePriceInCache(event.id, 1);
    const snapshotsBefore = await test.db.prisma.oddsSnapshot.count();
    // A real failure inside the transaction, after the history row is written: the latest odds cannot be while the switch is on.
    await test.db.withSession((s) =>
      s.exec(`
        CREATE TABLE fail_switch (on_ boolean);
        INSERT INTO fail_switch VALUES (true);
        CREATE FUNCTION fail_latest() RETURNS trigger AS $$
        BEGIN IF EXISTS (SELECT 1 FROM fail_switch) THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER fail_latest BEFORE INSERT OR UPDATE ON latest_odds FOR EACH ROW EXECUTE FUNCTION fail_latest();`),
    );
    feed.queue = [record(event.externalId, 'sharpline', at(5), 1.5)];
    const failed = await worker.runCycle();
    expect(failed).toMatchObject({ failed: true, stored: 0, published: 0 });
    expect(await test.db.prisma.oddsSnapshot.count()).toBe(snapshotsBefore);
    expect(homePriceInCache(event.id, 1)).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published).toEqual([]);

    await test.db.withSession((s) => s.exec('DELETE FROM fail_switch'));
    feed.queue = [record(event.externalId, 'sharpline', at(5), 1.5)]; // the feed would send it again too
    const retried = await worker.runCycle();
    expect(retried).toMatchObject({ received: 0, failed: false, stored: 1, duplicates: 0, published: 1 });
    // Only now, with the first answer committed, is the feed asked again.
    expect(await worker.runCycle()).toMatchObject({ received: 1, stored: 0, duplicates: 1, published: 0 });
    expect(await test.db.prisma.oddsSnapshot.count()).toBe(snapshotsBefore + 1);
    expect(homePriceInCache(event.id, 1)).toBe(1.5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published).toHaveLength(1);
  });

  it('marks an event on the board as having odds when its first snapshot arrives', async () => {
    const event = await upcoming();
    await test.db.prisma.latestOdds.deleteMany({ where: { eventId: event.id } });
    const reader = new OddsReader(test.db.prisma);
    await warmUp(createSharedReads(cache, reader), reader, cache, board);
    expect(board.page({ first: 200, hasOdds: false }).events.map((e) => e.id)).toContain(event.id);
    feed.queue = [record(event.externalId, 'sharpline', at(1), 2.2)];
    await worker.runCycle();
    expect(board.page({ first: 200, hasOdds: true }).events.map((e) => e.id)).toContain(event.id);
    expect(board.page({ first: 200, hasOdds: false }).events.map((e) => e.id)).not.toContain(event.id);
  });

  it('creates an event the feed announces with a fixture, and puts it on the board with its odds', async () => {
    const kickoffAt = new Date(now.getTime() + 5 * 3_600_000).toISOString();
    const fixture = { competition: 'eng-premier', home: 'Northport United', away: 'Eastvale United', kickoffAt };
    feed.queue = [
      { ...record('new-1', 'sharpline', at(1), 2.5), fixture },
      { ...record('new-1', 'northbet', at(1), 2.6), fixture },
      { ...record('new-2', 'sharpline', at(1)), fixture: { ...fixture, competition: 'moon-league' } },
    ];
    const result = await worker.runCycle();
    expect(result).toMatchObject({ createdEvents: 1, stored: 2, published: 2 });
    expect(result.rejected).toEqual({ 'fixture.competition: unknown competition "moon-league"': 1 });
    const created = await test.db.prisma.event.findUniqueOrThrow({ where: { externalId: 'new-1' } });
    expect(created).toMatchObject({ home: 'Northport United', away: 'Eastvale United', kickoffAt: new Date(kickoffAt) });
    expect(board.page({ first: 200, hasOdds: true }).events.map((e) => e.id)).toContain(created.id);
    // Its odds are read on the board's next request: a gateway caches odds it read, and moves them with each change.
    expect(cache.get(cacheKey('EventOdds', created.id))).toBeUndefined();

    feed.queue = [{ ...record('new-1', 'sharpline', at(2), 2.4), fixture }]; // announced again: not created twice
    expect(await worker.runCycle()).toMatchObject({ createdEvents: 0, stored: 1 });
    expect(await test.db.prisma.event.count({ where: { externalId: 'new-1' } })).toBe(1);
  });

  it('publishes a committed change the bus refused on the next cycle, once', async () => {
    const event = await upcoming();
    let refuse = true;
    const flaky = new InProcessOddsBus();
    flaky.onChange((change) => liveOdds.apply(change, change.publishedAt));
    const publish = flaky.publish.bind(flaky);
    flaky.publish = (change: OddsChange) => (refuse ? Promise.reject(new Error('Redis went away')) : publish(change));
    worker = new IngestWorker({ prisma: test.db.prisma, feed, bus: flaky, now: () => clock, logger: silentLogger() });

    feed.queue = [record(event.externalId, 'sharpline', at(7), 1.7)];
    expect(await worker.runCycle()).toMatchObject({ stored: 1, published: 0, failed: false });
    refuse = false;
    expect(await worker.runCycle()).toMatchObject({ received: 0, stored: 0, published: 1 });
    expect(homePriceInCache(event.id, 1)).toBe(1.7);
    expect(await worker.runCycle()).toMatchObject({ published: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(published.map((p) => p.snapshot.capturedAt)).toEqual([at(7)]);
  });

  it('applies each log position once and in order, whatever order the bus brings them in, filling gaps from the log', async () => {
    const event = await upcoming();
    const changes: OddsChange[] = [];
    const recording = new InProcessOddsBus();
    recording.onChange((change) => changes.push(change));
    worker = new IngestWorker({ prisma: test.db.prisma, feed, bus: recording, logger: silentLogger() });
    const reader = new OddsReader(test.db.prisma);
    const follower = new LogFollower({
      reader,
      startAfter: (await reader.logBounds()).newest ?? 0n,
      apply: (batch, publishedAt) => liveOdds.apply(batch, publishedAt),
      onLost: () => expect.unreachable('the log holds everything'),
      logger: silentLogger(),
    });
    feed.queue = [record(event.externalId, 'sharpline', at(10), 1.8)];
    await worker.runCycle();
    feed.queue = [record(event.externalId, 'sharpline', at(11), 1.9)];
    await worker.runCycle();
    const [older, newer] = changes;
    follower.receive(newer!); // the older position is missing: read from the log first
    await expect.poll(() => follower.position).toBe(BigInt(newer!.entries[0]!.position));
    follower.receive(older!); // already applied: skipped
    expect(homePriceInCache(event.id, 1)).toBe(1.9);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published.map((p) => p.snapshot.capturedAt)).toEqual([at(10), at(11)]);
    expect(published.map((p) => p.place.position)).toEqual([BigInt(older!.entries[0]!.position), BigInt(newer!.entries[0]!.position)]);
  });

  it('takes events more than two hours past kick-off off the board and out of the cache', async () => {
    const first = (await test.db.prisma.event.findMany({ where: { kickoffAt: { gte: new Date(clock - 2 * 3_600_000) } }, orderBy: [{ kickoffAt: 'asc' }, { id: 'asc' }] }))[0]!;
    expect(board.has(first.id)).toBe(true);
    clock = first.kickoffAt.getTime() + 2 * 3_600_000 + 1;
    expect(liveOdds.evictPastEvents()).toBeGreaterThanOrEqual(1);
    expect(board.has(first.id)).toBe(false);
    expect(board.page({ first: 200 }).events.map((e) => e.id)).not.toContain(first.id);
    expect(cache.get(cacheKey('EventOdds', first.id))).toBeUndefined();
  });
});

describe('a slow subscriber', () => {
  const place = { position: 1n, index: 0 };
  it('gets the newest snapshot of each (event, bookmaker) it fell behind on, and counts what it skipped', async () => {
    const pubsub = new InProcessPubSub({ offersPerTurn: 100_000 }); // every offer in this turn
    const slow = pubsub.subscribe({ maxQueue: 50 });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    for (let i = 0; i < 100_000; i++) {
      pubsub.publish({ eventId: 1 + (i % 3), bookmakerId: 1, snapshot: { ...snapshot, id: i }, changedMarkets: [], publishedAt: 0, place: { position: BigInt(i), index: 0 } });
    }
    expect(slow.conflated).toBe(100_000 - 3);
    expect(slow.dropped).toBe(0);
    const read = [await slow.next(), await slow.next(), await slow.next()].map((r) => [r.value!.eventId, r.value!.snapshot.id]);
    // Each with its newest snapshot, in log order: resuming after the last one read skips nothing.
    expect(read).toEqual([
      [2, 99_997],
      [3, 99_998],
      [1, 99_999],
    ]);
    expect(pubsub.stats()).toEqual({ subscribers: 1, dropped: 0, conflated: 100_000 - 3, delivered: 3 });
    await slow.return();
    expect(pubsub.stats().subscribers).toBe(0);
  });

  it('puts a burst in many subscribers\' queues over several turns of the event loop, in publish order, each update to those subscribed when it was published', async () => {
    const pubsub = new InProcessPubSub({ offersPerTurn: 1_000 });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    // A probe that keeps one update and drops the others counts the offers it got.
    const probe = pubsub.subscribe({ maxQueue: 1 });
    const subscribers = Array.from({ length: 99 }, () => pubsub.subscribe());
    for (let eventId = 1; eventId <= 100; eventId++) pubsub.publish({ eventId, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    const late = pubsub.subscribe();
    // 100 x 100 offers: the first 1,000 (10 updates to each) in this turn, the rest over the next turns.
    expect(probe.dropped).toBe(9);
    await new Promise((resolve) => setImmediate(resolve));
    expect(probe.dropped).toBe(19);
    const received = await Promise.all(
      subscribers.map(async (subscription) => {
        const ids: number[] = [];
        while (ids.length < 100) ids.push((await subscription.next()).value!.eventId);
        return ids;
      }),
    );
    expect(received.every((ids) => ids.every((id, i) => id === i + 1))).toBe(true);
    expect(pubsub.stats().conflated).toBe(0);
    expect(probe.dropped).toBe(99);
    await late.return();
    expect(pubsub.stats().delivered).toBe(99 * 100);
    await Promise.all([probe, ...subscribers].map((s) => s.return()));
  });

  it('hands out a burst over several turns of the event loop, so I/O and timers run in between, and loses nothing', async () => {
    const pubsub = new InProcessPubSub({ deliveriesPerTurn: 100 });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    const received = Array.from({ length: 10 }, () => [] as number[]);
    const readers = received.map(async (into) => {
      const subscription = pubsub.subscribe();
      for await (const update of subscription) {
        into.push(update.eventId);
        if (into.length === 1_000) await subscription.return();
      }
    });
    let deliveredWhenTheLoopTurned: number | undefined;
    setImmediate(() => (deliveredWhenTheLoopTurned = pubsub.stats().delivered));
    for (let eventId = 1; eventId <= 1_000; eventId++) pubsub.publish({ eventId, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    await Promise.all(readers);
    // 10 x 1,000 updates: the loop turned after about the first turn's share, not after all of them.
    expect(deliveredWhenTheLoopTurned).toBeLessThan(1_000);
    expect(received.every((ids) => ids.length === 1_000 && ids.every((id, i) => id === i + 1))).toBe(true);
  });

  it('hands a change to waiting subscribers over several turns of the event loop, past the share of one, and loses nothing', async () => {
    const pubsub = new InProcessPubSub({ deliveriesPerTurn: 100 });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    const subscribers = Array.from({ length: 250 }, () => pubsub.subscribe());
    const first = subscribers.map((subscription) => subscription.next());
    let deliveredWhenTheLoopTurned: number | undefined;
    setImmediate(() => (deliveredWhenTheLoopTurned = pubsub.stats().delivered));
    pubsub.publish({ eventId: 7, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    pubsub.publish({ eventId: 8, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    // Every reader was waiting: the first 100 got theirs in this turn, the rest take theirs from their queues in the next ones.
    expect(pubsub.stats().delivered).toBe(100);
    expect((await Promise.all(first)).map((r) => r.value!.eventId)).toEqual(subscribers.map(() => 7));
    expect(deliveredWhenTheLoopTurned).toBe(100);
    expect((await Promise.all(subscribers.map((subscription) => subscription.next()))).map((r) => r.value!.eventId)).toEqual(subscribers.map(() => 8));
    expect(pubsub.stats()).toMatchObject({ delivered: 500, conflated: 0, dropped: 0 });
    await Promise.all(subscribers.map((s) => s.return()));
  });

  it('drops the oldest waiting pair when more pairs wait than its queue holds', async () => {
    const pubsub = new InProcessPubSub();
    const slow = pubsub.subscribe({ maxQueue: 50 });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    for (let eventId = 1; eventId <= 80; eventId++) pubsub.publish({ eventId, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    expect(slow.dropped).toBe(30);
    expect((await slow.next()).value!.eventId).toBe(31);
    await slow.return();
  });

  it('gets only the events and bookmakers it asked for', async () => {
    const pubsub = new InProcessPubSub();
    const picky = pubsub.subscribe({ eventIds: new Set([2]), bookmakerIds: new Set([5]) });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    pubsub.publish({ eventId: 1, bookmakerId: 5, snapshot, changedMarkets: [], publishedAt: 0, place });
    pubsub.publish({ eventId: 2, bookmakerId: 4, snapshot, changedMarkets: [], publishedAt: 0, place });
    pubsub.publish({ eventId: 2, bookmakerId: 5, snapshot, changedMarkets: [], publishedAt: 0, place });
    const { value } = await picky.next();
    expect([value!.eventId, value!.bookmakerId]).toEqual([2, 5]);
    await picky.return();
  });

  it('gets only changes that moved a market it asked for', async () => {
    const pubsub = new InProcessPubSub();
    const btts = pubsub.subscribe({ marketKeys: new Set(['btts']) });
    const snapshot = { id: 1, nodeId: '1:1', eventId: 1, bookmakerId: 1, capturedAt: '', markets: [] };
    pubsub.publish({ eventId: 1, bookmakerId: 1, snapshot, changedMarkets: ['1x2', 'over_under'], publishedAt: 0, place });
    pubsub.publish({ eventId: 2, bookmakerId: 1, snapshot, changedMarkets: [], publishedAt: 0, place });
    pubsub.publish({ eventId: 3, bookmakerId: 1, snapshot, changedMarkets: ['1x2', 'btts'], publishedAt: 0, place });
    pubsub.publish({ eventId: 4, bookmakerId: 1, snapshot, changedMarkets: ['btts'], publishedAt: 0, place });
    const read = [await btts.next(), await btts.next()].map((r) => r.value!.eventId);
    expect(read).toEqual([3, 4]);
    expect(pubsub.stats()).toMatchObject({ delivered: 2, dropped: 0, conflated: 0 });
    await btts.return();
  });
});
