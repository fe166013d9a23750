// `npm run db:seed -- --events N --bookmakers B [--seed S] [--history-days D]`: replaces the database's contents
// with a generated data set; `--history-days` gives each (event, bookmaker) a snapshot every 6 hours over D days.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { createLogger } from '../ops/log.js';
import { RedisTier } from '../read/redis-tier.js';
import { redisNames } from '../redis/names.js';
import { seedDatabase } from '../seed/seed.js';
import { runCli } from './run-cli.js';

const usage = `Usage: npm run db:seed -- [--events N] [--bookmakers B] [--seed S] [--history-days D]

Replaces the contents of the database DATABASE_URL names (the embedded one without it) with a generated data set.
  --events N         events to generate (default 200)
  --bookmakers B     bookmakers pricing each event (default 6)
  --seed S           random seed: the same seed gives the same data (default 42)
  --history-days D   a snapshot every 6 hours over D days for each (event, bookmaker) (default: 3 snapshots)`;

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200' },
      bookmakers: { type: 'string', default: '6' },
      seed: { type: 'string', default: '42' },
      'history-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(usage);
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    await applyMigrations(db);
    const started = performance.now();
    const result = await seedDatabase(db, {
      events: wholeNumber('--events', values.events),
      bookmakers: wholeNumber('--bookmakers', values.bookmakers),
      seed: wholeNumber('--seed', values.seed),
      ...(values['history-days'] !== undefined && { snapshotsPerPair: wholeNumber('--history-days', values['history-days']) * 4 + 1 }),
      onProgress: ({ events, totalEvents, snapshots }) =>
        console.log(`  ${events}/${totalEvents} events, ${snapshots} snapshots`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `seeded ${db.kind} at ${db.location}: ${result.events} events x ${result.bookmakers} bookmakers, ${result.snapshots} snapshots in ${seconds} s`,
    );
    if (config.redisUrl) {
      // What the fleet cached is of the data set just replaced: drop it everywhere, or gateways serve it for days.
      const tier = new RedisTier({ url: config.redisUrl, prefix: config.redisPrefix, logger: createLogger(config.logLevel).child({ component: 'seed' }) });
      try {
        await tier.dropAll();
        console.log(`dropped the fleet's cache (${redisNames(config.redisPrefix).cacheKeys}*); running gateways read their boards again`);
      } finally {
        await tier.close();
      }
    }
  } finally {
    await db.close();
  }
});

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new RangeError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
