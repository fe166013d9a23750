// `npm run ingest`: the ingest worker alone, writing its feed (FEED_URL, or the simulated one) to the database
// and publishing each committed change over Redis (REDIS_URL) to every gateway. With METRICS_PORT it serves /metrics.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { createIngestWorker } from '../ingest/create-feed.js';
import { createLogger } from '../ops/log.js';
import { startMetricsServer } from '../ops/metrics-server.js';
import { Metrics } from '../ops/metrics.js';
import { createOddsBus } from '../live/create-bus.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel).child({ component: 'ingest' });
  const metrics = new Metrics();
  const db = await openDatabase(config);
  await applyMigrations(db);
  if (!config.redisUrl) logger.warn('no REDIS_URL: this worker writes to the database, but no gateway in another process hears of it');
  const bus = await createOddsBus(config, (message) => logger.warn(message));
  const worker = createIngestWorker(config, {
    prisma: db.prisma,
    bus,
    metrics,
    log: (message) => logger.warn(message),
  });
  worker.start();
  logger.info(`ingest worker on ${db.kind} at ${db.location}: ${worker.feedBreaker.name}`);
  const metricsServer =
    config.metricsPort === undefined ? undefined : await startMetricsServer(metrics, config.metricsPort, config.host, () => worker.health());
  if (metricsServer) logger.info(`ingest metrics at ${metricsServer.url}/metrics`);
  const report = setInterval(() => logger.info({ totals: worker.totals }, 'ingest totals'), 10_000);
  const stop = async () => {
    clearInterval(report);
    await worker.stop();
    await metricsServer?.close();
    await bus.close();
    await db.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
});
