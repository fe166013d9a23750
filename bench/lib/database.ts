import pg from 'pg';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { seedDatabase } from '../../src/seed/seed.js';

export interface BenchDatabase {
  url: string;
  name: string;
  seedMs: number;
  serverVersion: string;
  drop(): Promise<void>;
}

/** A throwaway PostgreSQL database, migrated and seeded; `drop` removes it. */
export async function createBenchDatabase(
  baseUrl: string,
  { events, bookmakers, snapshotsPerPair }: { events: number; bookmakers: number; snapshotsPerPair?: number },
): Promise<BenchDatabase> {
  const name = `oddsgate_bench_${process.pid}`;
  const admin = async <T extends pg.QueryResultRow>(sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const [{ server_version: serverVersion } = { server_version: 'unknown' }] = await admin<{ server_version: string }>(
    'SHOW server_version',
  );
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    const db = await openDatabase({ databaseUrl: url.toString(), pgliteDataDir: 'unused' });
    try {
      await applyMigrations(db);
      const started = performance.now();
      await seedDatabase(db, { events, bookmakers, ...(snapshotsPerPair !== undefined && { snapshotsPerPair }) });
      return { url: url.toString(), name, seedMs: performance.now() - started, serverVersion, drop };
    } finally {
      await db.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
}
