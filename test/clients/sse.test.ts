import { createClient, type Client } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLogCursor } from '../../src/api/cursor.js';
import type { LoggedOddsChange } from '../../src/domain/change-log.js';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const LIVE = `subscription Live($after: String) { oddsUpdated(after: $after) { cursor event { id } snapshot { id capturedAt } } }`;

interface Message {
  data?: { oddsUpdated: { cursor: string } } | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/**
 * A gateway on the small seed with a simulated worker (not started) and graphql-sse's client, for the
 * describe block that calls it; `subscribe` records a stream's messages and failures.
 */
function streamingGateway() {
  const t = {} as { gw: TestGateway; worker: IngestWorker; client: Client; subscribe: typeof subscribe };
  beforeAll(async () => {
    t.gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
    t.worker = t.gw.simulatedWorker({ changesPerSecond: 100 }, { intervalMs: 100 });
    t.client = createClient({ url: `${t.gw.gateway.url}/graphql/stream`, retryAttempts: 0 });
  });
  afterAll(async () => {
    await t.worker?.stop();
    t.client?.dispose();
    await t.gw?.close();
  });
  function subscribe(query: string, variables: Record<string, unknown> = {}) {
    const messages: Message[] = [];
    const failures: unknown[] = [];
    const stop = t.client.subscribe<Message['data']>({ query, variables }, { next: (m) => void messages.push(m as Message), error: (e) => void failures.push(e), complete: () => {} });
    return { messages, failures, stop };
  }
  t.subscribe = subscribe;
  return t;
}

/** GraphQL over Server-Sent Events with graphql-sse's own client, as a browser behind a WebSocket-hostile proxy would use it. */
describe('subscriptions over Server-Sent Events (graphql-sse)', () => {
  const t = streamingGateway();
  const { subscribe } = t;
  const logItemsAfter = async (cursor: string) => {
    const place = decodeLogCursor(cursor);
    const rows = await t.gw.test.db.prisma.changeLog.findMany({ where: { position: { gte: place.position } }, orderBy: { position: 'asc' } });
    return rows.flatMap((row) =>
      (row.changes as unknown as LoggedOddsChange[]).flatMap((_, index) => (row.position > place.position || index > (place.index ?? Infinity) ? [`${row.position}.${index}`] : [])),
    );
  };
  const placeOf = (cursor: string) => {
    const place = decodeLogCursor(cursor);
    return `${place.position}.${place.index}`;
  };

  it('streams updates with their cursor, and replays every change committed while the stream was closed', async () => {
    const { data } = (await t.gw.query<{ data: { oddsCursor: string } }>('{ oddsCursor }'));
    t.worker.start();
    const first = subscribe(LIVE, { after: data.oddsCursor });
    await expect.poll(() => first.messages.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
    first.stop();
    const last = first.messages.at(-1)!.data!.oddsUpdated.cursor;
    const positions = async () => (await t.gw.test.db.prisma.changeLog.aggregate({ _max: { position: true } }))._max.position ?? 0n;
    const from = await positions();
    await expect.poll(positions, { timeout: 20_000 }).toBeGreaterThanOrEqual(from + 3n);
    await t.worker.stop();

    const expected = await logItemsAfter(last);
    const resumed = subscribe(LIVE, { after: last });
    await expect.poll(() => resumed.messages.length, { timeout: 20_000 }).toBe(expected.length);
    expect(resumed.messages.map((m) => placeOf(m.data!.oddsUpdated.cursor))).toEqual(expected);
    expect([...first.failures, ...resumed.failures, ...first.messages, ...resumed.messages].filter((m) => (m as Message).errors)).toEqual([]);
    resumed.stop();
  });

  it('refuses a query (POST /graphql serves those) and an invalid document with 400 and their codes', async () => {
    // graphql-sse answers a refused operation as GraphQL over HTTP does: a 400 with the errors, before any stream.
    const refusal = async (query: string) => {
      const { failures } = subscribe(query);
      await expect.poll(() => failures.length, { timeout: 10_000 }).toBe(1);
      const { response } = failures[0] as { response: Response };
      return { status: response.status, body: (await response.json()) as Message };
    };
    const query = await refusal('{ sports { key } }');
    expect(query.status).toBe(400);
    expect(query.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_REQUEST' }) })]);
    const invalid = await refusal('subscription { oddsUpdated { nope } }');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
  });
});

// Its own gateway: the streams above stay subscribed on the server after their client stops (graphql-sse's
// client on Node.js keeps the connection open), and their updates would be counted here.
describe('streams of one selection on Server-Sent Events', () => {
  const t = streamingGateway();
  const { subscribe } = t;

  it('are executed and serialized once per update, each stream getting the same bytes', async () => {
    const selection = `subscription { oddsUpdated { cursor event { id home } snapshot { id markets { key outcomes { key price previousPrice } } } } }`;
    const executions = async () => ((await (await fetch(`${t.gw.gateway.url}/health`)).json()) as { parts: { subscriptionExecutions: { executions: number; shared: number } } }).parts.subscriptionExecutions;
    const before = await executions();
    const deliveredBefore = t.gw.pubsub.stats().delivered;
    const streams = [subscribe(selection), subscribe(selection)];
    await expect.poll(() => t.gw.pubsub.stats().subscribers, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    t.worker.start();
    await expect.poll(() => Math.min(...streams.map((s) => s.messages.length)), { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
    await t.worker.stop();
    // Every update the gateway handed to the two streams has arrived.
    const received = () => streams[0]!.messages.length + streams[1]!.messages.length;
    await expect.poll(() => received() - (t.gw.pubsub.stats().delivered - deliveredBefore), { timeout: 10_000 }).toBe(0);
    for (const s of streams) s.stop();

    const after = await executions();
    const byCursor = streams.map((s) => new Map(s.messages.map((m) => [(m.data as { oddsUpdated: { cursor: string } }).oddsUpdated.cursor, JSON.stringify(m)])));
    const both = [...byCursor[0]!.keys()].filter((cursor) => byCursor[1]!.has(cursor));
    expect(both.length).toBeGreaterThanOrEqual(10);
    // The same update is the same answer in both streams, parsed by graphql-sse's client from the spliced bytes.
    for (const cursor of both) expect(byCursor[1]!.get(cursor)).toBe(byCursor[0]!.get(cursor));
    expect(streams.flatMap((s) => [...s.failures, ...s.messages.filter((m) => m.errors)])).toEqual([]);
    // Each update both streams got was executed once: the second stream's answer was shared.
    expect(after.shared - before.shared).toBeGreaterThanOrEqual(both.length);
    expect(after.executions - before.executions).toBeLessThanOrEqual(received() - both.length);
  });
});

describe('a stream on a gateway with WS_TOKEN', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { wsToken: 's3cret' } });
  });
  afterAll(() => gw?.close());

  const open = (headers: Record<string, string>) =>
    fetch(`${gw.gateway.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query: LIVE }),
    });

  it('refuses a stream without the token, or with another, and opens one with it as a Bearer token', async () => {
    expect((await open({})).status).toBe(403);
    expect((await open({ authorization: 'Bearer wrong' })).status).toBe(403);
    const ok = await open({ authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await ok.body?.cancel();
  });
});
