import type { Config } from '../config.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { OddsBus } from '../live/odds-bus.js';
import type { FeedAdapter } from './feed-record.js';
import { HttpJsonFeed } from './http-feed.js';
import { SimulatedFeed } from './simulated-feed.js';
import { IngestWorker, type IngestWorkerOptions } from './worker.js';

/** `FEED_URL` set: poll that HTTP JSON feed; unset: the simulated feed over the database's own events, at `SIM_SPEED`. */
export function createFeed(config: Pick<Config, 'feedUrl' | 'simSpeed'>, prisma: PrismaClient): FeedAdapter {
  return config.feedUrl ? new HttpJsonFeed({ url: config.feedUrl }) : new SimulatedFeed(prisma, { speed: config.simSpeed });
}

/** The worker as `npm start` and `npm run ingest` both run it: the configured feed and breaker, publishing on `bus`. */
export function createIngestWorker(
  config: Pick<Config, 'feedUrl' | 'simSpeed' | 'breakerFailures' | 'breakerOpenMs'>,
  parts: { prisma: PrismaClient; reader: OddsReader; bus: OddsBus } & Pick<IngestWorkerOptions, 'sharedTier' | 'metrics' | 'logger'>,
): IngestWorker {
  return new IngestWorker({
    ...parts,
    feed: createFeed(config, parts.prisma),
    feedBreaker: { failures: config.breakerFailures, openMs: config.breakerOpenMs },
  });
}
