import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { startGateway } from '../../src/gateway.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { silentLogger } from '../../src/ops/log.js';
import { seedDatabase } from '../../src/seed/seed.js';
import { boardQuery, eventQuery, historyQuery } from '../graphql/queries.js';

/**
 * The GraphQL answers of a fixed seed (12 events x 3 bookmakers, three
 * snapshots each, a fixed "now"), read from the database (CACHE=off): the
 * board with every event's odds and best prices, one event's odds narrowed
 * by bookmaker and market, and history with each filter. A storage change
 * records these with the code before it (test/support/record-answers.ts) and
 * proves the code after it gives the same answers. Built from src/ alone (an
 * embedded database of its own, unless given a migrated one), so the same file
 * runs in vitest and in tsx on an older checkout.
 */
export const answerSeed = { events: 12, bookmakers: 3, now: new Date('2026-11-20T12:00:00.000Z') };

export interface RecordedAnswer {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  response: unknown;
}

const everything = { kickoffFrom: '2000-01-01T00:00:00.000Z' };
const operations: Array<Omit<RecordedAnswer, 'response'>> = [
  { name: 'board', query: boardQuery, variables: { first: 50, filter: everything } },
  { name: 'event narrowed', query: eventQuery, variables: { id: '3', bookmakers: ['northbet'], markets: ['1x2', 'over_under'], market: '1x2' } },
  { name: 'history', query: historyQuery, variables: { eventId: '5', first: 20 } },
  { name: 'history of one bookmaker', query: historyQuery, variables: { eventId: '5', bookmaker: 'northbet', first: 2 } },
  { name: 'history of one market', query: historyQuery, variables: { eventId: '7', market: 'over_under', first: 20 } },
  {
    name: 'history between',
    query: historyQuery,
    variables: { eventId: '9', since: '2026-11-19T00:00:00.000Z', until: '2026-11-20T06:00:00.000Z', first: 20 },
  },
];

/** The answers on `migrated` (a migrated, empty database, left open), or on a new embedded one. */
export async function recordAnswers(migrated?: Database): Promise<RecordedAnswer[]> {
  const db = migrated ?? (await openDatabase({ pgliteDataDir: 'memory://' }));
  try {
    if (!migrated) await applyMigrations(db);
    await seedDatabase(db, answerSeed);
    const config = { host: '127.0.0.1', port: 0, cache: false, cacheMaxBytes: 64 * 1024 * 1024 };
    const gateway = await startGateway({ bus: new InProcessOddsBus(), config, db, logger: silentLogger() });
    try {
      const answers: RecordedAnswer[] = [];
      for (const operation of operations) {
        const response = await fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: operation.query, variables: operation.variables }),
        });
        answers.push({ ...operation, response: await response.json() });
      }
      return answers;
    } finally {
      await gateway.close();
    }
  } finally {
    if (!migrated) await db.close();
  }
}
