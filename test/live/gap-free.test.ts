import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeLogCursor } from '../../src/api/cursor.js';
import type { LoggedOddsChange } from '../../src/domain/change-log.js';
import { pruneChangeLog } from '../../src/db/feed-commit.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { SimulatedFeed } from '../../src/ingest/simulated-feed.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { RedisOddsBus } from '../../src/live/redis-odds-bus.js';
import { silentLogger } from '../../src/ops/log.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { logChange } from '../support/log-changes.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

const live = `subscription Live($after: String) { oddsUpdated(after: $after) { cursor event { id } snapshot { id capturedAt } } }`;
const liveBatches = `subscription Live($after: String) { oddsUpdatedBatch(after: $after) { cursor event { id } snapshot { id capturedAt } } }`;
const clean = { missed: 0, duplicates: 0, outOfOrder: 0, notInLog: 0 };

interface Received {
  cursor: string;
  /** `<event>:<bookmaker>`: current odds carry the pair's id. */
  pair: string;
}

type Update = { cursor: string; snapshot: { id: string } };

/**
 * A graphql-ws subscriber that records every update it receives, and its error if the server sends
 * one; `batched`: on `oddsUpdatedBatch`, with the size of each message it received.
 */
function subscriber(gatewayUrl: string, after: string | null, batched = false) {
  const client: Client = createClient({
    url: `${gatewayUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    // A connection that ends without a close frame (1006) fails the subscription (its error is recorded). Such
    // drops came about once in ten runs under full-suite load: the ws client ends a connection that sends it more
    // than 60 pings it has not answered yet, and the gateway sent one after every message of a replayed burst
    // (src/api/acknowledged-sends.ts now has one ping outstanding at a time).
    retryAttempts: 0,
  });
  const received: Received[] = [];
  const batchSizes: number[] = [];
  const errors: unknown[] = [];
  // A reconnecting client resumes after the last update it handled; graphql-ws still delivers what
  // arrives while its socket closes, so stop() stops handling first, as a client moving on would.
  let handling = true;
  // Closed: by the gateway (it stopped) or by stop().
  const closed = new Promise<void>((resolve) => client.on('closed', () => resolve()));
  client.subscribe<{ oddsUpdated?: Update; oddsUpdatedBatch?: Update[] }>(
    { query: batched ? liveBatches : live, variables: { after } },
    {
      next: ({ data, errors: graphqlErrors }) => {
        if (!handling) return;
        if (graphqlErrors) errors.push(...graphqlErrors);
        const updates = data?.oddsUpdatedBatch ?? (data?.oddsUpdated ? [data.oddsUpdated] : []);
        if (data?.oddsUpdatedBatch) batchSizes.push(updates.length);
        for (const update of updates) received.push({ cursor: update.cursor, pair: update.snapshot.id });
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  const stop = async () => {
    handling = false;
    await client.dispose();
  };
  return { client, received, batchSizes, errors, stop, closed, last: () => received.at(-1)?.cursor ?? after };
}

interface Place {
  position: bigint;
  index: number;
}

const after = (a: Place, b: Place) => a.position > b.position || (a.position === b.position && a.index > b.index);

/** The observer: every change the log committed after `from`, with its (event, bookmaker). */
async function committedAfter(test: TestDatabase, from: string): Promise<Array<Place & { pair: string }>> {
  const start = decodeLogCursor(from);
  const rows = await test.db.prisma.changeLog.findMany({ where: { position: { gte: start.position } }, orderBy: { position: 'asc' } });
  return rows.flatMap((row) =>
    (row.changes as unknown as LoggedOddsChange[]).flatMap((change, index) =>
      row.position > start.position || (start.index !== undefined && index > start.index)
        ? [{ position: row.position, index, pair: `${change.eventId}:${change.bookmakerId}` }]
        : [],
    ),
  );
}

/**
 * Checks what subscribers received after `from` against the log, once it stopped growing. Missed: a
 * committed change the subscriber got neither itself nor a later one of the same (event, bookmaker)
 * (a subscriber that falls behind is sent the newest state, never a stale one). Also: updates sent
 * twice, out of log order, or not in the log.
 */
async function tally(test: TestDatabase, from: string, received: () => Received[]) {
  const expected = await committedAfter(test, from);
  const places = () => received().map((r) => ({ ...(decodeLogCursor(r.cursor) as Place), pair: r.pair }));
  const missed = () => {
    const newest = new Map<string, Place>();
    for (const place of places()) newest.set(place.pair, place);
    return expected.filter((change) => {
      const seen = newest.get(change.pair);
      return !seen || after(change, seen);
    });
  };
  await expect.poll(() => missed().length, { timeout: 30_000, interval: 50 }).toBe(0);
  const got = places();
  const keys = got.map((p) => `${p.position}.${p.index}`);
  const inLog = new Set(expected.map((p) => `${p.position}.${p.index}`));
  return {
    expected: expected.length,
    missed: missed().length,
    duplicates: keys.length - new Set(keys).size,
    outOfOrder: got.filter((place, i) => i > 0 && !after(place, got[i - 1]!)).length,
    notInLog: keys.filter((key) => !inLog.has(key)).length,
    conflated: expected.length - new Set(keys).size,
  };
}

/** Waits until the log holds `count` more positions than now: prices moved while a subscriber was away. */
async function logGrows(test: TestDatabase, count: number): Promise<void> {
  const newest = async () => (await test.db.prisma.changeLog.aggregate({ _max: { position: true } }))._max.position ?? 0n;
  const from = await newest();
  await expect.poll(newest, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(from + BigInt(count));
}

async function oddsCursor(gatewayUrl: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ oddsCursor events(first: 5) { nodes { id } } }' }),
  });
  const body = (await response.json()) as { data: { oddsCursor: string } };
  return body.data.oddsCursor;
}

// Needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL; CI requires both).
describe.skipIf(!postgresUrl || !redisUrl)('gap-free live odds on PostgreSQL and Redis: every committed change reaches a resuming subscriber once', () => {
  let test: TestDatabase;
  let redis: PrivateRedis;
  let workerBus: RedisOddsBus;
  let worker: IngestWorker;
  const gateways: Array<{ gateway: Gateway; bus: RedisOddsBus }> = [];
  const clients: Client[] = [];

  const startFleetGateway = async (redisUrl = redis.url) => {
    const bus = new RedisOddsBus({ url: redisUrl, logger: silentLogger() });
    await bus.start();
    const gateway = await startGateway({ bus, db: test.db, logger: silentLogger(), config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 64 << 20 } });
    gateways.push({ gateway, bus });
    return gateway;
  };
  const closeGateway = async (gateway: Gateway) => {
    const index = gateways.findIndex((g) => g.gateway === gateway);
    const [closing] = gateways.splice(index, 1);
    await closing!.gateway.close();
    await closing!.bus.close();
  };
  const subscribe = (url: string, after: string | null, batched = false) => {
    const s = subscriber(url, after, batched);
    clients.push(s.client);
    return s;
  };

  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    redis = await startPrivateRedis();
  }, 60_000);
  afterAll(async () => {
    await redis?.kill();
    await test?.drop();
  });

  beforeAll(async () => {
    workerBus = new RedisOddsBus({ url: redis.url, logger: silentLogger() });
    await workerBus.start();
  });
  // The waits below are for the log to grow by so many positions, one per cycle: a cycle every 25 ms (not 100 ms)
  // brings them four times as fast, and 160 changes a second keep ~4 changes a position, as before.
  const startWorker = () => {
    worker = new IngestWorker({
      prisma: test.db.prisma,
      feed: new SimulatedFeed(test.db.prisma, { changesPerSecond: 160, seed: 17 }),
      bus: workerBus,
      intervalMs: 25,
      logger: silentLogger(),
    });
    worker.start();
  };
  afterEach(async () => {
    await worker?.stop();
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    for (const { gateway } of [...gateways]) await closeGateway(gateway);
  });
  afterAll(() => workerBus?.close());

  it('queries the board, subscribes after its oddsCursor, drops the connection while prices move, resumes after the last cursor: 0 missed', async () => {
    const gateway = await startFleetGateway();
    startWorker();
    const start = await oddsCursor(gateway.url);
    const first = subscribe(gateway.url, start);
    await expect.poll(() => first.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await first.stop();
    const resumeAfter = first.last()!;
    await logGrows(test, 20);
    const second = subscribe(gateway.url, resumeAfter);
    await expect.poll(() => second.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await worker.stop();

    const result = await tally(test, start, () => [...first.received, ...second.received]);
    expect(result).toMatchObject(clean);
    expect(result.expected).toBeGreaterThan(30);
    expect([...first.errors, ...second.errors]).toEqual([]);
    // Replayed from the gateway's window of recent changes, not read from the database.
    expect(gateway.recentChanges.pagesAnswered).toBeGreaterThan(0);
  }, 90_000);

  it('does the same with oddsUpdatedBatch, several updates a message, resuming after the last cursor of the last message: 0 missed', async () => {
    const gateway = await startFleetGateway();
    startWorker();
    const start = await oddsCursor(gateway.url);
    const first = subscribe(gateway.url, start, true);
    await expect.poll(() => first.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await first.stop();
    const resumeAfter = first.last()!;
    await logGrows(test, 20);
    const second = subscribe(gateway.url, resumeAfter, true);
    await expect.poll(() => second.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await worker.stop();

    const result = await tally(test, start, () => [...first.received, ...second.received]);
    expect(result).toMatchObject(clean);
    expect([...first.errors, ...second.errors]).toEqual([]);
    // What changed while it was away came back in fewer messages than updates.
    expect(second.batchSizes.length).toBeLessThan(second.received.length);
  }, 90_000);

  it('resumes on a gateway started after the one it was subscribed to stopped: 0 missed', async () => {
    const before = await startFleetGateway();
    startWorker();
    const start = await oddsCursor(before.url);
    const first = subscribe(before.url, start);
    await expect.poll(() => first.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await closeGateway(before); // SIGTERM's path: drains, closes the sockets
    await first.closed; // and the client handled all it was sent before the close
    const resumeAfter = first.last()!;
    await logGrows(test, 20);
    const after = await startFleetGateway();
    const second = subscribe(after.url, resumeAfter);
    await expect.poll(() => second.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await worker.stop();

    const result = await tally(test, start, () => [...first.received, ...second.received]);
    expect(result).toMatchObject(clean);
    expect(second.errors).toEqual([]);
    // Its place is older than what the new gateway applied: replayed from the database.
    expect(after.recentChanges.pagesAnswered).toBe(0);
  }, 90_000);

  it('keeps a subscriber whole through a Redis restart: the gateway reads what pub/sub lost from the change log', async () => {
    const gateway = await startFleetGateway();
    startWorker();
    const start = await oddsCursor(gateway.url);
    const watching = subscribe(gateway.url, start);
    await expect.poll(() => watching.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await redis.kill();
    await logGrows(test, 10); // committed while nothing could be published
    await redis.start();
    await logGrows(test, 10);
    await worker.stop();

    const result = await tally(test, start, () => watching.received);
    expect(result).toMatchObject(clean);
    expect(watching.errors).toEqual([]);
  }, 90_000);

  it('keeps a subscriber whole when only the gateway lost its Redis connection while the worker went on publishing', async () => {
    // The gateway reaches Redis through a proxy the test cuts: every message published meanwhile is lost to it.
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(redis.url).port) });
    await proxy.start();
    try {
      const gateway = await startFleetGateway(`redis://127.0.0.1:${proxy.port}`);
      startWorker();
      const start = await oddsCursor(gateway.url);
      const watching = subscribe(gateway.url, start);
      await expect.poll(() => watching.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
      await proxy.stop();
      await logGrows(test, 10);
      await proxy.start();
      await logGrows(test, 5);
      await worker.stop();

      const result = await tally(test, start, () => watching.received);
      expect(result).toMatchObject(clean);
      expect(watching.errors).toEqual([]);
      // Read from the log, not brought by the bus: what /metrics reports as oddsgate_change_log_filled_total.
      expect(gateway.follower.stats()).toMatchObject({ filled: expect.any(Number), lost: 0 });
      expect(gateway.follower.stats().filled).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  }, 90_000);
});

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it).
describe.skipIf(!postgresUrl)('resuming from a cursor the change log no longer holds', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: 'postgres', cache: true, shape: 'seeded-small' });
  });
  afterAll(() => gw?.close());

  const firstMessage = (after: string) =>
    new Promise<{ errors?: Array<{ message: string; extensions: { code: string } }> }>((resolve, reject) => {
      const client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      client.subscribe({ query: live, variables: { after } }, {
        next: (message) => {
          resolve(message as never);
          void client.dispose();
        },
        error: reject,
        complete: () => {},
      });
    });

  it('answers CURSOR_EXPIRED for a place older than the replay window, and BAD_USER_INPUT for one it never gave', async () => {
    const worker = gw.simulatedWorker({ changesPerSecond: 40, seed: 5 });
    const old = await oddsCursor(gw.gateway.url);
    for (let i = 0; i < 3; i++) await worker.runCycle();
    expect(await pruneChangeLog(gw.test.db.prisma, new Date(Date.now() + 60_000))).toBeGreaterThan(0);

    const expired = await firstMessage(old);
    expect(expired.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'CURSOR_EXPIRED' }) })]);
    expect(expired.errors![0]!.message).toMatch(/query again, then subscribe after the new oddsCursor/);

    const made = await firstMessage(Buffer.from('log:12x').toString('base64url'));
    expect(made.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argumentName: 'after' }) })]);
  });

  it('ends a live subscription with CURSOR_EXPIRED when its gateway missed changes the log no longer holds', async () => {
    const client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const failed = new Promise<unknown>((resolve) => {
      client.subscribe({ query: live }, { next: () => {}, error: resolve, complete: () => resolve('completed without an error') });
    });
    try {
      await expect.poll(() => gw.pubsub.stats().subscribers).toBe(1);
      // The gateway was away while positions it never applied were committed and then pruned.
      const applied = gw.gateway.follower.position;
      await gw.test.db.prisma.$executeRawUnsafe(`DELETE FROM change_log WHERE position <= ${applied + 50n}`);
      await gw.test.db.prisma.$executeRawUnsafe(`INSERT INTO change_log (position, feed) VALUES (${applied + 100n}, 'elsewhere')`);
      await gw.test.db.prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('change_log', 'position'), ${applied + 101n})`);
      await gw.bus.publish(logChange(applied + 101n, []));
      expect(await failed).toEqual([expect.objectContaining({ message: expect.stringMatching(/query again/), extensions: expect.objectContaining({ code: 'CURSOR_EXPIRED' }) })]);
      expect(gw.gateway.follower.stats().lost).toBe(1);
      expect(gw.pubsub.stats().subscribers).toBe(0);
    } finally {
      await client.dispose();
    }
  });
});
