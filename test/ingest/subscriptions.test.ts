import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

interface Update {
  oddsUpdated: {
    event: { id: string };
    snapshot: { capturedAt: string; bookmaker: { key: string }; markets: Array<{ key: string; line: number | null; outcomes: Array<{ key: string; price: number }> }> };
  };
}

describe('live odds on the embedded default', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  let client: Client;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true });
    worker = gw.simulatedWorker({}, { intervalMs: 100 });
    client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  });
  afterAll(async () => {
    await client?.dispose();
    await worker?.stop();
    await gw?.close();
  });

  it('pushes updates for 20 subscribed events, and a query right after shows that price', async () => {
    const board = await gw.query<{ data: { events: { nodes: Array<{ id: string }> } } }>('{ events(first: 20) { nodes { id } } }');
    const eventIds = board.data.events.nodes.map((n) => n.id);
    expect(eventIds).toHaveLength(20);

    const updates: Update[] = [];
    const received = new Promise<void>((resolve, reject) => {
      client.subscribe<Update>(
        {
          query: `subscription ($ids: [ID!]) { oddsUpdated(eventIds: $ids) {
            event { id } snapshot { capturedAt bookmaker { key } markets { key line outcomes { key price } } } } }`,
          variables: { ids: eventIds },
        },
        {
          next: ({ data }) => {
            updates.push(data!);
            if (updates.length >= 3) resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    // Updates published before the gateway has the subscription reach nobody: start writing once it has.
    await vi.waitUntil(() => gw.pubsub.stats().subscribers === 1, { timeout: 10_000, interval: 10 });
    // How fast updates arrive is the benchmark's to measure (npm run bench); here only that they do.
    worker.start();
    await received;
    await worker.stop();
    expect(updates.every((u) => eventIds.includes(u.oddsUpdated.event.id))).toBe(true);

    // The last update published for an (event, bookmaker) is what a query now serves.
    const last = updates.at(-1)!.oddsUpdated;
    const { data } = await gw.query<{ data: { event: { odds: Array<{ capturedAt: string; markets: Update['oddsUpdated']['snapshot']['markets'] }> } } }>(
      `query ($id: ID!, $bookmaker: String!) { event(id: $id) { odds(bookmakers: [$bookmaker]) { capturedAt markets { key line outcomes { key price } } } } }`,
      { id: last.event.id, bookmaker: last.snapshot.bookmaker.key },
    );
    const latestUpdate = [...updates]
      .reverse()
      .find((u) => u.oddsUpdated.event.id === last.event.id && u.oddsUpdated.snapshot.bookmaker.key === last.snapshot.bookmaker.key)!;
    expect(data.event.odds[0]!.capturedAt).toBe(latestUpdate.oddsUpdated.snapshot.capturedAt);
    expect(data.event.odds[0]!.markets).toEqual(latestUpdate.oddsUpdated.snapshot.markets);
  });
});
