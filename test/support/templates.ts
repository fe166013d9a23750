import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, pgliteDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { seedDatabase } from '../../src/seed/seed.js';

/**
 * What a test database holds when a test gets it. Migrating and seeding cost
 * seconds (and a new PGlite seconds more), so each shape is built once per
 * run by test/support/global-setup.ts and every test gets a copy.
 */
export type DatabaseShape = 'empty' | 'migrated' | 'seeded';

/**
 * The one seeded data set: enough events that a 50-event board has a next page
 * at any hour of the UTC day (the seed spreads 15 days from yesterday's start),
 * and every bookmaker a board test asks for.
 */
export const seededShape = { events: 80, bookmakers: 6 } as const;

export interface Templates {
  /** Files holding PGlite data directory dumps (`dumpDataDir()`), by shape. */
  pglite: Record<DatabaseShape, string>;
  /** PostgreSQL databases to `CREATE DATABASE ... TEMPLATE`, by shape; absent without TEST_DATABASE_URL. */
  postgres?: Record<DatabaseShape, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    templates: Templates;
  }
}

/** Every test database's name starts with this; templates and copies alike. */
export const testDatabasePrefix = 'oddsgate_test_';

/** Builds every shape on PGlite, and on PostgreSQL when `postgresUrl` is set; `remove` deletes them all. */
export async function buildTemplates(postgresUrl: string | undefined): Promise<{ templates: Templates; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oddsgate-test-templates-'));
  // Unique per run: other runs on the same PostgreSQL build and drop their own at the same time.
  const run = randomBytes(4).toString('hex');
  const names: Record<DatabaseShape, string> = {
    empty: 'template1',
    migrated: `${testDatabasePrefix}${run}_migrated`,
    seeded: `${testDatabasePrefix}${run}_seeded`,
  };
  const remove = async () => {
    if (postgresUrl) {
      for (const name of [names.seeded, names.migrated]) await adminQuery(postgresUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [pglite] = await Promise.all([buildPGliteTemplates(dir), postgresUrl && buildPostgresTemplates(postgresUrl, names)]);
    return { templates: { pglite, postgres: postgresUrl ? names : undefined }, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** One PGlite, dumped at each step: empty, migrated, seeded. */
async function buildPGliteTemplates(dir: string): Promise<Record<DatabaseShape, string>> {
  const pglite = await PGlite.create('memory://');
  const db = pgliteDatabase(pglite, 'memory://');
  try {
    const dump = async (shape: DatabaseShape) => {
      const file = path.join(dir, `${shape}.tar`);
      // Flushed first, so a copy starts without replaying the WAL; uncompressed, as gunzip would add to every load.
      await pglite.exec('CHECKPOINT');
      await writeFile(file, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
      return file;
    };
    const empty = await dump('empty');
    await applyMigrations(db);
    const migrated = await dump('migrated');
    await seedDatabase(db, seededShape);
    return { empty, migrated, seeded: await dump('seeded') };
  } finally {
    await db.close();
  }
}

async function buildPostgresTemplates(postgresUrl: string, names: Record<DatabaseShape, string>): Promise<void> {
  const build = async (name: string, from: string, fill: (db: Database) => Promise<unknown>) => {
    await adminQuery(postgresUrl, `CREATE DATABASE ${name} TEMPLATE ${from}`);
    const db = await openDatabase({ databaseUrl: withDatabase(postgresUrl, name), pgliteDataDir: 'unused', poolSize: 2 });
    try {
      await fill(db);
    } finally {
      // A template with a session open cannot be copied.
      await db.close();
    }
  };
  await build(names.migrated, names.empty, applyMigrations);
  await build(names.seeded, names.migrated, (db) => seedDatabase(db, seededShape));
}

export async function adminQuery(postgresUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
