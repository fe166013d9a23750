// The composition root: config -> logger, metrics -> database -> every Redis connection (odds bus, cache tier,
// persisted queries) -> gateway -> ingest worker; on SIGTERM/SIGINT disposed in reverse (the worker finishes its batch first).
import { openPersistedQueryStore } from './api/persisted-queries.js';
import { runCli, stopOnSignals } from './cli/run-cli.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { startHistoryUpkeep } from './db/history-partitions.js';
import { applyMigrations } from './db/migrate.js';
import { startGateway } from './gateway.js';
import { createIngestWorker } from './ingest/create-feed.js';
import { createOddsBus } from './live/create-bus.js';
import { createLogger, type Logger } from './ops/log.js';
import { Metrics } from './ops/metrics.js';
import { RedisTier } from './read/redis-tier.js';
import { seedDatabase } from './seed/seed.js';

await runCli(async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // One registry for the process: the gateway's /metrics also shows the worker's ingest metrics.
  const metrics = new Metrics();
  const db = await openEmbeddedOrGiven(config, logger);
  const redis = await openRedis(config, logger.child({ component: 'redis' }));
  const { bus, sharedTier, persistedQueries } = redis;
  const gateway = await startGateway({ config, db, bus, sharedTier, persistedQueries, logger, metrics });
  logger.info(
    `oddsgate ready: GraphQL (HTTP and WebSocket) at ${gateway.url}/graphql, health at ${gateway.url}/health, metrics at ${gateway.url}/metrics`,
  );
  const ingestLogger = logger.child({ component: 'ingest' });
  const worker = config.ingest
    ? createIngestWorker(config, { bus, sharedTier, prisma: db.prisma, metrics, logger: ingestLogger })
    : undefined;
  worker?.start();
  if (worker) {
    gateway.health.addPart('worker', () => worker.health());
    logger.info(`ingest worker: ${worker.feedBreaker.name}`);
  }
  // The writer keeps history's day partitions: the next days ahead, none past the retention.
  const historyUpkeep = config.ingest
    ? startHistoryUpkeep(db.prisma, { retentionDays: config.historyRetentionDays, replayWindowMinutes: config.replayWindowMinutes, log: (message) => ingestLogger.info(message) })
    : undefined;

  // The HTTP drain is bounded by SHUTDOWN_TIMEOUT_MS; the rest (worker batch, sockets, Redis, database) gets 5 s more.
  stopOnSignals(
    async (signal) => {
      logger.info(`${signal}: shutting down`);
      await Promise.all([worker?.stop(), historyUpkeep?.stop(), gateway.close()]);
      await redis.close();
      await db.close();
      logger.info(`${signal}: stopped`);
    },
    { timeoutMs: config.shutdownTimeoutMs + 5_000, logger },
  );
});

/** The database, migrated; the embedded default starts with something to look at, a real database is never seeded unasked. */
async function openEmbeddedOrGiven(config: Config, logger: Logger): Promise<Database> {
  const db = await openDatabase(config);
  logger.info(`database: ${db.kind} at ${db.location}`);
  await applyMigrations(db);
  if (db.kind === 'pglite' && (await db.prisma.event.count()) === 0) {
    logger.info('empty embedded database: seeding 300 events x 6 bookmakers (npm run db:seed for more)');
    await seedDatabase(db, { events: 300, bookmakers: 6 });
  }
  return db;
}

/** Every Redis connection of the process, opened once: the odds bus, the cache tier and its invalidations, persisted queries. */
async function openRedis(config: Config, logger: Logger) {
  const bus = await createOddsBus(config, logger);
  const sharedTier = config.redisUrl ? new RedisTier({ url: config.redisUrl, prefix: config.redisPrefix, logger }) : undefined;
  await sharedTier?.start();
  const persistedQueries = openPersistedQueryStore(config.redisUrl, { prefix: config.redisPrefix, logger });
  return {
    bus,
    sharedTier,
    persistedQueries: persistedQueries.cache,
    close: async () => {
      await Promise.all([bus.close(), sharedTier?.close(), persistedQueries.close()]);
    },
  };
}
