import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, cacheKinds } from '../../src/domain/cache-keys.js';
import { eventOddsRecord } from '../../src/domain/records.js';
import { silentLogger } from '../../src/ops/log.js';
import { applyInvalidation, resolveInvalidation, type Invalidation } from '../../src/read/invalidation.js';
import { LruOddsCache } from '../../src/read/odds-cache.js';
import { RedisTier } from '../../src/read/redis-tier.js';
import { redisNames } from '../../src/redis/names.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { messagesTo, type LogLine } from '../support/gateway.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

describe('what an operator’s invalidation covers', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded-small');
  });
  afterAll(() => test?.drop());

  it('drops an event and its odds, and only those', async () => {
    const cache = new LruOddsCache({ maxBytes: 1 << 20 });
    for (const id of [1, 2]) {
      cache.set(cacheKey('Event', id), { id });
      cache.set(cacheKey('EventOdds', id), eventOddsRecord(id, []));
    }
    const invalidation = await resolveInvalidation({ event: 1 }, test.db.prisma);
    expect(applyInvalidation(invalidation, cache)).toBe(2);
    expect(cache.peek(cacheKey('Event', 1))).toBeUndefined();
    expect(cache.peek(cacheKey('EventOdds', 1))).toBeUndefined();
    expect(cache.peek(cacheKey('Event', 2))).toBeDefined();
  });

  it('drops a competition, the competitions list and every one of its events', async () => {
    const competition = await test.db.prisma.competition.findFirstOrThrow({ where: { events: { some: {} } } });
    const events = await test.db.prisma.event.findMany({ where: { competitionId: competition.id }, select: { id: true } });
    const invalidation = await resolveInvalidation({ competition: competition.id }, test.db.prisma);
    expect(invalidation.kinds).toEqual([]);
    expect(invalidation.keys).toEqual(
      expect.arrayContaining([cacheKey('Competition', competition.id), cacheKey('List', 'competitions'), ...events.map((e) => cacheKey('Event', e.id))]),
    );
  });

  it('drops every event’s odds for a bookmaker, whose prices are in all of them', async () => {
    const bookmaker = await test.db.prisma.bookmaker.findFirstOrThrow();
    expect(await resolveInvalidation({ bookmaker: bookmaker.key }, test.db.prisma)).toEqual({
      keys: [cacheKey('List', 'bookmakers'), cacheKey('Bookmaker', bookmaker.id)],
      kinds: ['EventOdds'],
    });
  });
});

// Needs Redis (TEST_REDIS_URL; CI requires it).
describe.skipIf(!redisUrl)('the fleet’s invalidation channel', () => {
  const prefix = `oddsgate-test-${randomBytes(4).toString('hex')}:`;
  const tiers: RedisTier[] = [];
  const admin = redisUrl ? new Redis(redisUrl) : undefined;
  afterEach(async () => {
    await Promise.all(tiers.splice(0).map((tier) => tier.close()));
  });
  afterAll(() => admin?.quit());

  async function listening(logged: LogLine[] = []) {
    const tier = new RedisTier({ url: redisUrl!, prefix, logger: messagesTo((_m, line) => logged.push(line)) });
    tiers.push(tier);
    const heard: Invalidation[] = [];
    tier.onInvalidation((invalidation) => heard.push(invalidation));
    await tier.start();
    return { tier, heard };
  }

  it('skips a message that is not JSON or not an invalidation, logs it, and hears the next one', async () => {
    const logged: LogLine[] = [];
    const { heard } = await listening(logged);
    const channel = redisNames(prefix).invalidations;
    await admin!.publish(channel, '{not json');
    await admin!.publish(channel, JSON.stringify({ keys: ['Nonsense:1'], kinds: [] }));
    await admin!.publish(channel, JSON.stringify({ keys: ['Event:7'], kinds: ['List'] }));
    await expect.poll(() => heard).toEqual([{ keys: ['Event:7'], kinds: ['List'] }]);
    expect(logged.filter((line) => line.msg === 'ignored a message that is not JSON or not of the expected shape')).toHaveLength(2);
  });

  it('delivers an invalidation published by another instance', async () => {
    const { heard } = await listening();
    const other = new RedisTier({ url: redisUrl!, prefix, logger: silentLogger() });
    tiers.push(other);
    await expect.poll(() => other.available).toBe(true); // no offline queue: commands fail until connected
    await other.invalidate({ keys: [cacheKey('Event', 3)], kinds: [] });
    await expect.poll(() => heard).toEqual([{ keys: ['Event:3'], kinds: [] }]);
  });

  it('drops every kind after its connection was lost, since any invalidation may have passed meanwhile', async () => {
    const { heard } = await listening();
    const clients = (await admin!.client('LIST')) as string;
    const ours = clients.split('\n').find((line) => line.includes(` name=${redisNames(prefix).connections.invalidations} `));
    await admin!.client('KILL', 'ID', ours!.match(/^id=(\d+)/)![1]!);
    await expect.poll(() => heard, { timeout: 5_000 }).toEqual([{ keys: [], kinds: [...cacheKinds] }]);
  });
});
