import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, SqlSession } from './database.js';

export const defaultMigrationsDir = path.resolve(import.meta.dirname, '../../prisma/migrations');

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies `prisma/migrations/<timestamp>_<name>/migration.sql` in name order,
 * each in its own transaction, and records them in `_prisma_migrations` exactly
 * as `prisma migrate deploy` does (same table, same sha256 checksum), so a
 * user with the Prisma CLI can take over. Safe to run concurrently: an
 * advisory lock serialises migrators, as Prisma's own does.
 */
export async function applyMigrations(
  db: Database,
  migrationsDir = defaultMigrationsDir,
): Promise<MigrationResult> {
  const migrations = await readMigrations(migrationsDir);
  return db.withSession(async (session) => {
    // Waiting for another migrator's lock, or a migration rewriting a large table, is no runaway
    // statement: DATABASE_STATEMENT_TIMEOUT_MS is lifted for this session and restored after.
    await session.exec('SET statement_timeout = 0');
    await session.query('SELECT pg_advisory_lock($1)', [migrationLockId]);
    try {
      await session.exec(createMigrationsTable);
      const recorded = new Map(
        (
          await session.query<RecordedMigration>(
            'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations',
          )
        ).map((row) => [row.migration_name, row]),
      );
      const result: MigrationResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const record = recorded.get(migration.name);
        if (record && !record.rolled_back_at) {
          checkRecorded(migration, record);
          result.alreadyApplied.push(migration.name);
          continue;
        }
        await applyOne(session, migration);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [migrationLockId]);
      await session.exec('RESET statement_timeout');
    }
  });
}

// Prisma's own lock key for `migrate deploy`, so our migrator and theirs
// never run at the same time against one database.
const migrationLockId = 72_707_369;

const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

interface RecordedMigration {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

function checkRecorded(migration: Migration, record: RecordedMigration): void {
  if (!record.finished_at) {
    throw new Error(
      `Migration ${migration.name} started but did not finish; inspect the database, then mark it rolled back in _prisma_migrations`,
    );
  }
  if (record.checksum !== migration.checksum) {
    throw new Error(
      `Migration ${migration.name} was changed after it was applied (checksum ${record.checksum}, file now ${migration.checksum}); add a new migration instead`,
    );
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    throw new Error(`Migration ${migration.name} failed and was rolled back: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
