// The composition root: config -> database -> odds bus -> gateway -> ingest worker;
// on SIGTERM/SIGINT disposed in reverse (the worker finishes its batch first).
import { runCli } from './cli/run-cli.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { applyMigrations } from './db/migrate.js';
import { startGateway } from './gateway.js';
import { createFeed } from './ingest/create-feed.js';
import { IngestWorker } from './ingest/worker.js';
import { RedisTier } from './cache/redis-tier.js';
import { createOddsBus } from './pubsub/create-bus.js';
import { seedDatabase } from './seed/seed.js';

await runCli(async () => {
  const config = loadConfig();
  const db = await openDatabase(config);
  console.log(`database: ${db.kind} at ${db.location}`);
  await applyMigrations(db);
  // The embedded default starts with something to look at; a real database is never seeded unasked.
  if (db.kind === 'pglite' && (await db.prisma.event.count()) === 0) {
    console.log('empty embedded database: seeding 300 events x 6 bookmakers (npm run db:seed for more)');
    await seedDatabase(db, { events: 300, bookmakers: 6 });
  }
  const bus = await createOddsBus(config, console.log);
  const sharedTier = config.redisUrl ? new RedisTier({ url: config.redisUrl, prefix: config.redisPrefix }) : undefined;
  await sharedTier?.start();
  const gateway = await startGateway({ config, db, bus, sharedTier });
  console.log(`oddsgate ready: GraphQL (HTTP and WebSocket) at ${gateway.url}/graphql, health at ${gateway.url}/health`);

  let worker: IngestWorker | undefined;
  if (config.ingest) {
    const feed = createFeed(config.feedUrl, db.prisma);
    worker = new IngestWorker({
      prisma: db.prisma,
      reader: gateway.reader,
      feed,
      bus,
      feedBreaker: { failures: config.breakerFailures, openMs: config.breakerOpenMs },
    });
    worker.start();
    console.log(`ingest worker: ${feed.name} feed`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    await worker?.stop();
    await gateway.close();
    await bus.close();
    await sharedTier?.close();
    await db.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
});
