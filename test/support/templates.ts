import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { pgliteDatabase } from '../../src/db/pglite-database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { seedDatabase } from '../../src/seed/seed.js';

/** The seeded data sets, each built once per run. */
export const seededShapes = {
  /**
   * The board: enough events that a 50-event board has a next page at any hour of the UTC day
   * (the seed spreads 15 days from yesterday's start), and every bookmaker a board test asks for.
   */
  seeded: { events: 80, bookmakers: 6 },
  /** A dozen events and two bookmakers, for tests that need some data and pay for every row of it (warm-up, the simulated market). */
  'seeded-small': { events: 12, bookmakers: 2 },
} as const;

/**
 * What a test database holds when a test gets it. Migrating and seeding cost
 * seconds (and a new PGlite seconds more), so each shape is built once per
 * run by test/support/global-setup.ts and every test gets a copy.
 */
/**
 * Test databases run without the gateway's session timeouts: PGlite's WebAssembly PostgreSQL shares the
 * process and can hold the event loop for seconds on a loaded box, while a PostgreSQL transaction waits
 * (idle in transaction) for its next statement. Tests of the timeouts set their own.
 */
export const noSessionTimeouts = { databaseStatementTimeoutMs: 0, databaseIdleInTransactionTimeoutMs: 0 } as const;

export type DatabaseShape = 'empty' | 'migrated' | keyof typeof seededShapes;
export type SeededShape = keyof typeof seededShapes;

export interface Templates {
  /** Files holding PGlite data directory dumps (`dumpDataDir()`), by shape. */
  pglite: Record<DatabaseShape, string>;
  /** Absent without TEST_DATABASE_URL. */
  postgres?: {
    /** Databases to `CREATE DATABASE ... TEMPLATE`, by shape. */
    templates: Record<DatabaseShape, string>;
    /** The start of every database name of this run: copies too, so the run's end can drop what is left. */
    runPrefix: string;
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templates: Templates;
  }
}

/**
 * Test databases on PostgreSQL are named `oddsgate_test_t<unix seconds>_<random>_...`: unique per run,
 * since other runs use the same server at the same time, and dated, so a run that was killed
 * before its end leaves nothing that a later run does not drop.
 */
const namePattern = /^oddsgate_test_t(\d+)_[0-9a-f]+_/;
const abandonedAfterSeconds = 6 * 3600;

/** Builds every shape on PGlite, and on PostgreSQL when `postgresUrl` is set; `remove` deletes them and every copy. */
export async function buildTemplates(postgresUrl: string | undefined): Promise<{ templates: Templates; remove(): Promise<void> }> {
  await removeAbandonedDumps();
  const dir = await mkdtemp(path.join(tmpdir(), dumpDirPrefix));
  const runPrefix = `oddsgate_test_t${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}_`;
  const names: Record<DatabaseShape, string> = {
    empty: 'template1',
    migrated: `${runPrefix}migrated`,
    seeded: `${runPrefix}seeded`,
    'seeded-small': `${runPrefix}seeded_small`,
  };
  const remove = async () => {
    if (postgresUrl) await dropDatabases(postgresUrl, (name) => name.startsWith(runPrefix));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [pglite] = await Promise.all([
      buildPGliteTemplates(dir),
      postgresUrl && dropDatabases(postgresUrl, abandoned).then(() => buildPostgresTemplates(postgresUrl, names)),
    ]);
    return { templates: { pglite, postgres: postgresUrl ? { templates: names, runPrefix } : undefined }, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

const dumpDirPrefix = 'oddsgate-test-templates-';

/** Dump directories (about 120 MB each) of runs killed before their end, as abandoned databases are dropped. */
async function removeAbandonedDumps(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(dumpDirPrefix)) continue;
    const dir = path.join(tmpdir(), name);
    const modified = await stat(dir).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - modified > abandonedAfterSeconds * 1000) await rm(dir, { recursive: true, force: true });
  }
}

