// `npm run ingest`: the ingest worker alone, writing its feed (FEED_URL, or the simulated one) to the database,
// the changed odds to the fleet's Redis cache tier, and publishing each committed change over Redis (REDIS_URL)
// to every gateway. With METRICS_PORT it serves /metrics.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { startHistoryUpkeep } from '../db/history-partitions.js';
import { applyMigrations } from '../db/migrate.js';
import { createIngestWorker } from '../ingest/create-feed.js';
import { createOddsBus } from '../live/create-bus.js';
import { createLogger } from '../ops/log.js';
import { startMetricsServer } from '../ops/metrics-server.js';
import { Metrics } from '../ops/metrics.js';
import { RedisTier } from '../read/redis-tier.js';
import { runCli, stopOnSignals } from './run-cli.js';

await runCli(async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel).child({ component: 'ingest' });
  const metrics = new Metrics();
  const db = await openDatabase(config);
  await applyMigrations(db);
  if (!config.redisUrl) logger.warn('no REDIS_URL: this worker writes to the database, but no gateway in another process hears of it');
  const bus = await createOddsBus(config, logger);
  // Written to, never listened on: invalidations are for gateways.
  const sharedTier = config.redisUrl ? new RedisTier({ url: config.redisUrl, prefix: config.redisPrefix, logger }) : undefined;
  const worker = createIngestWorker(config, { prisma: db.prisma, bus, sharedTier, metrics, logger });
  worker.start();
  // The writer keeps history's day partitions: the next days ahead, none past the retention.
  const historyUpkeep = startHistoryUpkeep(db.prisma, { retentionDays: config.historyRetentionDays, replayWindowMinutes: config.replayWindowMinutes, log: (message) => logger.info(message) });
  logger.info(`ingest worker on ${db.kind} at ${db.location}: ${worker.feedBreaker.name}`);
  const metricsServer =
    config.metricsPort === undefined ? undefined : await startMetricsServer(metrics, config.metricsPort, config.host, () => worker.health());
  if (metricsServer) logger.info(`ingest metrics at ${metricsServer.url}/metrics`);
  const report = setInterval(() => logger.info({ totals: worker.totals }, 'ingest totals'), 10_000);
  stopOnSignals(
    async (signal) => {
      logger.info(`${signal}: shutting down`);
      clearInterval(report);
      await Promise.all([worker.stop(), historyUpkeep.stop()]);
      await Promise.all([metricsServer?.close(), bus.close(), sharedTier?.close()]);
      await db.close();
      logger.info(`${signal}: stopped`);
    },
    { timeoutMs: 15_000, logger },
  );
});
