import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cacheKey } from '../../src/domain/cache-keys.js';
import { startTestGateway, type LogLine, type TestGateway } from '../support/gateway.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { anyKind } from '../support/databases.js';
import { logChange } from '../support/log-changes.js';

async function metric(gw: TestGateway, family: string, labels: Record<string, string>, sample = family): Promise<number> {
  const families = parsePrometheusText(await (await fetch(`${gw.gateway.url}/metrics`)).text());
  return sampleValue(families, family, sample, labels);
}

/** A graphql-transport-ws socket whose upgrade request carries `x-request-id`, past connection_ack. */
async function socketWithRequestId(url: string, requestId: string) {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers: { 'x-request-id': requestId } });
  const received: Array<{ type: string; id?: string; payload?: unknown }> = [];
  socket.on('message', (data) => received.push(JSON.parse(String(data)) as (typeof received)[number]));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await expect.poll(() => received.some((m) => m.type === 'connection_ack')).toBe(true);
  return { socket, received };
}

describe('one operation pipeline for HTTP and WebSocket, in production', () => {
  let gw: TestGateway;
  const logged: LogLine[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { maskErrors: true }, log: (_m, line) => logged.push(line) });
  });
  afterAll(() => gw?.close());

  it('counts an answer from the response cache as a request, and reports the response cache by itself', async () => {
    const before = await metric(gw, 'oddsgate_graphql_requests_total', { operation: 'query' });
    const hitsBefore = await metric(gw, 'oddsgate_response_cache_requests_total', { result: 'hit' });
    // Stored on its second sight, answered from the cache the third and fourth time.
    for (let i = 0; i < 4; i++) expect((await gw.query('{ sports { key } }')).data).toBeDefined();
    expect(await metric(gw, 'oddsgate_graphql_requests_total', { operation: 'query' })).toBe(before + 4);
    expect(await metric(gw, 'oddsgate_response_cache_requests_total', { result: 'hit' })).toBe(hitsBefore + 2);
    expect(await metric(gw, 'oddsgate_response_cache_bytes', {})).toBeGreaterThan(0);

    // An odds change rewrites cache entries: each write is an invalidation of the responses that read it.
    const invalidations = await metric(gw, 'oddsgate_response_cache_invalidations_total', {});
    const upcoming = await gw.test.db.prisma.event.findFirstOrThrow({ orderBy: { kickoffAt: 'desc' } });
    const [odds] = [...(await gw.gateway.reader.eventOdds([upcoming.id])).values()];
    await gw.bus.publish(logChange(gw.gateway.follower.position + 1n, odds!.snapshots.slice(0, 1)));
    expect(await metric(gw, 'oddsgate_response_cache_invalidations_total', {})).toBeGreaterThan(invalidations);
  });

  it('masks, logs and counts an unexpected error inside a subscription', async () => {
    // An event this gateway has not cached: resolving it reads the database, which then fails.
    const past = await gw.test.db.prisma.event.findFirstOrThrow({ orderBy: { kickoffAt: 'asc' } });
    gw.gateway.cache.invalidate(cacheKey('Event', past.id));
    const [odds] = [...(await gw.gateway.reader.eventOdds([past.id])).values()];
    const { socket, received } = await socketWithRequestId(gw.gateway.url, 'ws-trace-9');
    try {
      socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query: `subscription { oddsUpdated(eventIds: ["${past.id}"]) { event { home } } }` } }));
      await expect.poll(() => metric(gw, 'oddsgate_graphql_requests_total', { operation: 'subscription' })).toBe(1);
      await gw.test.db.prisma.$executeRawUnsafe('ALTER TABLE event RENAME TO event_gone');
      // No events in the change: it would put the event in the cache, and nothing would read the database.
      await gw.bus.publish(logChange(gw.gateway.follower.position + 1n, odds!.snapshots.slice(0, 1)));

      await expect.poll(() => received.find((m) => m.type === 'next')).toBeDefined();
      const next = received.find((m) => m.type === 'next')!.payload as { errors: unknown[] };
      expect(next.errors).toEqual([
        { message: 'Unexpected error.', path: ['oddsUpdated', 'event'], locations: expect.any(Array), extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'ws-trace-9' } },
      ]);
      const line = logged.find((l) => l.msg === 'unexpected error' && l.connId === 'ws-trace-9');
      expect(line).toMatchObject({ path: 'oddsUpdated.event', err: { message: expect.stringMatching(/event/) } });
      expect(line!.err!.stack).toMatch(/\n\s+at /);
      expect(await metric(gw, 'oddsgate_graphql_errors_total', { operation: 'subscription', code: 'INTERNAL_SERVER_ERROR' })).toBe(1);
    } finally {
      socket.close();
      await gw.test.db.prisma.$executeRawUnsafe('ALTER TABLE event_gone RENAME TO event');
    }
  });
});
