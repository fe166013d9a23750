// `npm run ingest`: the ingest worker alone, writing its feed (FEED_URL, or the simulated one) to the database
// and publishing each committed change over Redis (REDIS_URL) to every gateway.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { OddsReader } from '../db/odds-reader.js';
import { createFeed } from '../ingest/create-feed.js';
import { IngestWorker } from '../ingest/worker.js';
import { createOddsBus } from '../pubsub/create-bus.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const config = loadConfig();
  const db = await openDatabase(config);
  await applyMigrations(db);
  const feed = createFeed(config.feedUrl, db.prisma);
  if (!config.redisUrl) console.log('no REDIS_URL: this worker writes to the database, but no gateway in another process hears of it');
  const bus = await createOddsBus(config, console.log);
  const worker = new IngestWorker({
    prisma: db.prisma,
    reader: new OddsReader(db.prisma),
    feed,
    bus,
    feedBreaker: { failures: config.breakerFailures, openMs: config.breakerOpenMs },
  });
  worker.start();
  console.log(`ingest worker on ${db.kind} at ${db.location}: ${feed.name} feed`);
  const report = setInterval(() => console.log('ingest totals', worker.totals), 10_000);
  const stop = async () => {
    clearInterval(report);
    await worker.stop();
    await bus.close();
    await db.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
});
