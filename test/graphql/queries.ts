/** Operations the tests send, shaped like what a betting frontend asks for. */

export const boardQuery = /* GraphQL */ `
  query Board($first: Int, $after: String, $last: Int, $before: String, $filter: EventFilter) {
    events(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id externalId home away kickoffAt status
          sport { id key name }
          competition { id name country sport { key } }
          odds {
            id capturedAt
            bookmaker { id key name }
            markets { key name line margin outcomes { key name price previousPrice } }
          }
          bestPrices { market line outcome price bookmaker { key } }
        }
      }
    }
  }
`;

export const eventQuery = /* GraphQL */ `
  query Event($id: ID!, $bookmakers: [String!], $markets: [String!], $market: String) {
    event(id: $id) {
      id home away status
      odds(bookmakers: $bookmakers) { bookmaker { key } markets(keys: $markets) { key line margin outcomes { key price previousPrice } } }
      bestPrices(market: $market) { line outcome price bookmaker { key } }
    }
  }
`;

export const historyQuery = /* GraphQL */ `
  query History($eventId: ID!, $bookmaker: String, $market: String, $since: DateTime, $until: DateTime, $first: Int) {
    oddsHistory(eventId: $eventId, bookmaker: $bookmaker, market: $market, since: $since, until: $until, first: $first) {
      id capturedAt bookmaker { key }
      markets { key line margin outcomes { key price previousPrice } }
    }
  }
`;

export const referenceQuery = /* GraphQL */ `
  {
    sports { id key name }
    bookmakers { id key name }
    competitions { id name country sport { key } }
    football: competitions(sport: "football") { id name }
    nothing: competitions(sport: "curling") { id }
  }
`;
