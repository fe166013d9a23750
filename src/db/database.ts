import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import lockfile from 'proper-lockfile';
import { ConfigError } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';

/** A connection for statements Prisma does not model: migration scripts, locks. */
export interface SqlSession {
  /** Runs a script of one or more statements, without parameters. */
  exec(script: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query: RowQuery;
  /**
   * Loads `lines` (COPY's text format, each ending in a newline) with one `COPY table (columns) FROM STDIN`:
   * one statement for many rows, no per-row parse of an INSERT. `target` is `table (columns)`.
   */
  copyIn(target: string, lines: readonly string[]): Promise<void>;
}

/** One parameterised statement and its rows. */
export type RowQuery = <Row>(sql: string, params?: unknown[]) => Promise<Row[]>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** Where it lives, for logs: the URL without its password, or the PGlite directory. */
  readonly location: string;
  readonly prisma: PrismaClient;
  /**
   * Runs one parameterised statement on the driver itself, past Prisma: reads of many JSON documents, whose
   * rows the driver adapter decodes at about twice the CPU (src/db/odds-reader.ts). Not inside Prisma's transactions.
   */
  readonly query: RowQuery;
  /** Lends one connection for the duration of `work` (migrations need one session for their lock). */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it the database is embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database. */
  pgliteDataDir: string;
  /** Connections in the PostgreSQL pool (default 10). */
  databasePoolSize?: number;
  /**
   * PostgreSQL's `statement_timeout` on every connection, in ms (default 10 s; 0 = none): a statement running
   * longer is cancelled and fails with "canceling statement due to statement timeout" (SQLSTATE 57014).
   */
  databaseStatementTimeoutMs?: number;
  /**
   * PostgreSQL's `idle_in_transaction_session_timeout` on every connection, in ms (default 10 s; 0 = none): a
   * session idle inside a transaction for longer is ended, releasing its locks.
   */
  databaseIdleInTransactionTimeoutMs?: number;
  /** Called with each statement sent to PostgreSQL (not PGlite): for statement counts in tests and debugging. */
  onStatement?: (sql: string) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPGlite(options.pgliteDataDir);
}

function openPostgres(databaseUrl: string, options: DatabaseOptions): Database {
  const { onStatement } = options;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.databasePoolSize ?? 10,
    // Sent in each connection's startup packet (pg leaves a 0 out: the server's default, no limit), so every
    // session has them from its first statement, Prisma's and withSession's alike.
    statement_timeout: options.databaseStatementTimeoutMs ?? 10_000,
    idle_in_transaction_session_timeout: options.databaseIdleInTransactionTimeoutMs ?? 10_000,
  });
  if (onStatement) {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        const first = args[0];
        onStatement(typeof first === 'string' ? first : String((first as { text?: string }).text));
        return query(...args);
      }) as typeof client.query;
    });
  }
  // An idle client losing its connection (database restart) must not crash
  // the process: the pool drops it and the next query gets a fresh one.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const location = new URL(databaseUrl);
  location.password = '';
  return {
    kind: 'postgres',
    location: location.toString(),
    prisma,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    async withSession(work) {
      const client = await pool.connect();
      // A lent client has none of the pool's listeners: the server ending its session while no statement runs
      // (idle-in-transaction timeout, restart) would be an unhandled 'error' event, which ends the process.
      let lost: Error | undefined;
      const onError = (error: Error) => (lost ??= error);
      client.on('error', onError);
      try {
        return await work({
          exec: async (script) => {
            await client.query(script);
          },
          query: async (sql, params) => (await client.query(sql, params)).rows,
          copyIn: async (target, lines) => {
            await pipeline(Readable.from(lines), client.query(copyFrom(`COPY ${target} FROM STDIN`)));
          },
        });
      } catch (error) {
        // The next statement only learns the client "is not queryable"; the server said why.
        throw lost ?? error;
      } finally {
        client.off('error', onError);
        // A lost connection is destroyed, not lent again.
        client.release(lost);
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPGlite(dataDir: string): Promise<Database> {
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
