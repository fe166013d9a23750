import type { PrismaClient } from '../generated/prisma/client.js';

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
   * On PostgreSQL each distinct text is a named prepared statement on every connection that runs it, so give
   * it a fixed text with values as parameters, never values written into the text.
   */
  readonly query: RowQuery;
  /** Lends one connection for the duration of `work` (migrations need one session for their lock). */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