function abandoned(name: string): boolean {
  const started = namePattern.exec(name)?.[1];
  return started !== undefined && Date.now() / 1000 - Number(started) > abandonedAfterSeconds;
}

async function dropDatabases(postgresUrl: string, which: (name: string) => boolean): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'oddsgate\\_test\\_t%'`);
    for (const { datname } of rows.filter((row) => which(row.datname))) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** One PGlite, dumped at each step: empty, migrated, seeded-small, seeded. */
async function buildPGliteTemplates(dir: string): Promise<Record<DatabaseShape, string>> {
  const pglite = await emptyPGlite();
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
    // Each seed replaces what the one before wrote.
    await seedDatabase(db, seededShapes['seeded-small']);
    const small = await dump('seeded-small');
    await seedDatabase(db, seededShapes.seeded);
    return { empty, migrated, 'seeded-small': small, seeded: await dump('seeded') };
  } finally {
    await db.close();
  }
}

// 1 MiB WAL segments (16 MiB by default), and no spare ones kept: the seeded dump every copy loads
// shrinks from 61 MB to 38 MB, and a copy costs 0.62 s of CPU instead of 0.84 s.
const initDbStartParams = ['--wal-segsize=1'];
const templateStartParams = [...PGlite.defaultStartParams, '-c', 'min_wal_size=2MB'];

/**
 * A PGlite as initdb leaves it, without template0 and template1: a copy needs only the database the gateway
 * connects to (postgres), and without them (half of a dump's files and bytes) it loads in 25% less CPU; nothing
 * creates a database in PGlite. initdb costs 5 s of CPU and depends on nothing but PGlite's version and these
 * options, so its result is kept in the system's temporary directory for later runs, named after both.
 */
async function emptyPGlite(): Promise<PGlite> {
  const pglitePackage = path.join(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(await readFile(pglitePackage, 'utf8')) as { version: string };
  const key = createHash('sha256').update(JSON.stringify({ version, initDbStartParams, templates: 'dropped' })).digest('hex').slice(0, 16);
  const kept = path.join(tmpdir(), 'oddsgate-test-pglite-initdb', `${key}.tar`);
  const dataDir = await readFile(kept).catch(() => undefined);
  if (dataDir) return PGlite.create({ dataDir: 'memory://', loadDataDir: new Blob([dataDir]), startParams: templateStartParams });

  const pglite = await PGlite.create({ dataDir: 'memory://', initDbStartParams, startParams: templateStartParams });
  for (const template of ['template0', 'template1']) {
    await pglite.exec(`ALTER DATABASE ${template} IS_TEMPLATE false`);
    await pglite.exec(`DROP DATABASE ${template}`);
  }
  await pglite.exec('CHECKPOINT');
  // Written aside and renamed into place: a run that reads it at the same moment sees all of it or nothing.
  await mkdir(path.dirname(kept), { recursive: true });
  const partial = `${kept}.${process.pid}`;
  await writeFile(partial, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
  await rename(partial, kept);
  return pglite;
}

async function buildPostgresTemplates(postgresUrl: string, names: Record<DatabaseShape, string>): Promise<void> {
  const build = async (name: string, from: string, fill: (db: Database) => Promise<unknown>) => {
    await adminQuery(postgresUrl, `CREATE DATABASE ${name} TEMPLATE ${from}`);
    const db = await openDatabase({ databaseUrl: withDatabase(postgresUrl, name), pgliteDataDir: 'unused', databasePoolSize: 2, ...noSessionTimeouts });
    try {
      await fill(db);
    } finally {
      // A template with a session open cannot be copied.
      await db.close();
    }
  };
  await build(names.migrated, names.empty, applyMigrations);
  await Promise.all(
    (['seeded', 'seeded-small'] as const).map((shape) => build(names[shape], names.migrated, (db) => seedDatabase(db, seededShapes[shape]))),
  );
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
