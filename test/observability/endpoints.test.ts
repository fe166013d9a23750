import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/ops/log.js';
import { startGateway } from '../../src/gateway.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { QueuedFeed } from '../support/queued-feed.js';
import { createLogger } from '../../src/ops/log.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { anyKind, createTestDatabase } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { boardQuery } from '../graphql/queries.js';
import { parsePrometheusText, sampleValue, type Family } from '../support/prometheus-text.js';

async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await response.text());
}

/** A counter's or gauge's value, or a histogram's count, by labels; 0 when that series does not exist yet. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  return sampleValue(families, name, family?.type === 'histogram' ? `${name}_count` : name, labels);
}

describe('the operations endpoints', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves every metric family in the Prometheus text format', async () => {
    const families = await scrape(gw.gateway.url);
    for (const name of [
      'oddsgate_cache_requests_total',
      'oddsgate_cache_sets_total',
      'oddsgate_cache_evictions_total',
      'oddsgate_cache_entries',
      'oddsgate_cache_bytes',
      'oddsgate_cache_load_duration_seconds',
      'oddsgate_graphql_requests_total',
      'oddsgate_graphql_errors_total',
      'oddsgate_graphql_request_duration_seconds',
      'oddsgate_subscriptions_active',
      'oddsgate_subscription_messages_sent_total',
      'oddsgate_subscription_messages_dropped_total',
      'oddsgate_subscription_executions_total',
      'oddsgate_subscription_executions_shared_total',
      'oddsgate_ingest_snapshots_total',
      'oddsgate_ingest_rejected_total',
      'oddsgate_ingest_batch_duration_seconds',
      'oddsgate_ingest_lag_seconds',
      'oddsgate_breaker_state',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get('oddsgate_cache_requests_total')!.type).toBe('counter');
    expect(families.get('oddsgate_graphql_request_duration_seconds')!.type).toBe('histogram');
    // The warmed board is in the cache gauges, read from the cache on scrape.
    expect(sample(families, 'oddsgate_cache_entries', { kind: 'EventOdds' })).toBeGreaterThan(0);
    expect(sample(families, 'oddsgate_cache_bytes', { kind: 'Event' })).toBeGreaterThan(0);
    // Open descriptors are counted off the event loop; the per-handle families, which walk every socket, are gone.
    if (process.platform === 'linux') expect(sample(families, 'process_open_fds', {})).toBeGreaterThan(10);
    for (const name of ['nodejs_active_handles', 'nodejs_active_resources']) expect(families.has(name), name).toBe(false);
  });

  it('counts cache hits, GraphQL requests and errors as queries arrive', async () => {
    const before = await scrape(gw.gateway.url);
    const board = await gw.query(boardQuery, { first: 20 });
    expect(board.errors).toBeUndefined();
    const bad = await gw.query(boardQuery, { first: 500 });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const after = await scrape(gw.gateway.url);
    const grew = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    // 20 events' odds came from the warmed cache: hits, no misses.
    expect(grew('oddsgate_cache_requests_total', { kind: 'EventOdds', result: 'hit' })).toBeGreaterThanOrEqual(20);
    expect(grew('oddsgate_cache_requests_total', { kind: 'EventOdds', result: 'miss' })).toBe(0);
    expect(grew('oddsgate_graphql_requests_total', { operation: 'query' })).toBe(2);
    expect(grew('oddsgate_graphql_errors_total', { operation: 'query', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(grew('oddsgate_graphql_request_duration_seconds', { operation: 'query' })).toBe(2);
  });

  it('times the database reads behind cache misses, by kind', async () => {
    await gw.query(`{ event(id: "1") { id } }`); // cached now, if it was not
    const before = await scrape(gw.gateway.url);
    gw.gateway.cache.invalidate('Event:1');
    const result = await gw.query(`{ event(id: "1") { id home } }`);
    expect(result.errors).toBeUndefined();
    const after = await scrape(gw.gateway.url);
    expect(sample(after, 'oddsgate_cache_requests_total', { kind: 'Event', result: 'miss' })).toBe(
      sample(before, 'oddsgate_cache_requests_total', { kind: 'Event', result: 'miss' }) + 1,
    );
    expect(sample(after, 'oddsgate_cache_load_duration_seconds', { kind: 'Event' })).toBe(
      sample(before, 'oddsgate_cache_load_duration_seconds', { kind: 'Event' }) + 1,
    );
    expect(sample(after, 'oddsgate_cache_evictions_total', { reason: 'delete' })).toBe(
      sample(before, 'oddsgate_cache_evictions_total', { reason: 'delete' }) + 1,
    );
  });

  it('counts what an ingest cycle wrote and rejected, its lag, and the updates sent to subscribers', async () => {
    const feed = new QueuedFeed();
    const prisma = gw.test.db.prisma;
    const worker = new IngestWorker({ prisma, feed, bus: gw.bus, metrics: gw.gateway.metrics, logger: silentLogger() });
    const event = await prisma.event.findFirstOrThrow({ where: { kickoffAt: { gt: new Date() } }, orderBy: { id: 'asc' } });
    const bookmaker = await prisma.bookmaker.findFirstOrThrow();
    const subscription = gw.pubsub.subscribe({ eventIds: new Set([event.id]) });
    const record = (price: number, capturedAt = new Date().toISOString()) => ({
      event: event.externalId,
      bookmaker: bookmaker.key,
      capturedAt,
      markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price }, { key: 'no', name: 'No', price: 1.9 }] }],
    });
    const before = await scrape(gw.gateway.url);
    expect(sample(before, 'oddsgate_subscriptions_active')).toBe(1);
    feed.queue = [record(1.95), record(0.5), { ...record(2), event: 'no-such-event' }];
    const result = await worker.runCycle();
    expect(result).toMatchObject({ stored: 1, published: 1 });
    await subscription.next();
    const after = await scrape(gw.gateway.url);
    const grew = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(grew('oddsgate_ingest_snapshots_total', { result: 'written' })).toBe(1);
    expect(grew('oddsgate_ingest_rejected_total', { reason: 'markets.outcomes.price' })).toBe(1);
    expect(grew('oddsgate_ingest_rejected_total', { reason: 'unknown_event' })).toBe(1);
    expect(grew('oddsgate_ingest_batch_duration_seconds')).toBe(1);
    expect(grew('oddsgate_ingest_lag_seconds')).toBe(1);
    expect(grew('oddsgate_subscription_messages_sent_total')).toBe(1);
    await subscription.return!();
  });

  it('summarises each part at /health and is ready', async () => {
    await gw.query(boardQuery, { first: 5 });
    const response = await fetch(`${gw.gateway.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; parts: Record<string, Record<string, unknown>> };
    expect(body.status).toBe('ready');
    expect(body.parts.database).toEqual({ status: 'up', kind: anyKind, ready: true });
    expect(body.parts.redis).toEqual({ status: 'not configured' });
    expect(body.parts.cache).toMatchObject({ status: 'on', entries: gw.gateway.cache.stats().entries });
    expect(body.parts.cache!.hitRatio5m).toBeGreaterThan(0);
    // The ingest test above published a change on this gateway's bus.
    expect(body.parts.ingest).toMatchObject({ status: 'receiving' });
    expect(body.parts.ingest!.secondsSinceLastChange).toBeGreaterThanOrEqual(0);
  });

  it('details the cache per kind at /health/cache', async () => {
    gw.gateway.cache.invalidate('Sport:1');
    await gw.query(`{ sport: event(id: "2") { sport { key } } }`);
    const response = await fetch(`${gw.gateway.url}/health/cache`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { windowSeconds: number; kinds: Record<string, Record<string, number | null>> };
    expect(body.windowSeconds).toBe(300);
    expect(Object.keys(body.kinds)).toEqual(['Sport', 'Competition', 'Bookmaker', 'Event', 'EventOdds', 'List']);
    const sizes = gw.gateway.cache.sizeByKind();
    for (const [kind, detail] of Object.entries(body.kinds)) {
      expect(detail).toMatchObject(sizes[kind as keyof typeof sizes]);
    }
    expect(body.kinds.EventOdds!.hits).toBeGreaterThan(0);
    expect(body.kinds.Sport!.misses).toBeGreaterThanOrEqual(1);
  });

  it('returns the request id it was sent, or a new one', async () => {
    const sent = await fetch(`${gw.gateway.url}/health`, { headers: { 'x-request-id': 'lb-7f3a.1' } });
    expect(sent.headers.get('x-request-id')).toBe('lb-7f3a.1');
    const insane = await fetch(`${gw.gateway.url}/health`, { headers: { 'x-request-id': 'two words' } });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await fetch(`${gw.gateway.url}/health`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get('x-request-id')).not.toBe(insane.headers.get('x-request-id'));
  });

  it('answers 503 while draining', async () => {
    gw.gateway.health.setDraining();
    const response = await fetch(`${gw.gateway.url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'draining' });
  });
});

describe('readiness without the database', () => {
  it('answers 503 when the database is down and there is no cache to serve from', async () => {
    const test = await createTestDatabase(anyKind, 'seeded-small');
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const gateway = await startGateway({
      bus: new InProcessOddsBus(),
      config: { host: '127.0.0.1', port: 0, cache: false, cacheMaxBytes: 1 << 20 },
      db: test.db,
      logger: createLogger('debug', sink),
    });
    try {
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
      await test.db.close();
      const response = await fetch(`${gateway.url}/health`, { headers: { 'x-request-id': 'probe-1' } });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'unavailable', notReady: ['database'], parts: { database: { status: 'down' } } });
      // One debug line per request, carrying its id; nothing per request above debug.
      const probe = lines.filter((line) => line.reqId === 'probe-1');
      expect(probe).toEqual([expect.objectContaining({ level: 20, msg: 'http request', path: '/health', status: 503 })]);
    } finally {
      await gateway.close();
    }
  });
});
