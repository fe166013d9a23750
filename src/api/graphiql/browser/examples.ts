import type { GraphiQLProps } from 'graphiql';

/**
 * The operations a first visit opens as tabs (GraphiQL keeps the user's own
 * tabs in localStorage after that). Lines stay short: the editor pane is narrow.
 */
export const exampleTabs: NonNullable<GraphiQLProps['defaultTabs']> = [
  {
    query: `# The board: upcoming events, every bookmaker's
# latest prices. Run with ▶ or Ctrl/Cmd+Enter.
query Board {
  events(first: 20, filter: { hasOdds: true }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id home away kickoffAt status
      competition { name country }
      bestPrices(market: "1x2") {
        outcome price bookmaker { key }
      }
      odds {
        bookmaker { key name }
        capturedAt
        markets(keys: ["1x2", "over_under"]) {
          key line margin
          outcomes { key price previousPrice }
        }
      }
    }
  }
}
`,
  },
  {
    query: `# One event's odds movement, newest first
# (event ids come from the board).
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
    variables: JSON.stringify({ eventId: '1', bookmaker: 'northbet', market: '1x2' }, null, 2),
  },
  {
    query: `# Live odds over the WebSocket (graphql-ws): one
# update per (event, bookmaker) snapshot stored.
# Set eventIds / bookmakers to narrow it; ■ stops.
subscription LiveOdds(
  $eventIds: [ID!]
  $bookmakers: [String!]
) {
  oddsUpdated(
    eventIds: $eventIds
    bookmakers: $bookmakers
  ) {
    event { id home away }
    snapshot {
      bookmaker { key }
      capturedAt
      markets(keys: ["1x2"]) {
        key margin
        outcomes { key price previousPrice }
      }
    }
  }
}
`,
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
# whistle, as they happen.
subscription Lifecycle($eventIds: [ID!]) {
  eventUpdated(eventIds: $eventIds) {
    id home away status
    score { home away }
    clock { period minute }
  }
}
`,
  },
];
