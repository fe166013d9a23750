import type { Health } from '../ops/health.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { ReadSide } from '../read/read-side.js';
import { LiveOdds } from './live-odds.js';
import { LogFollower } from './log-follower.js';
import { RecentChanges } from './recent-changes.js';
import { CursorExpiredError } from './resume.js';
import type { OddsBus } from './odds-bus.js';
import { InProcessPubSub } from './pubsub.js';

export interface LiveSideOptions {
  /** Where odds changes come from: the worker in this process, or every worker over Redis. */
  bus: OddsBus;
  read: Pick<ReadSide, 'cache' | 'board' | 'reader' | 'logPosition'>;
  metrics: Metrics;
  health: Health;
  logger: Logger;
  /** How often past events leave the board when no change arrives, in milliseconds (default 60 s). */
  evictEveryMs?: number;
  /**
   * How often to check the change log for positions the bus never brought, in milliseconds (a worker
   * that died between commit and publish); 0 = never, the default for the in-process bus.
   */
  logCheckEveryMs?: number;
}

export interface LiveSide {
  /** This gateway's own subscribers. */
  pubsub: InProcessPubSub;
  /** Applies odds changes from the bus to the cache, board and subscribers. */
  liveOdds: LiveOdds;
  /** Keeps them in change-log order and fills gaps; its position is what the cache reflects. */
  follower: LogFollower;
  /** The newest applied stretch of the log, for resuming subscribers without the database. */
  recentChanges: RecentChanges;
  /** Stops the eviction timer. */
  close(): void;
}

/** Follows the odds bus: every change refreshes the cache and board, then reaches this gateway's subscribers. */
export function startLiveSide({ bus, read, metrics, health, logger, evictEveryMs = 60_000, logCheckEveryMs = 0 }: LiveSideOptions): LiveSide {
  const pubsub = new InProcessPubSub();
  metrics.observePubSub(pubsub);
  const liveOdds = new LiveOdds({ cache: read.cache, board: read.board, pubsub });
  let lastChangeAt: number | undefined;
  const recentChanges = new RecentChanges({ startAfter: read.logPosition });
  const follower = new LogFollower({
    reader: read.reader,
    startAfter: read.logPosition,
    apply: (piece, publishedAt) => {
      lastChangeAt = Date.now();
      liveOdds.apply(piece, publishedAt);
      // In the same call that published it: a subscriber resuming from the window misses nothing (src/live/recent-changes.ts).
      recentChanges.append(piece);
    },
    onLost: (missedAfter, oldest) => {
      recentChanges.restartAfter(oldest - 1n);
      const dropped = liveOdds.forgetOdds();
      // Their subscribers missed those changes too: tell them, so they query again and resubscribe.
      const ended = pubsub.expireSubscriptions(new CursorExpiredError(`this gateway missed changes after ${missedAfter} that the change log no longer holds`));
      logger.warn(
        { missedAfter: String(missedAfter), oldest: String(oldest), subscriptionsEnded: ended },
        `change log: changes this gateway missed are older than the log keeps; dropped ${dropped} cached odds entries, the database will refill them`,
      );
    },
    logger,
  });
  metrics.observeChangeLog(() => follower.stats());
  bus.onChange((change) => follower.receive(change));
  bus.onGap(() => {
    logger.info('odds bus: messages may have been missed; reading them from the change log');
    follower.catchUp();
  });
  const evictTimer = setInterval(() => liveOdds.evictPastEvents(), evictEveryMs).unref();
  const logCheck = logCheckEveryMs > 0 ? checkLogEvery(follower, logCheckEveryMs, logger) : undefined;
  health.addPart('ingest', () => {
    if (lastChangeAt === undefined) return { status: 'no change heard yet', secondsSinceLastChange: null };
    return { status: 'receiving', secondsSinceLastChange: Math.max(0, (Date.now() - lastChangeAt) / 1000) };
  });
  health.addPart('subscriptions', () => {
    const { position, filled, lost } = follower.stats();
    return { status: 'on', ...pubsub.stats(), changeLog: { position: String(position), filled, lost, replayPagesFromMemory: recentChanges.pagesAnswered } };
  });
  return {
    pubsub,
    liveOdds,
    follower,
    recentChanges,
    close: () => {
      clearInterval(evictTimer);
      clearInterval(logCheck);
      follower.close();
    },
  };
}

/**
 * Catches up with positions the log has held since the previous check but
 * the bus never brought; one committed a moment ago is left to its message.
 */
function checkLogEvery(follower: LogFollower, everyMs: number, logger: Logger): NodeJS.Timeout {
  let previous: bigint | null = null;
  return setInterval(() => {
    follower.behind().then(
      (newest) => {
        if (newest !== null && previous !== null && previous > follower.position) follower.catchUp();
        previous = newest;
      },
      (error: unknown) => logger.debug({ err: error }, 'change log: checking for missed changes failed'),
    );
  }, everyMs).unref();
}
