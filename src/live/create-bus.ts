import type { Config } from '../config.js';
import { InProcessOddsBus, type OddsBus } from './odds-bus.js';
import { RedisOddsBus } from './redis-odds-bus.js';

/** `REDIS_URL` set: the fleet's bus over Redis (subscribed before this returns); unset: in this process only. */
export async function createOddsBus(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, log: (message: string) => void): Promise<OddsBus> {
  if (!config.redisUrl) return new InProcessOddsBus();
  const bus = new RedisOddsBus({ url: config.redisUrl, prefix: config.redisPrefix, log });
  await bus.start();
  log(`odds bus: Redis channel ${bus.channel}`);
  return bus;
}
