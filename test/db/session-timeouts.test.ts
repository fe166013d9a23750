import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';

/** PostgreSQL's own timeouts, on a real server (PGlite has no timers to enforce them). */
describe.skipIf(!postgresUrl)('PostgreSQL session timeouts (DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS)', () => {
  let test: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'migrated');
    db = await openDatabase({
      databaseUrl: test.url,
      pgliteDataDir: 'unused',
      databasePoolSize: 2,
      databaseStatementTimeoutMs: 300,
      databaseIdleInTransactionTimeoutMs: 400,
    });
  });
  afterAll(async () => {
    await db?.close();
    await test?.drop();
  });

  it('sets both timeouts on every connection of the pool', async () => {
    // Both sessions held at once, so the pool had to open both of its connections.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sessions: Array<Record<string, string>> = [];
    const lent = [1, 2].map(() =>
      db.withSession(async (session) => {
        sessions.push(await settingsOf(session));
        await held;
      }),
    );
    await vi.waitUntil(() => sessions.length === 2);
    release();
    await Promise.all(lent);
    expect(new Set(sessions.map((s) => s.pid)).size).toBe(2);
    for (const session of sessions) expect(session).toMatchObject({ statement_timeout: '300ms', idle_in_transaction_session_timeout: '400ms' });
    const [viaPrisma] = await db.prisma.$queryRawUnsafe<Array<{ statement_timeout: string }>>('SHOW statement_timeout');
    expect(viaPrisma!.statement_timeout).toBe('300ms');
  });

  it('cancels a statement that runs past the timeout with an error that says so, and keeps serving', async () => {
    await expect(db.prisma.$queryRawUnsafe('SELECT pg_sleep(3)')).rejects.toThrow(/canceling statement due to statement timeout/);
    await expect(db.withSession((session) => session.query('SELECT pg_sleep(3)'))).rejects.toThrow(/canceling statement due to statement timeout/);
    expect(await db.prisma.sport.count()).toBe(0);
  });

  it('ends a session left idle inside a transaction, releasing what it held', async () => {
    await expect(
      db.withSession(async (session) => {
        await session.exec('BEGIN');
        await session.exec('LOCK TABLE sport IN ACCESS EXCLUSIVE MODE');
        const [{ pid }] = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
        await vi.waitUntil(async () => !(await backendAlive(test.url!, pid)), { timeout: 10_000, interval: 50 });
        await session.exec('COMMIT');
      }),
    ).rejects.toThrow(/terminating connection due to idle-in-transaction timeout/);
    // The lock went with the session.
    expect(await db.prisma.sport.count()).toBe(0);
  });

  it('lifts the statement timeout for migrations, which may wait for a lock or rewrite a large table, and restores it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-migrations-'));
    try {
      await mkdir(path.join(dir, '20990101000000_slow'));
      await writeFile(path.join(dir, '20990101000000_slow', 'migration.sql'), 'SELECT pg_sleep(0.6);');
      const single = await openDatabase({ databaseUrl: test.url, pgliteDataDir: 'unused', databasePoolSize: 1, databaseStatementTimeoutMs: 300 });
      try {
        expect((await applyMigrations(single, dir)).applied).toEqual(['20990101000000_slow']);
        // The pool's one connection, back from the migrator, has its timeout again.
        expect(await single.withSession(settingsOf)).toMatchObject({ statement_timeout: '300ms' });
      } finally {
        await single.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function settingsOf(session: { query<Row>(sql: string): Promise<Row[]> }): Promise<Record<string, string>> {
  const [row] = await session.query<Record<string, string>>(
    `SELECT pg_backend_pid()::text AS pid, current_setting('statement_timeout') AS statement_timeout,
            current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout`,
  );
  return row!;
}

async function backendAlive(url: string, pid: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1;
  } finally {
    await client.end();
  }
}
