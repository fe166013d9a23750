// The composition root: config -> database -> pubsub -> gateway -> ingest worker;
// on SIGTERM/SIGINT disposed in reverse (the worker finishes its batch first).
import { runCli } from './cli/run-cli.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { applyMigrations } from './db/migrate.js';
import { startGateway } from './gateway.js';
import { stopOnSignals } from './http/shutdown.js';
import { createFeed } from './ingest/create-feed.js';
import { IngestWorker } from './ingest/worker.js';
import { InProcessPubSub } from './pubsub/pubsub.js';
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
  const pubsub = new InProcessPubSub();
  const gateway = await startGateway({ config, db, pubsub });
  console.log(`oddsgate ready: GraphQL (HTTP and WebSocket) at ${gateway.url}/graphql, health at ${gateway.url}/health`);

  let worker: IngestWorker | undefined;
  if (config.ingest) {
    const feed = createFeed(config.feedUrl, db.prisma);
    worker = new IngestWorker({
      prisma: db.prisma,
      reader: gateway.reader,
      feed,
      pubsub,
      cache: gateway.cache,
      board: gateway.board,
    });
    worker.start();
    console.log(`ingest worker: ${feed.name} feed`);
  }

  // The HTTP drain is bounded by SHUTDOWN_TIMEOUT_MS; the rest (worker batch, sockets, database) gets 5 s more.
  stopOnSignals(
    async (signal) => {
      console.log(`${signal}: shutting down`);
      await Promise.all([worker?.stop(), gateway.close()]);
      await db.close();
      console.log(`${signal}: stopped`);
    },
    { timeoutMs: config.shutdownTimeoutMs + 5_000, log: console.error },
  );
});
