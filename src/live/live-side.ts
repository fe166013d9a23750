import type { Health } from '../ops/health.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { ReadSide } from '../read/read-side.js';
import { LiveOdds } from './live-odds.js';
import type { OddsBus } from './odds-bus.js';
import { InProcessPubSub } from './pubsub.js';

export interface LiveSideOptions {
  /** Where odds changes come from: the worker in this process, or every worker over Redis. */
  bus: OddsBus;
  read: Pick<ReadSide, 'cache' | 'board'>;
  metrics: Metrics;
  health: Health;
  logger: Logger;
  /** How often past events leave the board when no change arrives, in milliseconds (default 60 s). */
  evictEveryMs?: number;
}

export interface LiveSide {
  /** This gateway's own subscribers. */
  pubsub: InProcessPubSub;
  /** Applies odds changes from the bus to the cache, board and subscribers. */
  liveOdds: LiveOdds;
  /** Stops the eviction timer. */
  close(): void;
}

/** Follows the odds bus: every change refreshes the cache and board, then reaches this gateway's subscribers. */
export function startLiveSide({ bus, read, metrics, health, logger, evictEveryMs = 60_000 }: LiveSideOptions): LiveSide {
  const pubsub = new InProcessPubSub();
  metrics.observePubSub(pubsub);
  const liveOdds = new LiveOdds({ cache: read.cache, board: read.board, pubsub });
  let lastChangeAt: number | undefined;
  bus.onChange((change) => {
    lastChangeAt = Date.now();
    liveOdds.apply(change);
  });
  bus.onGap(() => {
    const dropped = liveOdds.forgetOdds();
    logger.info(`odds bus: messages may have been missed; dropped ${dropped} cached odds entries, the database will refill them`);
  });
  const evictTimer = setInterval(() => liveOdds.evictPastEvents(), evictEveryMs).unref();
  health.addPart('ingest', () => {
    if (lastChangeAt === undefined) return { status: 'no change heard yet', secondsSinceLastChange: null };
    return { status: 'receiving', secondsSinceLastChange: Math.max(0, (Date.now() - lastChangeAt) / 1000) };
  });
  health.addPart('subscriptions', () => ({ status: 'on', ...pubsub.stats() }));
  return { pubsub, liveOdds, close: () => clearInterval(evictTimer) };
}
