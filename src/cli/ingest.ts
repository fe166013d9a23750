// `npm run ingest`: the ingest worker alone, writing the simulated feed to the database.
// Until the Redis fan-out lands, its updates reach only subscribers in this process
// (none): gateways in other processes see new odds when their cached odds expire.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { OddsReader } from '../db/odds-reader.js';
import { SimulatedFeed } from '../ingest/simulated-feed.js';
import { IngestWorker } from '../ingest/worker.js';
import { InProcessPubSub } from '../pubsub/pubsub.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const db = await openDatabase(loadConfig());
  await applyMigrations(db);
  const worker = new IngestWorker({
    prisma: db.prisma,
    reader: new OddsReader(db.prisma),
    feed: new SimulatedFeed(db.prisma),
    pubsub: new InProcessPubSub(),
  });
  worker.start();
  console.log(`ingest worker on ${db.kind} at ${db.location}: simulated feed, about 50 snapshot changes per second`);
  const report = setInterval(() => console.log('ingest totals', worker.totals), 10_000);
  const stop = async () => {
    clearInterval(report);
    await worker.stop();
    await db.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
});
