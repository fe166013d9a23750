import { boardQuery, eventQuery, historyQuery } from '../graphql/queries.js';
import { startTestGateway } from './gateway.js';

/**
 * The GraphQL answers of a fixed seed (12 events x 3 bookmakers, three
 * snapshots each, a fixed "now"), read from the database (CACHE=off): the
 * board with every event's odds and best prices, one event's odds narrowed
 * by bookmaker and market, and history with each filter. A storage change
 * records these with the code before it (test/support/record-answers.ts) and
 * proves the code after it gives the same answers.
 */
export const answerSeed = { events: 12, bookmakers: 3, now: new Date('2026-11-20T12:00:00.000Z') };

export interface RecordedAnswer {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  response: unknown;
}

export async function recordAnswers(): Promise<RecordedAnswer[]> {
  const gateway = await startTestGateway({ kind: 'pglite', cache: false, ...answerSeed });
  try {
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
    const answers: RecordedAnswer[] = [];
    for (const operation of operations) {
      answers.push({ ...operation, response: await gateway.query(operation.query, operation.variables) });
    }
    return answers;
  } finally {
    await gateway.close();
  }
}
