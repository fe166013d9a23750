import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardQuery } from '../graphql/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { aliasBomb, deepQuery, postGraphQL, tokenBomb } from './requests.js';
import { oddsSubscription, openAcknowledgedSocket, openRawSocket } from './sockets.js';
import { anyKind } from '../support/databases.js';

// A real collector in this process, without a flag on the whole test run.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after full collections, in bytes. */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

describe('memory after abuse', () => {
  let gw: TestGateway;
  let url: string;
  let expectedBoard: unknown;
  beforeAll(async () => {
    gw = await startTestGateway({
      kind: anyKind,
      cache: true,
      config: { wsInitTimeoutMs: 250, wsMaxSubscriptions: 3 },
    });
    url = `${gw.gateway.url}/graphql`;
    expectedBoard = (await postGraphQL(url, { query: boardQuery, variables: { first: 20 } })).body;
  });
  afterAll(() => gw?.close());

  /** Everything the other hardening tests send, once; checks each answer's status or close code, then a good query. */
  const abuseRound = async () => {
    const statuses = await Promise.all([
      postGraphQL(url, '{"query": "{ sports { key } }"'),
      postGraphQL(url, '<query/>', { 'content-type': 'application/xml' }),
      postGraphQL(url, { query: `{ sports { key } } # ${'x'.repeat(1024 * 1024 + 1)}` }),
      postGraphQL(url, { query: deepQuery(50) }),
      postGraphQL(url, { query: aliasBomb(500) }),
      postGraphQL(url, { query: tokenBomb(100_000) }),
      postGraphQL(url, { query: boardQuery, variables: { first: 'many' } }),
      postGraphQL(url, { query: boardQuery, variables: { first: 5, after: 'not-a-cursor' } }),
      postGraphQL(url, { query: 'query ($id: ID!) { event(id: $id) { id } }', variables: { id: [1, 2] } }),
    ]).then((responses) => responses.map((r) => r.status));
    expect(statuses).toEqual([400, 400, 413, 400, 400, 400, 400, 200, 400]);

    const noInit = await openRawSocket(gw.gateway.url);
    const garbage = await openAcknowledgedSocket(gw.gateway.url);
    garbage.send('{{{{');
    const duplicate = await openAcknowledgedSocket(gw.gateway.url);
    duplicate.send(oddsSubscription('x'));
    duplicate.send(oddsSubscription('x'));
    const many = await openAcknowledgedSocket(gw.gateway.url);
    for (let i = 0; i < 4; i++) many.send(oddsSubscription(String(i)));
    const codes = await Promise.all([noInit, garbage, duplicate, many].map(async (s) => (await s.closed).code));
    expect(codes).toEqual([4408, 4400, 4409, 1008]);

    const good = await postGraphQL(url, { query: boardQuery, variables: { first: 20 } });
    expect(good.body).toEqual(expectedBoard);
  };

  it('returns to its baseline heap after 30 rounds of everything above, answering correctly throughout', { timeout: 120_000 }, async () => {
    // Warm-up: JIT, connection pools, lazily built caches. Measured here over 400 rounds, the heap
    // climbs about 0.7 MiB in the first 100 and then stays flat within +-0.2 MiB.
    // Two rounds at a time: a round mostly waits (for the init timeout's close), not computes.
    const rounds = async (count: number) => {
      for (let round = 0; round < count; round += 2) await Promise.all([abuseRound(), abuseRound()]);
    };
    await rounds(10);
    const baseline = await settledHeap();
    await rounds(30);
    const after = await settledHeap();
    const growthMiB = (after - baseline) / 1024 / 1024;
    console.log(`heap: baseline ${(baseline / 1024 / 1024).toFixed(1)} MiB, after 30 rounds ${(after / 1024 / 1024).toFixed(1)} MiB`);
    // Each round sends over 1 MiB of bodies and opens four sockets: keeping any one body, socket or
    // subscription per round would pass 30 MiB; the bound leaves room for the tail of the warm-up.
    expect(growthMiB).toBeLessThan(3);
  });
});
