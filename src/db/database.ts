import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { LRUCache } from 'lru-cache';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Database } from './database-types.js';

// The types live apart, so that the embedded database's module (loaded only when used) names them without this one.
export type { Database, RowQuery, SqlSession } from './database-types.js';

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
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  // Loaded only for the embedded database: its modules take about 12 MiB a process that uses PostgreSQL never needs.
  const { openPGlite } = await import('./pglite-database.js');
  return openPGlite(options.pgliteDataDir);
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
  const named = namedStatements();
  const location = new URL(databaseUrl);
  location.password = '';
  return {
    kind: 'postgres',
    location: location.toString(),
    prisma,
    query: async (sql, params) => (await pool.query({ name: named(sql), text: sql, values: params ?? [] })).rows,
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

/**
 * A statement name per text, for `Database.query`: a named statement is parsed and planned once per connection,
 * where an unnamed one is parsed again on every call (about 30 % of PostgreSQL's CPU on history pages, bench/storage.ts).
 * The name is a digest of the text, so one name never stands for two texts (pg refuses that); the map only
 * spares hashing the same text again.
 */
function namedStatements(): (sql: string) => string {
  const names = new LRUCache<string, string>({ max: 1_000 });
  return (sql) => {
    let name = names.get(sql);
    if (name === undefined) {
      name = `oddsgate_${createHash('sha1').update(sql).digest('hex')}`;
      names.set(sql, name);
    }
    return name;
  };
}

