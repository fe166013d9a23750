import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/ops/log.js';
import { latestOddsId } from '../../src/domain/odds-ids.js';
import type { OddsChange } from '../../src/live/odds-bus.js';
import { encodeOddsChange } from '../../src/live/odds-wire.js';
import { RedisOddsBus } from '../../src/live/redis-odds-bus.js';
import { logChange } from '../support/log-changes.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

const change: OddsChange = logChange(
  12,
  [{ id: 70, nodeId: latestOddsId(7, 1), eventId: 7, bookmakerId: 1, capturedAt: '2026-11-22T10:00:00.000Z', markets: [] }],
  { publishedAt: 1_763_800_000_000 },
);

// Needs Redis (TEST_REDIS_URL; CI requires it).
describe.skipIf(!redisUrl)('the Redis odds bus', () => {
  const prefix = `oddsgate-test-${randomBytes(4).toString('hex')}:`;
  const buses: RedisOddsBus[] = [];
  const open = async () => {
    const bus = new RedisOddsBus({ url: redisUrl!, prefix, logger: silentLogger() });
    await bus.start();
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('delivers a change published by one process to every bus on the channel, the publisher included, frozen', async () => {
    const [a, b] = [await open(), await open()];
    const heard = [a, b].map((bus) => new Promise<OddsChange>((resolve) => bus.onChange(resolve)));
    await a.publish(change);
    expect(a.connected).toBe(true); // /health's "redis: up"
    for (const received of await Promise.all(heard)) {
      expect(received).toEqual(change);
      expect(Object.isFrozen(received.entries[0]!.odds[0]!.snapshot)).toBe(true);
    }
  });

  it('reports a gap when its connection drops, and hears changes again once back', async () => {
    const bus = await open();
    const gap = new Promise<void>((resolve) => bus.onGap(resolve));
    const admin = new Redis(redisUrl!);
    try {
      const clients = (await admin.client('LIST')) as string;
      const ours = clients.split('\n').find((line) => line.includes(` name=${prefix}odds-subscribe `));
      expect(ours).toBeDefined();
      await admin.client('KILL', 'ID', ours!.match(/^id=(\d+)/)![1]!);
      await gap;
      const heard = new Promise<OddsChange>((resolve) => bus.onChange(resolve));
      await admin.publish(bus.channel, encodeOddsChange(change));
      expect(await heard).toEqual(change);
    } finally {
      admin.disconnect();
    }
  });

  it('refuses a publish at once while Redis is unreachable, so the worker keeps the change for later', async () => {
    const bus = new RedisOddsBus({ url: 'redis://127.0.0.1:1', prefix, logger: silentLogger() });
    buses.push(bus);
    await expect(bus.publish(change)).rejects.toThrow();
    expect(bus.connected).toBe(false); // /health's "redis: down"
  });
});
