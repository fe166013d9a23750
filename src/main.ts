// The composition root: config -> database -> gateway; disposed in reverse on SIGTERM/SIGINT.
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { applyMigrations } from './db/migrate.js';
import { startGateway } from './gateway.js';
import { seedDatabase } from './seed/seed.js';
import { runCli } from './cli/run-cli.js';

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
  const gateway = await startGateway({ config, db });
  console.log(`oddsgate ready: GraphQL at ${gateway.url}/graphql, health at ${gateway.url}/health`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    await gateway.close();
    await db.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
});
