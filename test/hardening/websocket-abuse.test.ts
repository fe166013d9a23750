import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { IngestWorker } from '../../src/ingest/worker.js';
import { silentLogger } from '../../src/ops/log.js';
import { startTestGateway, type LogLine, type TestGateway } from '../support/gateway.js';
import { QueuedFeed } from '../support/queued-feed.js';
import { deepQuery } from './requests.js';
import { oddsSubscription, openAcknowledgedSocket, openRawSocket } from './sockets.js';
import { anyKind } from '../support/databases.js';

const waitUpTo = { timeout: 10_000, interval: 10 };

describe('WebSocket protocol abuse', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  const feed = new QueuedFeed();
  let client: Client;
  const updates: Array<{ data?: { oddsUpdated: { snapshot: { capturedAt: string } } } }> = [];
  let subscriptionError: unknown;
  const logged: LogLine[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({
      kind: anyKind,
      cache: true,
      shape: 'seeded-small',
      log: (_message, line) => logged.push(line),
      config: { wsInitTimeoutMs: 1000, wsMaxSubscriptions: 5, wsMaxSubscribesPerMinute: 20, wsToken: 'let-me-in' },
    });
    worker = new IngestWorker({ prisma: gw.test.db.prisma, feed, bus: gw.bus, logger: silentLogger() });
    // The well-behaved client: subscribed throughout, with the right token.
    client = createClient({
      url: `${gw.gateway.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { token: 'let-me-in' },
    });
    client.subscribe(
      { query: 'subscription { oddsUpdated { event { id } snapshot { capturedAt } } }' },
      { next: (value) => updates.push(value as never), error: (error) => (subscriptionError = error), complete: () => {} },
    );
    await vi.waitUntil(() => gw.pubsub.stats().subscribers === 1, waitUpTo);
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  /** After each abuse, the subscribed client still gets the update of the next snapshot stored. */
  let secondsAhead = 0;
  const expectWellBehavedClientServed = async () => {
    const event = await gw.test.db.prisma.event.findFirstOrThrow({ where: { kickoffAt: { gt: new Date() } }, orderBy: { id: 'asc' } });
    // Seconds ahead, not minutes: the worker refuses captures more than its clock skew (5 min) in the future.
    const capturedAt = new Date(Date.now() + ++secondsAhead * 1_000).toISOString();
    const outcomes = [
      { key: 'yes', name: 'Yes', price: 1.8 + secondsAhead / 100 },
      { key: 'no', name: 'No', price: 1.95 },
    ];
    feed.queue = [{ event: event.externalId, bookmaker: 'sharpline', capturedAt, markets: [{ key: 'btts', name: 'Both teams to score', outcomes }] }];
    expect(await worker.runCycle()).toMatchObject({ stored: 1, published: 1 });
    await vi.waitUntil(() => {
      if (subscriptionError) throw new Error('the well-behaved subscription failed', { cause: subscriptionError });
      return updates.some((update) => update.data?.oddsUpdated.snapshot.capturedAt === capturedAt);
    }, waitUpTo);
  };

  it('closes a socket that never sends connection_init with 4408', async () => {
    const raw = await openRawSocket(gw.gateway.url);
    expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    await expectWellBehavedClientServed();
  });

  it('closes a socket with a missing or wrong token with 4403', async () => {
    for (const payload of [undefined, { token: 'guess' }, { token: 42 }, { token: 'let-me-in!' }]) {
      const raw = await openRawSocket(gw.gateway.url);
      raw.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
      expect(await raw.closed).toEqual({ code: 4403, reason: 'Forbidden' });
    }
    expect(gw.gateway.webSocketStats.forbidden).toBe(4);
    await expectWellBehavedClientServed();
  });

  it('closes a socket that sends garbage with 4400', async () => {
    for (const garbage of ['not json', '{"type":"nonsense"}', '{"id":1,"type":"subscribe"}', '\u0000\u0001\u0002']) {
      const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
      raw.send(garbage);
      expect(await raw.closed).toEqual({ code: 4400, reason: 'Invalid message received' });
    }
    await expectWellBehavedClientServed();
  });

  it('closes a socket that subscribes before it is acknowledged with 4401', async () => {
    const raw = await openRawSocket(gw.gateway.url);
    raw.send(oddsSubscription('1'));
    expect(await raw.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes a socket that reuses a live operation id with 4409', async () => {
    const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
    raw.send(oddsSubscription('same'));
    raw.send(oddsSubscription('same'));
    expect(await raw.closed).toEqual({ code: 4409, reason: 'Subscriber for same already exists' });
    await expectWellBehavedClientServed();
  });

  it('closes a socket with more subscriptions than allowed with 1008, and counts it', async () => {
    const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
    for (let i = 1; i <= 6; i++) raw.send(oddsSubscription(String(i)));
    expect(await raw.closed).toEqual({ code: 1008, reason: 'Too many subscriptions: at most 5 per connection' });
    expect(gw.gateway.webSocketStats.tooManySubscriptions).toBe(1);
    await expectWellBehavedClientServed();
  });

  it('closes a socket that floods subscribe messages with 1008, and counts it', async () => {
    const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
    // Subscribe and complete at once: never more than one live, but 21 subscribe messages in a minute.
    for (let i = 1; i <= 21; i++) {
      raw.send(oddsSubscription(String(i)));
      raw.send({ id: String(i), type: 'complete' });
    }
    expect(await raw.closed).toEqual({ code: 1008, reason: 'Too many subscribe messages: at most 20 per minute' });
    expect(gw.gateway.webSocketStats.subscribeFloods).toBe(1);
    await expectWellBehavedClientServed();
  });

  it('closes a socket that sends a message over 1 MiB with 1009, logging it as the client\'s doing, not as an internal error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
      raw.send({ id: 'big', type: 'subscribe', payload: { query: `subscription { oddsUpdated { event { id } } } # ${'x'.repeat(1024 * 1024)}` } });
      expect((await raw.closed).code).toBe(1009);
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'closing a WebSocket', reason: 'Max payload size exceeded', wsError: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }));
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
    await expectWellBehavedClientServed();
  });

  it('applies the query limits to subscriptions, answering with an error and keeping the socket open', async () => {
    const raw = await openAcknowledgedSocket(gw.gateway.url, { token: 'let-me-in' });
    raw.send({ id: 'deep', type: 'subscribe', payload: { query: deepQuery(50).replace('{ __type', 'subscription { __type') } });
    raw.send({ id: 'typo', type: 'subscribe', payload: { query: 'subscription { oddsUpdate { event { id } } }' } });
    raw.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { oddsUpdated(eventIds: 7 { event { id } } }' } });
    raw.send({ id: 'tokens', type: 'subscribe', payload: { query: `subscription { oddsUpdated { event { ${'id '.repeat(3000)}} } }` } });
    const errors = new Map<string, Array<{ message: string; extensions: { code: string; limit?: string } }>>();
    await vi.waitUntil(() => {
      for (const m of raw.received) if (m.type === 'error') errors.set(m.id!, m.payload as never);
      return errors.size === 4;
    }, waitUpTo);
    expect(errors.get('deep')).toEqual(
      expect.arrayContaining([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' }) })]),
    );
    expect(errors.get('typo')![0]).toMatchObject({
      message: 'Cannot query field "oddsUpdate" on type "Subscription". Did you mean "oddsUpdated"?',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(errors.get('bad')![0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(errors.get('tokens')![0]).toMatchObject({
      message: 'Document contains more than 2000 tokens. Parsing aborted.',
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'tokens' },
    });
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close();
    await expectWellBehavedClientServed();
  });
});
