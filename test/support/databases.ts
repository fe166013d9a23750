import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';

/**
 * Database tests run on embedded PGlite always, and on real PostgreSQL too
 * when TEST_DATABASE_URL names a server (CI sets it and requires it: see
 * test/support/global-setup.ts). Each test database is new and empty.
 */
export type DatabaseKind = 'pglite' | 'postgres';

export const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

export const databaseKinds: DatabaseKind[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  db: Database;
  /** The URL of the throwaway PostgreSQL database, for processes started by the test. */
  url: string | undefined;
  drop(): Promise<void>;
}

export async function createTestDatabase(
  kind: DatabaseKind,
  options: { migrate?: boolean; onStatement?: (sql: string) => void } = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ pgliteDataDir: 'memory://' });
    if (options.migrate !== false) await applyMigrations(db);
    return { db, url: undefined, drop: () => db.close() };
  }
  const name = `oddsgate_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = withDatabase(postgresUrl!, name);
  const db = await openDatabase({ databaseUrl: url, pgliteDataDir: 'unused', databasePoolSize: 4, onStatement: options.onStatement });
  if (options.migrate !== false) await applyMigrations(db);
  return {
    db,
    url,
    async drop() {
      await db.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
