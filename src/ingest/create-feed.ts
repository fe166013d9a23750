import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { OddsBus } from '../live/odds-bus.js';
import type { FeedAdapter } from './feed-record.js';
import { OddsApiFeed } from './feeds/the-odds-api.js';
import { HttpJsonFeed } from './http-feed.js';
import { SimulatedFeed } from './simulated-feed.js';
import { IngestWorker, type IngestWorkerOptions } from './worker.js';

/** `ODDS_API_KEY` set: The Odds API; `FEED_URL` set: that HTTP JSON feed; neither: the simulated feed over the database's own events, at `SIM_SPEED`. */
export function createFeed(
  config: Pick<
    Config,
    'feedUrl' | 'oddsApiKey' | 'oddsApiSports' | 'oddsApiUrl' | 'oddsApiRegions' | 'oddsApiIntervalMs' | 'simSpeed' | 'ingestMaxResponseBytes'
  >,
  prisma: PrismaClient,
): FeedAdapter {
  const maxResponseBytes = config.ingestMaxResponseBytes;
  if (config.oddsApiKey) {
    return new OddsApiFeed({
      apiKey: config.oddsApiKey,
      sports: config.oddsApiSports ?? [],
      baseUrl: config.oddsApiUrl,
      regions: config.oddsApiRegions,
      intervalMs: config.oddsApiIntervalMs,
      maxResponseBytes,
    });
  }
  return config.feedUrl ? new HttpJsonFeed({ url: config.feedUrl, maxResponseBytes }) : new SimulatedFeed(prisma, { speed: config.simSpeed });
}

/** The worker as `npm start` and `npm run ingest` both run it: the configured feed and breaker, publishing on `bus`. */
export function createIngestWorker(
  config: Pick<
    Config,
    | 'feedUrl'
    | 'oddsApiKey'
    | 'oddsApiSports'
    | 'oddsApiUrl'
    | 'oddsApiRegions'
    | 'oddsApiIntervalMs'
    | 'simSpeed'
    | 'breakerFailures'
    | 'breakerFirstProbeMs'
    | 'breakerOpenMs'
    | 'ingestMaxClockSkewMs'
    | 'ingestMaxResponseBytes'
    | 'ingestMaxRecordsPerCycle'
    | 'ingestStaleAfterMs'
  >,
  parts: { prisma: PrismaClient; bus: OddsBus } & Pick<IngestWorkerOptions, 'sharedTier' | 'metrics' | 'logger'>,
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
