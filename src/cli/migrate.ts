// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL, or to embedded PGlite without it.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const db = await openDatabase(loadConfig());
  try {
    const { applied, alreadyApplied } = await applyMigrations(db);
    for (const name of applied) console.log(`applied ${name}`);
    console.log(`${db.kind} at ${db.location}: ${applied.length} applied, ${alreadyApplied.length} already applied`);
  } finally {
    await db.close();
  }
});
