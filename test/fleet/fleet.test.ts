import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startProcess, type RunningProcess } from '../support/processes.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

interface Update {
  oddsUpdated: {
    event: { id: string };
    snapshot: { capturedAt: string; bookmaker: { key: string }; markets: Array<{ key: string; line: number | null; outcomes: Array<{ key: string; price: number }> }> };
  };
}

const subscription = `subscription { oddsUpdated {
  event { id } snapshot { capturedAt bookmaker { key } markets { key line outcomes { key price } } } } }`;

// Needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL; CI requires both).
describe.skipIf(!postgresUrl || !redisUrl)('a fleet: two gateways and one ingest worker as separate processes on PostgreSQL and Redis', () => {
  let test: TestDatabase;
  let gateways: Array<{ process: RunningProcess; url: string; client: Client; updates: Update[] }> = [];
  let worker: RunningProcess | undefined;

  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    const env = {
      DATABASE_URL: test.url!,
      REDIS_URL: redisUrl!,
      // A channel of its own, so parallel runs on one Redis never hear each other.
      REDIS_PREFIX: `oddsgate-test-${randomBytes(4).toString('hex')}:`,
      PORT: '0',
    };
    gateways = await Promise.all(
      [1, 2].map(async () => {
        const process = startProcess('src/main.ts', { ...env, INGEST: 'off' });
        const [, url] = await process.waitFor(/oddsgate ready: GraphQL \(HTTP and WebSocket\) at (http:\/\/\S+)\/graphql/);
        const client = createClient({ url: `${url!.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
        return { process, url: url!, client, updates: [] as Update[] };
      }),
    );
    for (const gateway of gateways) {
      await new Promise<void>((resolve, reject) => {
        gateway.client.on('connected', () => resolve());
        gateway.client.subscribe<Update>({ query: subscription }, {
          next: ({ data }) => gateway.updates.push(data!),
          error: reject,
          complete: () => {},
        });
      });
    }
    worker = startProcess('src/cli/ingest.ts', env);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    for (const gateway of gateways) {
      await gateway.client.dispose();
      await gateway.process.stop();
    }
    await test?.drop();
  });

  it('pushes the same updates to subscribers on both gateways, and both serve the new prices afterwards', async () => {
    await expect.poll(() => Math.min(...gateways.map((g) => g.updates.length)), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(50);
    expect(await worker!.stop()).toBe(0);
    // Once the worker is gone, both gateways settle on the same count.
    await expect.poll(() => gateways[0]!.updates.length - gateways[1]!.updates.length, { timeout: 10_000, interval: 50 }).toBe(0);

    const seen = gateways.map((g) => g.updates.map(({ oddsUpdated: u }) => `${u.event.id}|${u.snapshot.bookmaker.key}|${u.snapshot.capturedAt}`));
    expect(seen[0]).toEqual(seen[1]);

    // The newest update of a few (event, bookmaker) pairs is what each gateway now serves.
    const latest = new Map<string, Update['oddsUpdated']>();
    for (const { oddsUpdated: u } of gateways[0]!.updates) latest.set(`${u.event.id}|${u.snapshot.bookmaker.key}`, u);
    for (const update of [...latest.values()].slice(-5)) {
      for (const gateway of gateways) {
        const response = await fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `query ($id: ID!, $bookmaker: String!) { event(id: $id) { odds(bookmakers: [$bookmaker]) { capturedAt markets { key line outcomes { key price } } } } }`,
            variables: { id: update.event.id, bookmaker: update.snapshot.bookmaker.key },
          }),
        });
        const { data } = (await response.json()) as { data: { event: { odds: Array<{ capturedAt: string; markets: unknown }> } } };
        expect(data.event.odds[0]!.capturedAt).toBe(update.snapshot.capturedAt);
        expect(data.event.odds[0]!.markets).toEqual(update.snapshot.markets);
      }
    }
    // Each gateway took its changes from the test's own Redis channel.
    for (const gateway of gateways) expect(gateway.process.output()).toMatch(/odds bus: Redis channel oddsgate-test-\w+:odds-changes/);
  });
});
