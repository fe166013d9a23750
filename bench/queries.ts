import { boardQuery } from '../test/graphql/queries.js';

/** The hot board: the test suite's frontend shape (every bookmaker's markets and outcomes), 50 events. */
export const hotBoardBody = JSON.stringify({ query: boardQuery, variables: { first: 50 } });

/** One event's page: its current odds from every bookmaker and its last 20 snapshots of history. */
export const eventDetailQuery = /* GraphQL */ `
  query Detail($id: ID!) {
    event(id: $id) {
      id home away kickoffAt status
      competition { name country }
      odds { capturedAt bookmaker { key name } markets { key line margin outcomes { key price previousPrice } } }
      bestPrices { market line outcome price bookmaker { key } }
    }
    oddsHistory(eventId: $id, first: 20) {
      capturedAt bookmaker { key }
      markets { key line margin outcomes { key price previousPrice } }
    }
  }
`;

/** One event's history, first 20 snapshots: the storage issue's read (bench/storage.ts, bench/cpu.ts). */
export const historyQuery = /* GraphQL */ `
  query History($id: ID!) {
    oddsHistory(eventId: $id, first: 20) {
      id capturedAt bookmaker { key }
      markets { key line margin outcomes { key price previousPrice } }
    }
  }
`;
/** One event's current odds: a miss when the cache is off (bench/storage.ts). */
export const eventOddsQuery = /* GraphQL */ `
  query Detail($id: ID!) {
    event(id: $id) { id home away status odds { id capturedAt bookmaker { key } markets { key line margin outcomes { key price previousPrice } } } }
  }
`;

export const boardIdsQuery = /* GraphQL */ `
  query BoardIds($after: String) {
    events(first: 200, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } }
  }
`;

/** A trader's screen (the README's): odds of some events, `$eventIds` null for every event. */
export const traderOddsSubscription = /* GraphQL */ `
  subscription Odds($eventIds: [ID!]) {
    oddsUpdated(eventIds: $eventIds) {
      publishedAt
      event { id home away }
      snapshot { bookmaker { key } capturedAt markets(keys: ["1x2", "moneyline"]) { key margin outcomes { key price previousPrice } } }
    }
  }
`;

/** The same screen on `oddsUpdatedBatch`: several updates per message. */
export const traderOddsBatchSubscription = traderOddsSubscription.replace('oddsUpdated(', 'oddsUpdatedBatch(');
