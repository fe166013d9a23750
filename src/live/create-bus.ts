import type { Config } from '../config.js';
import type { Logger } from '../ops/log.js';
import { InProcessOddsBus, type OddsBus } from './odds-bus.js';
import { RedisOddsBus } from './redis-odds-bus.js';

/** `REDIS_URL` set: the fleet's bus over Redis (subscribed before this returns); unset: in this process only. */
export async function createOddsBus(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, logger: Logger): Promise<OddsBus> {
  if (!config.redisUrl) return new InProcessOddsBus();
  const bus = new RedisOddsBus({ url: config.redisUrl, prefix: config.redisPrefix, logger });
  await bus.start();
  logger.info(`odds bus: Redis channel ${bus.channel}`);
  return bus;
}
