import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { pgliteDatabase } from '../../src/db/pglite-database.js';
import { adminQuery, noSessionTimeouts, withDatabase, type DatabaseShape } from './templates.js';

export { seededShapes, type DatabaseShape, type SeededShape } from './templates.js';

/**
 * Database tests run on embedded PGlite always, and on real PostgreSQL too
 * when TEST_DATABASE_URL names a server (CI sets it and requires it: see
 * test/support/global-setup.ts). Each test database is a new copy of a
 * template the run built once (test/support/templates.ts).
 */
export type DatabaseKind = 'pglite' | 'postgres';

export const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

export const databaseKinds: DatabaseKind[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

/**
 * The database of a test that is not about storage (the API, the live side, ingest, hardening...): PostgreSQL
 * when the run has one, as production does, else PGlite. A PostgreSQL copy costs the server 0.05 s of CPU;
 * a PGlite copy costs the test's process 0.4 s, and every query after it runs in WebAssembly in that process.
 * Storage itself is tested on every kind (`databaseKinds`).
 */
export const anyKind: DatabaseKind = postgresUrl ? 'postgres' : 'pglite';

export interface TestDatabase {
  db: Database;
  /** The URL of the throwaway PostgreSQL database, for processes started by the test. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** A new database of its own holding `shape`: an in-memory PGlite, or a PostgreSQL database dropped by `drop`. */
export async function createTestDatabase(
  kind: DatabaseKind,
  shape: DatabaseShape,
  options: { onStatement?: (sql: string) => void } = {},
): Promise<TestDatabase> {
  const templates = inject('templates');
  if (kind === 'pglite') {
    const pglite = await PGlite.create({
      dataDir: 'memory://',
      loadDataDir: await dump(templates.pglite[shape]),
      // PostgreSQL's share/ files, which PGlite reads from its package on every start otherwise.
      fsBundle: await dump(pgliteBundle),
      // 16 MB of buffers hold a test's data (128 MB by default): a copy starts in 0.48 s of CPU instead of 0.62 s.
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    });
    const db = pgliteDatabase(pglite, 'memory://');
    return { db, url: undefined, drop: () => db.close() };
  }
  if (!postgresUrl || !templates.postgres) throw new Error('PostgreSQL tests need TEST_DATABASE_URL');
  const name = `${templates.postgres.runPrefix}${randomBytes(6).toString('hex')}`;
  await adminQuery(postgresUrl, `CREATE DATABASE ${name} TEMPLATE ${templates.postgres.templates[shape]}`);
  const url = withDatabase(postgresUrl, name);
  const db = await openDatabase({ databaseUrl: url, pgliteDataDir: 'unused', databasePoolSize: 4, ...noSessionTimeouts, onStatement: options.onStatement });
  return {
    db,
    url,
    async drop() {
      await db.close();
      // Not awaited: DROP DATABASE checkpoints the whole server (most of a second while other runs write),
      // and nothing waits for it. The run's end drops whatever copy is left (test/support/templates.ts).
      adminQuery(postgresUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    },
  };
}

const pgliteBundle = path.join(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), 'pglite.data');
const dumps = new Map<string, Promise<Blob>>();

/** A file (a template's dump, PGlite's bundle), read once per vitest worker: it runs many test files, and some want a copy per test. */
function dump(file: string): Promise<Blob> {
  let blob = dumps.get(file);
  if (!blob) {
    blob = readFile(file).then((bytes) => new Blob([bytes]));
    dumps.set(file, blob);
  }
  return blob;
}
