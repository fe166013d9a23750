import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFormat } from '../../src/domain/records.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { silentLogger } from '../../src/ops/log.js';
import { RedisTier } from '../../src/read/redis-tier.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startProcess } from '../support/processes.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

interface Reference {
  bookmakers: Array<{ key: string }>;
  sports: Array<{ key: string }>;
  competitions: Array<{ key: string }>;
  events: { totalCount: number };
}
const referenceQuery = '{ bookmakers { key } sports { key } competitions { key } events(first: 1) { totalCount } }';

async function reference(gateway: Gateway): Promise<Reference> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: referenceQuery }),
  });
  return ((await response.json()) as { data: Reference }).data;
}

/**
 * The case: a fleet's gateway starts on an empty database (the
 * README's fleet steps once had no seed), caches the empty lists in Redis,
 * then `npm run db:seed` runs. Needs PostgreSQL and Redis (the seed command
 * runs as its own process against both; CI requires them).
 */
describe.runIf(postgresUrl && redisUrl)('a reseed with a fleet running on Redis', () => {
  let test: TestDatabase;
  let redis: Redis;
  const prefix = `oddsgate-test-${randomBytes(4).toString('hex')}:`;
  const tiers: RedisTier[] = [];
  const gateways: Gateway[] = [];

  async function gatewayWithTier(): Promise<Gateway> {
    const tier = new RedisTier({ url: redisUrl!, prefix, logger: silentLogger() });
    await tier.start();
    tiers.push(tier);
    const gateway = await startGateway({
      config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 64 << 20 },
      db: test.db,
      bus: new InProcessOddsBus(),
      sharedTier: tier,
      logger: silentLogger(),
    });
    gateways.push(gateway);
    return gateway;
  }

  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'migrated');
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    for (const tier of tiers) await tier.close();
    const keys = await redis?.keys(`${prefix}*`);
    if (keys?.length) await redis.unlink(...keys);
    redis?.disconnect();
    await test?.drop();
  });

  it('keeps empty reference lists minutes, not days', async () => {
    const early = await gatewayWithTier();
    expect(await reference(early)).toEqual({ bookmakers: [], sports: [], competitions: [], events: { totalCount: 0 } });
    const key = `${prefix}cache:v${recordFormat}:List:bookmakers`;
    await expect.poll(() => redis.pttl(key)).toBeGreaterThan(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5 * 60_000);
  });

  it('serves the new lists and board at once after `npm run db:seed`, on a running gateway and on one started after', async () => {
    const [running] = gateways as [Gateway];
    const seed = startProcess('src/cli/seed.ts', { DATABASE_URL: test.url!, REDIS_URL: redisUrl!, REDIS_PREFIX: prefix }, ['--events', '40', '--bookmakers', '3']);
    await seed.waitFor(/dropped the fleet's cache/, 120_000);
    expect(seed.child.exitCode ?? (await once(seed.child, 'exit'))[0]).toBe(0);

    const seeded = { bookmakers: expect.arrayContaining([{ key: 'northbet' }]), sports: expect.arrayContaining([{ key: 'football' }]) };
    // The invalidation message reaches the running gateway, which reads its board again.
    await expect.poll(() => reference(running)).toMatchObject(seeded);
    await expect.poll(async () => (await reference(running)).events.totalCount).toBeGreaterThan(0);
    expect((await reference(running)).bookmakers).toHaveLength(3);

    const started = await gatewayWithTier();
    const fresh = await reference(started);
    expect(fresh).toMatchObject(seeded);
    expect(fresh.competitions.length).toBeGreaterThan(0);
    expect(fresh.events.totalCount).toBe((await reference(running)).events.totalCount);
  });
});
