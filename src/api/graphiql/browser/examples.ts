/** A tab GraphiQL opens (its `defaultTabs`): plain text, so the examples can be checked against the schema in Node.js too. */
export interface ExampleTab {
  query: string;
  variables?: string;
}

/** An event on the board that has odds (and so history), for the examples; undefined if none or unreachable. */
export async function exampleEventId(): Promise<string | undefined> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ events(first: 1, filter: { hasOdds: true }) { nodes { id } } }' }),
    });
    const body = (await response.json()) as { data?: { events: { nodes: Array<{ id: string }> } } };
    return body.data?.events.nodes[0]?.id;
  } catch {
    return undefined;
  }
}

/**
 * The operations a first visit opens as tabs (GraphiQL keeps the user's own
 * tabs in localStorage after that), about `eventId`: an event on the board
 * with odds, so its history is not empty and its live odds move at a pace
 * one can read. Lines stay short: the editor pane is narrow.
 */
export const exampleTabs = (eventId = '1'): ExampleTab[] => [
  {
    query: `# The board: upcoming events, every bookmaker's
# latest prices. Run with ▶ or Ctrl/Cmd+Enter.
# Page on with after: endCursor, or back
# with last/before: startCursor.
query Board {
  events(first: 20, filter: { hasOdds: true }) {
    totalCount
    pageInfo {
      hasNextPage endCursor
      hasPreviousPage startCursor
    }
    nodes {
      id home away kickoffAt status
      competition { name country }
      bestPrices(market: "1x2") {
        outcome price bookmaker { key }
      }
      odds {
        id
        bookmaker { key name }
        capturedAt
        markets(keys: ["1x2", "over_under"]) {
          id key line margin
          outcomes { id key price previousPrice }
        }
      }
    }
  }
}
`,
  },
  {
    query: `# One event's odds movement, newest first
# (event ids come from the board). With
# market, only snapshots that hold it.
query OddsMovement(
  $eventId: ID!
  $bookmaker: String
  $market: String
) {
  event(id: $eventId) { id home away kickoffAt }
  oddsHistory(
    eventId: $eventId
    bookmaker: $bookmaker
    market: $market
    first: 20
  ) {
    capturedAt
    bookmaker { key }
    markets {
      key line margin
      outcomes { key price previousPrice }
    }
  }
}
`,
    variables: JSON.stringify({ eventId, bookmaker: 'northbet', market: '1x2' }, null, 2),
  },
  {
    query: `# Live odds over the WebSocket (graphql-ws):
# one update per (event, bookmaker) change
# that moved a market in $markets. Empty the
# variables for every event; ■ stops.
# Each update has a cursor: set $after to the
# last one (or to a query's oddsCursor) and run
# again to get every change since, then live.
subscription LiveOdds(
  $eventIds: [ID!]
  $bookmakers: [String!]
  $markets: [String!]
  $after: String
) {
  oddsUpdated(
    eventIds: $eventIds
    bookmakers: $bookmakers
    markets: $markets
    after: $after
  ) {
    cursor
    event { id home away }
    snapshot {
      id
      bookmaker { key }
      capturedAt
      markets(keys: $markets) {
        id key margin
        outcomes { id key price previousPrice }
      }
    }
  }
}
`,
    variables: JSON.stringify({ eventIds: [eventId], markets: ['1x2'] }, null, 2),
  },
  {
    query: `# The same updates several per message, for
# screens that follow many prices: each message
# holds everything waiting for you (at most 500),
# the newest per (event, bookmaker), in log order.
# Resume with $after = the last update's cursor.
subscription LiveOddsBatches($after: String) {
  oddsUpdatedBatch(after: $after) {
    cursor
    event { id home away }
    snapshot {
      id
      bookmaker { key }
      capturedAt
      markets(keys: ["1x2"]) {
        id key
        outcomes { id key price }
      }
    }
  }
}
`,
    variables: JSON.stringify({ after: null }, null, 2),
  },
  {
    query: `# Events in play: score, match clock, and each
# market's status (SUSPENDED around goals: the last
# prices stay visible; SETTLED markets carry results).
query InPlay {
  events(first: 10, filter: { status: [LIVE] }) {
    nodes {
      id home away status
      score { home away }
      clock { period minute }
      odds {
        bookmaker { key }
        markets(keys: ["1x2", "over_under"]) {
          key line status
          outcomes { key price result }
        }
      }
    }
  }
}
`,
  },
  {
    query: `# Kick-offs, goals, the match clock and the final
# whistle, as they happen. To resume after a reconnect
# without missing a goal, subscribe again with
# after: the last cursor received.
subscription Lifecycle($eventIds: [ID!], $after: String) {
  eventUpdates(eventIds: $eventIds, after: $after) {
    cursor
    event {
      id home away status
      score { home away }
      clock { period minute }
    }
  }
}
`,
  },
];
