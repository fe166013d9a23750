import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

// The README's board query and live subscription, as a frontend would paste them.
const BOARD = gql`
  query Board {
    events(first: 20) {
      nodes {
        id
        home
        away
        odds {
          id
          bookmaker { id key }
          capturedAt
          markets(keys: ["1x2", "over_under"]) { id key line outcomes { id key price } }
        }
      }
    }
  }
`;
const LIVE = gql`
  subscription Live {
    oddsUpdated {
      event { id }
      snapshot {
        id
        bookmaker { id key }
        capturedAt
        markets { id key line outcomes { id key price } }
      }
    }
  }
`;
const HISTORY = gql`
  query History($eventId: ID!) {
    oddsHistory(eventId: $eventId, first: 50) { id capturedAt markets { id key line outcomes { id key price } } }
  }
`;

interface Snapshot {
  id: string;
  bookmaker: { key: string };
  capturedAt: string;
  markets: Array<{ id: string; key: string; line: number | null; outcomes: Array<{ id: string; key: string; price: number }> }>;
}
interface BoardData {
  events: { nodes: Array<{ id: string; odds: Snapshot[] }> };
}
interface LiveData {
  oddsUpdated: { event: { id: string }; snapshot: Snapshot };
}

/**
 * The real `@apollo/client` with its default InMemoryCache (no type
 * policies, no merge functions) against a running gateway: the split link
 * the README shows (HTTP for queries, graphql-ws for subscriptions).
 */
describe('Apollo Client with a default InMemoryCache', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  let client: ApolloClient;
  let httpRequests = 0;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
    worker = gw.simulatedWorker({ changesPerSecond: 100 }, { intervalMs: 100 });
    const ws = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const http = new HttpLink({
      uri: `${gw.gateway.url}/graphql`,
      fetch: (input, init) => {
        httpRequests++;
        return fetch(input, init);
      },
    });
    const isSubscription = ({ query }: ApolloLink.Operation) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    };
    client = new ApolloClient({ cache: new InMemoryCache(), link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), http) });
  });
  afterAll(async () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await worker?.stop();
    client?.stop();
    await gw?.close();
  });

  it('updates a watched board in place when oddsUpdated brings a new snapshot: no refetch, no merge code', async () => {
    const boards: BoardData[] = [];
    subscriptions.push(client.watchQuery<BoardData>({ query: BOARD }).subscribe(({ data, dataState }) => dataState === 'complete' && boards.push(data as BoardData)));
    await expect.poll(() => boards.length).toBe(1);
    const onBoard = new Set(boards[0]!.events.nodes.map((e) => e.id));
    const requestsForBoard = httpRequests;

    const updates: LiveData['oddsUpdated'][] = [];
    const live = client.subscribe<LiveData>({ query: LIVE }).subscribe(({ data }) => {
      if (data && onBoard.has(data.oddsUpdated.event.id)) updates.push(data.oddsUpdated);
    });
    worker.start();
    await expect.poll(() => updates.length, { timeout: 20_000 }).toBeGreaterThan(0);
    // Nothing more reaches the cache: what the board shows is now checked against the last update it got.
    live.unsubscribe();
    await worker.stop();

    // The board the component shows now holds the pushed snapshot's prices.
    const update = updates.at(-1)!;
    const shown = () =>
      boards
        .at(-1)!
        .events.nodes.find((e) => e.id === update.event.id)!
        .odds.find((odds) => odds.id === update.snapshot.id);
    await expect.poll(() => shown()?.capturedAt).toBe(update.snapshot.capturedAt);
    const pushed = update.snapshot.markets.filter((m) => m.key === '1x2' || m.key === 'over_under');
    for (const market of shown()!.markets) {
      const from = pushed.find((m) => m.id === market.id);
      if (from) expect(market.outcomes.map((o) => o.price)).toEqual(from.outcomes.map((o) => o.price));
    }
    expect(boards.length).toBeGreaterThan(1);
    // The same data read straight from the cache, and not one more HTTP request.
    const cached = client.readQuery<BoardData>({ query: BOARD })!;
    expect(cached.events.nodes.find((e) => e.id === update.event.id)!.odds.find((o) => o.id === update.snapshot.id)!.capturedAt).toBe(
      update.snapshot.capturedAt,
    );
    expect(httpRequests).toBe(requestsForBoard);
  });

  it("keeps a history snapshot's markets apart from the current ones they share keys with", async () => {
    const board = client.readQuery<BoardData>({ query: BOARD })!;
    const event = board.events.nodes.find((e) => e.odds.length > 0)!;
    const { data } = await client.query<{ oddsHistory: Snapshot[] }>({ query: HISTORY, variables: { eventId: event.id } });
    expect(data!.oddsHistory.length).toBeGreaterThan(event.odds.length);
    const historyIds = new Set(data!.oddsHistory.flatMap((s) => [s.id, ...s.markets.map((m) => m.id)]));
    expect(event.odds.flatMap((s) => [s.id, ...s.markets.map((m) => m.id)]).filter((id) => historyIds.has(id))).toEqual([]);
    // Reading history changed nothing the board shows.
    expect(client.readQuery<BoardData>({ query: BOARD })).toEqual(board);
  });
});
