import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { OddsBus } from '../live/odds-bus.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import { CreditBudget } from './budget/credit-budget.js';
import type { FeedAdapter } from './feed-record.js';
import { OddsApiFeed } from './feeds/the-odds-api.js';
import { HttpJsonFeed } from './http-feed.js';
import { SimulatedFeed } from './simulated-feed.js';
import { IngestWorker, type IngestWorkerOptions } from './worker.js';

type FeedConfig = Pick<
  Config,
  | 'feedUrl'
  | 'oddsApiKey'
  | 'oddsApiSports'
  | 'oddsApiUrl'
  | 'oddsApiRegions'
  | 'oddsApiIntervalMs'
  | 'oddsApiEventsIntervalMs'
  | 'feedBudget'
  | 'feedRequestsPerSecond'
  | 'feedRequestBurst'
  | 'simSpeed'
  | 'ingestMaxResponseBytes'
>;

/** `ODDS_API_KEY` set: The Odds API, within `FEED_BUDGET`; `FEED_URL` set: that HTTP JSON feed; neither: the simulated feed over the database's own events, at `SIM_SPEED`. */
export function createFeed(
  config: FeedConfig,
  prisma: PrismaClient,
  parts: { metrics?: Pick<Metrics, 'feedRateLimited' | 'observeFeedBudget'> | undefined; logger?: Pick<Logger, 'warn' | 'info'> } = {},
): FeedAdapter {
  const maxResponseBytes = config.ingestMaxResponseBytes;
  const burst = config.feedRequestBurst;
  const onRateLimited = () => parts.metrics?.feedRateLimited();
  if (config.oddsApiKey) {
    return new OddsApiFeed({
      apiKey: config.oddsApiKey,
      sports: config.oddsApiSports ?? [],
      budget: new CreditBudget(config.feedBudget, { prisma, feed: OddsApiFeed.feedName }),
      baseUrl: config.oddsApiUrl,
      regions: config.oddsApiRegions,
      intervalMs: config.oddsApiIntervalMs,
      eventsIntervalMs: config.oddsApiEventsIntervalMs,
      rateLimit: { perSecond: config.feedRequestsPerSecond ?? 1, burst },
      maxResponseBytes,
      ...parts,
    });
  }
  if (config.feedUrl) {
    // A feed of our own may be polled as often as the worker cycles, unless told otherwise.
    const perSecond = config.feedRequestsPerSecond;
    const rateLimit = perSecond === undefined ? undefined : { perSecond, burst };
    return new HttpJsonFeed({ url: config.feedUrl, maxResponseBytes, rateLimit, logger: parts.logger, onRateLimited });
  }
  return new SimulatedFeed(prisma, { speed: config.simSpeed });
}

/** The worker as `npm start` and `npm run ingest` both run it: the configured feed and breaker, publishing on `bus`. */
export function createIngestWorker(
  config: FeedConfig &
    Pick<Config, 'breakerFailures' | 'breakerFirstProbeMs' | 'breakerOpenMs' | 'ingestMaxClockSkewMs' | 'historyRetentionDays' | 'ingestMaxRecordsPerCycle' | 'ingestStaleAfterMs'>,
  parts: { prisma: PrismaClient; bus: OddsBus } & Pick<IngestWorkerOptions, 'sharedTier' | 'metrics' | 'logger'> & {
      metrics?: Pick<Metrics, 'feedRateLimited' | 'observeFeedBudget'> | undefined;
    },
): IngestWorker {
  return new IngestWorker({
    ...parts,
    feed: createFeed(config, parts.prisma, { metrics: parts.metrics, logger: parts.logger }),
    breakers: { failures: config.breakerFailures, firstProbeMs: config.breakerFirstProbeMs, openMs: config.breakerOpenMs },
    maxClockSkewMs: config.ingestMaxClockSkewMs,
    historyRetentionDays: config.historyRetentionDays,
    maxRecordsPerCycle: config.ingestMaxRecordsPerCycle,
    staleAfterMs: config.ingestStaleAfterMs,
  });
}
