import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import lockfile from 'proper-lockfile';
import { ConfigError } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Database, RowQuery, SqlSession } from './database-types.js';

/** The embedded database (`openDatabase` without a URL): PGlite in a data directory of its own, or in memory. */
export async function openPGlite(dataDir: string): Promise<Database> {
  if (dataDir.includes('://')) return pgliteDatabase(await PGlite.create(dataDir), dataDir);
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  try {
    const db = pgliteDatabase(await PGlite.create(dataDir), dataDir);
    return {
      ...db,
      async close() {
        await db.close();
        await unlock();
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory (a second `npm start`)
 * would corrupt it. The lock is `<dataDir>.lock`, refreshed while held; one left by a killed process is
 * taken over once it is 10 s old.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      stale: 10_000,
      onCompromised: (error) => console.error(`the lock on the embedded database at ${dataDir} was lost: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new ConfigError(
      `the embedded database at ${dataDir} is in use by another process (another oddsgate?): stop it, or set PGLITE_DATA_DIR or DATABASE_URL (a lock left by a killed process expires within 10 s)`,
    );
  }
}

/**
 * A Database over a PGlite the caller created: tests start theirs from a dumped
 * data directory (`loadDataDir`), built once per run instead of once per test.
 * `close` closes the PGlite too.
 */
export function pgliteDatabase(pglite: PGlite, location: string): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const query: RowQuery = async (sql, params) => (await pglite.query(sql, params)).rows as never;
  // PGlite is a single connection: every session is the same one.
  const session: SqlSession = {
    exec: async (script) => {
      await pglite.exec(script);
    },
    query,
    // PGlite reads COPY's input from a blob it names /dev/blob.
    copyIn: async (target, lines) => {
      await pglite.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob(lines as string[]) });
    },
  };
  return {
    kind: 'pglite',
    location,
    prisma,
    query,
    withSession: (work) => work(session),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
