// The composition root: config -> logger, metrics -> database -> Redis connections (odds bus, cache tier,
// persisted queries) -> gateway -> ingest worker;
// on SIGTERM/SIGINT disposed in reverse (the worker finishes its batch first).
import { runCli } from './cli/run-cli.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { applyMigrations } from './db/migrate.js';
import { openPersistedQueryStore } from './api/persisted-queries.js';
import { startGateway } from './gateway.js';
import { stopOnSignals } from './api/shutdown.js';
import { createIngestWorker } from './ingest/create-feed.js';
import type { IngestWorker } from './ingest/worker.js';
import { RedisTier } from './read/redis-tier.js';
import { createLogger } from './ops/log.js';
import { Metrics } from './ops/metrics.js';
import { createOddsBus } from './live/create-bus.js';
import { seedDatabase } from './seed/seed.js';

await runCli(async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // One registry for the process: the gateway's /metrics also shows the worker's ingest metrics.
  const metrics = new Metrics();
  const db = await openDatabase(config);
  logger.info(`database: ${db.kind} at ${db.location}`);
  await applyMigrations(db);
  // The embedded default starts with something to look at; a real database is never seeded unasked.
  if (db.kind === 'pglite' && (await db.prisma.event.count()) === 0) {
    logger.info('empty embedded database: seeding 300 events x 6 bookmakers (npm run db:seed for more)');
    await seedDatabase(db, { events: 300, bookmakers: 6 });
  }
  // Every connection of the process is opened here, once, and closed here after the gateway and worker stop.
  const busLog = logger.child({ component: 'odds-bus' });
  const bus = await createOddsBus(config, (message) => busLog.warn(message));
  const sharedTier = config.redisUrl
    ? new RedisTier({ url: config.redisUrl, prefix: config.redisPrefix, log: (message) => busLog.warn(message) })
    : undefined;
  await sharedTier?.start();
  const persistedQueries = openPersistedQueryStore(config.redisUrl, { prefix: config.redisPrefix, log: (message) => logger.info(message) });
  const gateway = await startGateway({ config, db, bus, sharedTier, persistedQueries: persistedQueries.cache, logger, metrics });
  logger.info(
    `oddsgate ready: GraphQL (HTTP and WebSocket) at ${gateway.url}/graphql, health at ${gateway.url}/health, metrics at ${gateway.url}/metrics`,
  );

  let worker: IngestWorker | undefined;
  if (config.ingest) {
    const ingestLog = logger.child({ component: 'ingest' });
    worker = createIngestWorker(config, { prisma: db.prisma, bus, metrics, log: (message) => ingestLog.warn(message) });
    worker.start();
    const running = worker;
    gateway.health.addPart('worker', () => running.health());
    logger.info(`ingest worker: ${worker.feedBreaker.name}`);
  }

  // The HTTP drain is bounded by SHUTDOWN_TIMEOUT_MS; the rest (worker batch, sockets, Redis, database) gets 5 s more.
  stopOnSignals(
    async (signal) => {
      logger.info(`${signal}: shutting down`);
      await Promise.all([worker?.stop(), gateway.close()]);
      await Promise.all([bus.close(), sharedTier?.close(), persistedQueries.close()]);
      await db.close();
      logger.info(`${signal}: stopped`);
    },
    { timeoutMs: config.shutdownTimeoutMs + 5_000, log: (message) => logger.error(message) },
  );
});
