import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { IngestWorker } from '../../src/ingest/worker.js';
import { silentLogger } from '../../src/ops/log.js';
import { databaseKinds } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { QueuedFeed } from '../support/queued-feed.js';

const result = (home: number) => ({
  key: '1x2',
  name: 'Match result',
  outcomes: [
    { key: 'home', name: 'Home', price: home },
    { key: 'draw', name: 'Draw', price: 3.3 },
    { key: 'away', name: 'Away', price: 3.6 },
  ],
});
const btts = (yes: number) => ({
  key: 'btts',
  name: 'Both teams to score',
  outcomes: [
    { key: 'yes', name: 'Yes', price: yes },
    { key: 'no', name: 'No', price: 1.95 },
  ],
});

interface Update {
  oddsUpdated: { snapshot: { capturedAt: string; markets: Array<{ key: string }> } };
}

describe.each(databaseKinds)('filtering by market never answers empty market lists, on %s', (kind) => {
  let gw: TestGateway;
  let feed: QueuedFeed;
  let worker: IngestWorker;
  let client: Client;
  let event: { id: string; externalId: string };
  const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const captured: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ kind, cache: true });
    feed = new QueuedFeed();
    worker = new IngestWorker({ prisma: gw.test.db.prisma, feed, bus: gw.bus, logger: silentLogger() });
    client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const board = await gw.query<{ data: { events: { nodes: Array<{ id: string; externalId: string }> } } }>(
      '{ events(first: 1, filter: { sport: "football", status: [SCHEDULED] }) { nodes { id externalId } } }',
    );
    event = board.data.events.nodes[0]!;
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  const subscribe = (args: string, into: Update[]) =>
    client.subscribe<Update>(
      { query: `subscription { oddsUpdated(eventIds: ["${event.id}"]${args}) { snapshot { capturedAt markets(keys: ["btts"]) { key } } } }` },
      { next: ({ data }) => into.push(data!), error: () => {}, complete: () => {} },
    );

  it('sends oddsUpdated(markets: ["btts"]) only the changes that moved that market, each holding it', async () => {
    const toBtts: Update[] = [];
    const toAll: Update[] = [];
    subscribe(', markets: ["btts"]', toBtts);
    subscribe('', toAll);
    // The server holds both subscriptions once its pubsub counts them.
    await expect.poll(() => gw.pubsub.stats().subscribers).toBe(2);
    const changes = [
      { capturedAt: at(1), markets: [result(2.0), btts(1.8)] }, // btts differs from the seed's
      { capturedAt: at(2), markets: [result(2.1), btts(1.8)] }, // only 1x2 moved
      { capturedAt: at(3), markets: [result(2.1)] }, // btts left out
      { capturedAt: at(4), markets: [result(2.1), btts(1.7)] }, // btts back
    ];
    for (const change of changes) {
      feed.queue = [{ event: event.externalId, bookmaker: 'northbet', ...change }];
      expect(await worker.runCycle()).toMatchObject({ stored: 1, published: 1 });
      captured.push(change.capturedAt);
    }
    await expect.poll(() => toAll.length).toBe(4);
    await expect.poll(() => toBtts.length).toBe(2);
    expect(toBtts.map((u) => u.oddsUpdated.snapshot.capturedAt)).toEqual([captured[0], captured[3]]);
    expect(toBtts.every((u) => u.oddsUpdated.snapshot.markets.length === 1)).toBe(true);
    // Without the filter the btts selection of the third update is empty: that is what the filter spares.
    expect(toAll[2]!.oddsUpdated.snapshot.markets).toEqual([]);
  });

  it('answers oddsHistory(market: "btts") with only the snapshots that hold it, `first` counted among them', async () => {
    type History = { data: { oddsHistory: Array<{ capturedAt: string; markets: Array<{ key: string }> }> } };
    const history = (args: string) => gw.query<History>(`{ oddsHistory(eventId: "${event.id}", bookmaker: "northbet"${args}) { capturedAt markets { key } } }`);
    const all = (await history('')).data.oddsHistory;
    const withBtts = (await history(', market: "btts"')).data.oddsHistory;
    expect(all.map((s) => s.capturedAt)).toContain(captured[2]);
    expect(withBtts.map((s) => s.capturedAt)).not.toContain(captured[2]);
    expect(withBtts).toHaveLength(all.length - 1);
    expect(withBtts.every((s) => s.markets.length === 1 && s.markets[0]!.key === 'btts')).toBe(true);
    const latestTwo = (await history(', market: "btts", first: 2')).data.oddsHistory;
    expect(latestTwo.map((s) => s.capturedAt)).toEqual([captured[3], captured[1]]);
  });
});
