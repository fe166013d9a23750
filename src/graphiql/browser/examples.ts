import type { GraphiQLProps } from 'graphiql';

/** The operations a first visit opens as tabs (GraphiQL keeps the user's own tabs after that). */
export const exampleTabs: NonNullable<GraphiQLProps['defaultTabs']> = [
  {
    query: `# The board: upcoming events with every bookmaker's latest markets.
# Run it with the play button (or Ctrl/Cmd+Enter); the explorer (left) builds queries by clicking.
query Board {
  events(first: 20, filter: { hasOdds: true }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id home away kickoffAt status
      competition { name country sport { key } }
      bestPrices(market: "1x2") { outcome price bookmaker { key } }
      odds {
        bookmaker { key name }
        capturedAt
        markets(keys: ["1x2", "over_under"]) { key line margin outcomes { key price previousPrice } }
      }
    }
  }
}
`,
  },
  {
    query: `# One event's odds movement: its snapshots, newest first (ids come from the board).
query OddsMovement($eventId: ID!, $bookmaker: String, $market: String) {
  event(id: $eventId) { id home away kickoffAt }
  oddsHistory(eventId: $eventId, bookmaker: $bookmaker, market: $market, first: 20) {
    capturedAt
    bookmaker { key }
    markets { key line margin outcomes { key price previousPrice } }
  }
}
`,
    variables: JSON.stringify({ eventId: '1', bookmaker: 'northbet', market: '1x2' }, null, 2),
  },
  {
    query: `# Live odds over the WebSocket (graphql-ws): each update is one (event, bookmaker)
# snapshot as the ingest worker stores it. Narrow it with eventIds / bookmakers.
subscription LiveOdds($eventIds: [ID!], $bookmakers: [String!]) {
  oddsUpdated(eventIds: $eventIds, bookmakers: $bookmakers) {
    event { id home away }
    snapshot {
      bookmaker { key }
      capturedAt
      markets(keys: ["1x2"]) { key margin outcomes { key price previousPrice } }
    }
  }
}
`,
  },
];
