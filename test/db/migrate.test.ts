import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrate.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

/** The migrations the project ships, in the order they apply. */
const shipped = (await readdir(defaultMigrationsDir, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe.each(databaseKinds)('migrations on %s', (kind) => {
  let test: TestDatabase;
  let migrationsDir: string;
  beforeEach(async () => {
    test = await createTestDatabase(kind, 'empty');
    migrationsDir = await mkdtemp(path.join(tmpdir(), 'oddsgate-migrations-'));
    await cp(defaultMigrationsDir, migrationsDir, { recursive: true });
  });
  afterEach(async () => {
    await test.drop();
    await rm(migrationsDir, { recursive: true, force: true });
  });

  it('applies every migration to an empty database and records it as prisma migrate deploy would', async () => {
    const result = await applyMigrations(test.db, migrationsDir);
    expect(result.applied).toEqual(shipped);

    const checksums = await Promise.all(
      shipped.map(async (name) => createHash('sha256').update(await readFile(path.join(migrationsDir, name, 'migration.sql'))).digest('hex')),
    );
    const rows = await test.db.withSession((s) =>
      s.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
      ),
    );
    expect(rows).toEqual(
      shipped.map((name, i) => ({
        migration_name: name,
        checksum: checksums[i],
        finished_at: expect.any(Date),
        applied_steps_count: 1,
      })),
    );
    expect(await test.db.prisma.event.count()).toBe(0);
  });

  it('applies nothing the second time', async () => {
    await applyMigrations(test.db, migrationsDir);
    const again = await applyMigrations(test.db, migrationsDir);
    expect(again).toEqual({ applied: [], alreadyApplied: shipped });
  });

  it('applies only a migration added since the last run', async () => {
    await applyMigrations(test.db, migrationsDir);
    await addMigration(migrationsDir, '29991231000000_add_venue', 'ALTER TABLE "event" ADD COLUMN "venue" TEXT;');
    const result = await applyMigrations(test.db, migrationsDir);
    expect(result.applied).toEqual(['29991231000000_add_venue']);
  });

  it('refuses a migration edited after it was applied', async () => {
    await applyMigrations(test.db, migrationsDir);
    const file = path.join(migrationsDir, '20261122000000_init', 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
    await expect(applyMigrations(test.db, migrationsDir)).rejects.toThrow(
      /20261122000000_init was changed after it was applied/,
    );
  });

  it('rolls back a failing migration whole and records nothing for it', async () => {
    await applyMigrations(test.db, migrationsDir);
    await addMigration(
      migrationsDir,
      '29991231000000_broken',
      'ALTER TABLE "event" ADD COLUMN "venue" TEXT;\nALTER TABLE "no_such_table" ADD COLUMN "x" TEXT;',
    );
    await expect(applyMigrations(test.db, migrationsDir)).rejects.toThrow(/29991231000000_broken failed and was rolled back/);
    const columns = await test.db.withSession((s) =>
      s.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'event' AND column_name = 'venue'`),
    );
    expect(columns).toEqual([]);
    const recorded = await test.db.withSession((s) =>
      s.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name'),
    );
    expect(recorded.map((r) => r.migration_name)).toEqual(shipped);
  });
});

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}
