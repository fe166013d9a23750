import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisTier } from '../../src/read/redis-tier.js';
import { silentLogger } from '../../src/ops/log.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;
const waitUpTo = { timeout: 5_000, interval: 20 };
const adminToken = 'test-admin-token-0123456789';
const eventQuery = `query ($id: ID!) { event(id: $id) { id home } }`;

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const home = async (gateway: Gateway, id: number) =>
  ((await post(gateway.url, '/graphql', { query: eventQuery, variables: { id } })).body.data as { event: { home: string } }).event.home;

// Needs Redis (TEST_REDIS_URL; CI requires it). One database, shared by two gateways in this process.
describe.skipIf(!redisUrl)('the Redis cache tier behind two gateways', () => {
  let test: TestDatabase;
  const gateways: Gateway[] = [];
  const tiers: RedisTier[] = [];
  let pastEventId: number;

  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded');
    // An event long past: not on the board, so not warmed; reads of it go through the tiers.
    pastEventId = (await test.db.prisma.event.findFirstOrThrow({ orderBy: { kickoffAt: 'asc' } })).id;
    const prefix = `oddsgate-test-${randomBytes(4).toString('hex')}:`;
    for (let i = 0; i < 2; i++) {
      const tier = new RedisTier({ url: redisUrl!, prefix, logger: silentLogger() });
      await tier.start();
      tiers.push(tier);
      gateways.push(
        await startGateway({
          config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 64 << 20, adminToken },
          db: test.db,
          bus: new InProcessOddsBus(),
          sharedTier: tier,
          logger: silentLogger(),
        }),
      );
    }
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    for (const tier of tiers) await tier.close();
    await test?.drop();
  });

  it('shares what one gateway loaded with the other, and an invalidation on one drops it on both', async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const original = await home(a, pastEventId); // A loads it from the database and shares it
    await vi.waitUntil(async () => (await tiers[0]!.getMany([`Event:${pastEventId}`]))[0] !== undefined, waitUpTo); // the shared write is not awaited by the read
    await test.db.prisma.event.update({ where: { id: pastEventId }, data: { home: 'Renamed FC' } });
    expect(await home(b, pastEventId)).toBe(original); // B never read the database: it got A's entry from Redis
    expect(await home(a, pastEventId)).toBe(original);

    expect((await post(a.url, '/admin/invalidate', { event: pastEventId })).status).toBe(401);
    const invalidated = await post(a.url, '/admin/invalidate', { event: pastEventId }, { authorization: `Bearer ${adminToken}` });
    expect(invalidated.status).toBe(200);
    expect(invalidated.body).toMatchObject({ fleet: true, keys: 2 });
    await vi.waitUntil(() => b.cache.peek(`Event:${pastEventId}`) === undefined, waitUpTo); // the invalidation message reaches B
    expect(await home(b, pastEventId)).toBe('Renamed FC');
    expect(await home(a, pastEventId)).toBe('Renamed FC');
  });

  it('refuses admin requests without a target it knows', async () => {
    const bad = await post(gateways[0]!.url, '/admin/invalidate', { everything: true }, { authorization: `Bearer ${adminToken}` });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Name one target/);
  });
});

// Needs redis-server on the PATH (it starts and kills one of its own); runs where TEST_REDIS_URL says Redis is installed.
describe.skipIf(!redisUrl)('a gateway whose Redis stops', () => {
  let redis: PrivateRedis;
  let test: TestDatabase;
  let gateway: Gateway;
  let tier: RedisTier;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    test = await createTestDatabase(anyKind, 'seeded');
    tier = new RedisTier({ url: redis.url, logger: silentLogger() });
    await tier.start();
    gateway = await startGateway({
      config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 64 << 20 },
      db: test.db,
      bus: new InProcessOddsBus(),
      sharedTier: tier,
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await tier?.close();
    await redis?.kill();
    await test?.drop();
  });

  const health = async () => ((await (await fetch(`${gateway.url}/health`)).json()) as { parts: { redis: { status: string } } }).parts;
  const tierFailures = async () => Number((await (await fetch(`${gateway.url}/metrics`)).text()).match(/^oddsgate_redis_tier_failures_total (\d+)/m)?.[1]);

  it('keeps answering from its own tier and the database while Redis is gone, and uses Redis again when it is back', async () => {
    // Events off the board (kicked off over two hours ago): reads of them go through the tiers.
    const events = await test.db.prisma.event.findMany({ where: { kickoffAt: { lt: new Date(Date.now() - 3 * 3_600_000) } }, take: 3 });
    expect(events).toHaveLength(3);
    expect(await home(gateway, events[0]!.id)).toBe(events[0]!.home);
    expect((await health()).redis.status).toBe('up');

    await redis.kill();
    expect(await home(gateway, events[1]!.id)).toBe(events[1]!.home); // a miss: Redis refuses, the database answers
    expect((await health()).redis.status).toBe('down');
    expect(await tierFailures()).toBeGreaterThan(0);

    await redis.start();
    await vi.waitUntil(async () => (await health()).redis.status === 'up', waitUpTo);
    expect(await home(gateway, events[2]!.id)).toBe(events[2]!.home);
  });
});
