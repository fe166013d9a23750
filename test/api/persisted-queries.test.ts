import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openPersistedQueryStore } from '../../src/api/persisted-queries.js';
import { silentLogger } from '../../src/ops/log.js';
import { messagesTo } from '../support/gateway.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

describe('the persisted-query store', () => {
  it('is Apollo’s own in-memory store without REDIS_URL', async () => {
    const store = openPersistedQueryStore(undefined, { logger: silentLogger() });
    expect(store.cache).toBeUndefined();
    await store.close();
  });

  it('answers a miss and drops a store, logging why, while Redis is unreachable: the client resends its query', async () => {
    const logged: string[] = [];
    const store = openPersistedQueryStore('redis://127.0.0.1:1', { logger: messagesTo((message) => logged.push(message)) });
    try {
      await expect(store.cache!.get('apq:abc')).resolves.toBeUndefined();
      await expect(store.cache!.set('apq:abc', '{ sports { key } }')).resolves.toBeUndefined();
      await expect(store.cache!.delete('apq:abc')).resolves.toBe(false);
      expect(logged).toEqual(expect.arrayContaining(['persisted query read failed, answering as a miss', 'persisted query not stored']));
    } finally {
      await store.close();
    }
  });
});

// Needs Redis (TEST_REDIS_URL; CI requires it).
describe.skipIf(!redisUrl)('the persisted-query store in Redis', () => {
  const prefix = `oddsgate-test-${randomBytes(4).toString('hex')}:`;
  const store = openPersistedQueryStore(redisUrl, { prefix, logger: silentLogger() });
  const redis = new Redis(redisUrl!);
  afterAll(async () => {
    await store.close();
    await redis.quit();
  });

  it('keeps a query under the prefix, with Apollo’s ttl in seconds, for every gateway to read', async () => {
    // Until its connection is up a store is dropped (no offline queue), as at a gateway's start: store until it lands.
    const stored = async () => {
      await store.cache!.set('apq:h1', '{ sports { key } }', { ttl: 60 });
      return redis.get(`${prefix}apq:h1`);
    };
    await expect.poll(stored).toBe('{ sports { key } }');
    expect(await redis.ttl(`${prefix}apq:h1`)).toBeGreaterThan(0);
    await redis.set(`${prefix}apq:h2`, '{ bookmakers { key } }');
    expect(await store.cache!.get('apq:h2')).toBe('{ bookmakers { key } }');
    expect(await store.cache!.delete('apq:h2')).toBe(true);
    expect(await store.cache!.get('apq:h2')).toBeUndefined();
  });
});
