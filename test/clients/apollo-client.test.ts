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
// The README's race-free flow: the board with the place in the log it reflects, then every change after it.
const BOARD_AT = gql`
  query BoardAt {
    oddsCursor
    events(first: 20) { nodes { id odds { id capturedAt markets { id outcomes { id price } } } } }
  }
`;
const LIVE_AFTER = gql`
  subscription LiveAfter($after: String) {
    oddsUpdated(after: $after) { cursor snapshot { id capturedAt markets { id outcomes { id price } } } }
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

  it('queries the board and its oddsCursor, then subscribes after it: no change committed in between falls through', async () => {
    const positions = async () => (await gw.test.db.prisma.changeLog.aggregate({ _max: { position: true } }))._max.position ?? 0n;
    const grows = async (count: number) => {
      const from = await positions();
      await expect.poll(positions, { timeout: 20_000 }).toBeGreaterThanOrEqual(from + BigInt(count));
    };
    worker.start();
    const { data } = await client.query<{ oddsCursor: string; events: BoardData['events'] }>({ query: BOARD_AT, fetchPolicy: 'network-only' });
    // Prices that moved after the answer, before the subscription exists: only the replay from the cursor brings them.
    await grows(3);
    await worker.stop();
    let received = 0;
    subscriptions.push(client.subscribe({ query: LIVE_AFTER, variables: { after: data!.oddsCursor } }).subscribe(() => received++));

    // What the cache shows for every (event, bookmaker) on the board is the database's latest snapshot.
    const shown = () => client.readQuery<{ events: BoardData['events'] }>({ query: BOARD_AT })!.events.nodes.flatMap((e) => e.odds.map((o) => [o.id, o.capturedAt]));
    const latest = await gw.test.db.prisma.latestOdds.findMany({ where: { eventId: { in: data!.events.nodes.map((e) => Number(e.id)) } } });
    const truth = new Map(latest.map((row) => [`${row.eventId}:${row.bookmakerId}`, row.capturedAt.toISOString()]));
    const stale = () => shown().filter(([id, capturedAt]) => truth.get(id!) !== capturedAt);
    await expect.poll(stale, { timeout: 20_000 }).toEqual([]);
    expect(received).toBeGreaterThan(0);
    expect(shown().length).toBeGreaterThan(0);
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
