import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { OddsBus } from '../pubsub/odds-bus.js';
import type { FeedAdapter } from './feed-record.js';
import { HttpJsonFeed } from './http-feed.js';
import { SimulatedFeed } from './simulated-feed.js';
import { IngestWorker, type IngestWorkerOptions } from './worker.js';

/** `FEED_URL` set: poll that HTTP JSON feed; unset: the simulated feed over the database's own events. */
export function createFeed(config: Pick<Config, 'feedUrl' | 'ingestMaxResponseBytes'>, prisma: PrismaClient): FeedAdapter {
  return config.feedUrl ? new HttpJsonFeed({ url: config.feedUrl, maxResponseBytes: config.ingestMaxResponseBytes }) : new SimulatedFeed(prisma);
}

/** The worker as `npm start` and `npm run ingest` both run it: the configured feed and breaker, publishing on `bus`. */
export function createIngestWorker(
  config: Pick<
    Config,
    'feedUrl' | 'breakerFailures' | 'breakerFirstProbeMs' | 'breakerOpenMs' | 'ingestMaxClockSkewMs' | 'ingestMaxResponseBytes' | 'ingestMaxRecordsPerCycle' | 'ingestStaleAfterMs'
  >,
  parts: { prisma: PrismaClient; bus: OddsBus } & Pick<IngestWorkerOptions, 'metrics' | 'log'>,
): IngestWorker {
  return new IngestWorker({
    ...parts,
    feed: createFeed(config, parts.prisma),
    breakers: { failures: config.breakerFailures, firstProbeMs: config.breakerFirstProbeMs, openMs: config.breakerOpenMs },
    maxClockSkewMs: config.ingestMaxClockSkewMs,
    maxRecordsPerCycle: config.ingestMaxRecordsPerCycle,
    staleAfterMs: config.ingestStaleAfterMs,
  });
}
