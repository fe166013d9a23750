import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { maxPrice } from '../../src/domain/pricing.js';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';
import { kickOffSoon } from '../support/kick-offs.js';
import { withMarkets } from '../support/stored-markets.js';

interface EventState {
  id: string;
  status: 'SCHEDULED' | 'LIVE' | 'FINISHED' | 'CANCELLED';
  score: { home: number; away: number } | null;
  clock: { period: string; minute: number } | null;
}

const statusOrder = ['SCHEDULED', 'LIVE', 'FINISHED', 'CANCELLED'];
const stepMs = 10_000;

/**
 * The simulated market at SIM_SPEED=10 on a fake clock: eight events kick off
 * in the first minutes and are played to the end (about two hours of match
 * time in 12.5 fake minutes), through the real worker, store, live odds and a
 * graphql-ws client.
 */
describe('the simulated market at ten times real speed', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  let client: Client;
  let clock: number;
  let eventIds: string[];
  const updates: EventState[] = [];
  const midMatch: EventState[] = [];
  const committedInLastCycles: number[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
    clock = Date.now();
    eventIds = await kickOffSoon(gw.test.db.prisma, 8, clock);
    worker = gw.simulatedWorker({ now: () => clock, speed: 10, changesPerSecond: 0.5, newEventEverySeconds: 0 });
    client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ eventUpdated: EventState }>(
        { query: 'subscription ($ids: [ID!]) { eventUpdated(eventIds: $ids) { id status score { home away } clock { period minute } } }', variables: { ids: eventIds } },
        { next: ({ data }) => updates.push(data!.eventUpdated), error: reject, complete: () => {} },
      );
      client.on('connected', () => resolve());
    });

    for (let step = 0; step < 80; step++) {
      clock += stepMs;
      const result = await worker.runCycle();
      if (step >= 75) committedInLastCycles.push(result.stored);
      if (step === 20) {
        const { data } = await gw.query<{ data: { events: { nodes: EventState[] } } }>(
          '{ events(first: 50, filter: { status: [LIVE] }) { nodes { id status score { home away } clock { period minute } } } }',
        );
        midMatch.push(...data.events.nodes);
      }
    }
    await vi.waitUntil(() => updates.filter((u) => u.status === 'FINISHED' || u.status === 'CANCELLED').length === 8, { timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  it('accepts every record the feed produced, and keeps committing to the end', () => {
    expect(worker.totals.rejected).toBe(0);
    expect(worker.totals.failedCycles).toBe(0);
    expect(committedInLastCycles.some((stored) => stored > 0)).toBe(true);
  });

  it('shows events live with a score and a match clock while they are played', () => {
    expect(midMatch.length).toBeGreaterThan(0);
    for (const event of midMatch) {
      expect(event.score).toEqual({ home: expect.any(Number), away: expect.any(Number) });
      expect(event.clock).toEqual({ period: expect.any(String), minute: expect.any(Number) });
    }
  });

  it('finishes every event with a final score and settles every market with a result', async () => {
    const { data } = await gw.query<{
      data: { event: EventState & { odds: Array<{ markets: Array<{ status: string; outcomes: Array<{ result: string | null }> }> }> } }[];
    }>(`{ ${eventIds.map((id, i) => `e${i}: event(id: "${id}") { id status score { home away } clock { period minute } odds { markets { status outcomes { result } } } }`).join(' ')} }`);
    const events = Object.values(data) as unknown as Array<EventState & { odds: Array<{ markets: Array<{ status: string; outcomes: Array<{ result: string | null }> }> }> }>;
    for (const event of events) {
      expect(['FINISHED', 'CANCELLED']).toContain(event.status);
      expect(event.clock).toBeNull();
      if (event.status === 'FINISHED') expect(event.score).not.toBeNull();
      const markets = event.odds.flatMap((snapshot) => snapshot.markets);
      expect(markets.length).toBeGreaterThan(0);
      for (const market of markets) {
        expect(market.status).toBe('SETTLED');
        for (const outcome of market.outcomes) expect(['WON', 'LOST', 'VOID']).toContain(outcome.result);
      }
    }
  });

  it('suspends markets in play and keeps their last prices, within the store and the price cap', async () => {
    const markets = (await withMarkets(gw.test.db, await gw.test.db.prisma.oddsSnapshot.findMany())).flatMap((s) => s.markets);
    expect(markets.filter((m) => m.status === 'SUSPENDED').length).toBeGreaterThan(0);
    expect(Math.max(...markets.flatMap((m) => m.outcomes.map((o) => o.price)))).toBeLessThanOrEqual(maxPrice);
  });

  it('delivers each event\'s state changes to an eventUpdated subscriber in order, never one twice, ending in its final state', () => {
    for (const id of eventIds) {
      const mine = updates.filter((u) => u.id === id);
      // At least the final state: a subscriber that falls behind gets an event's newest state, not each one
      // between (its queue conflates by event), and 1 event in 100 is cancelled before kick-off.
      expect(mine.length).toBeGreaterThan(0);
      expect(['FINISHED', 'CANCELLED']).toContain(mine.at(-1)!.status);
      for (let i = 1; i < mine.length; i++) {
        const [before, after] = [mine[i - 1]!, mine[i]!];
        expect(JSON.stringify(after), 'the same state twice').not.toBe(JSON.stringify(before));
        expect(statusOrder.indexOf(after.status)).toBeGreaterThanOrEqual(statusOrder.indexOf(before.status));
        expect(after.score?.home ?? 0).toBeGreaterThanOrEqual(before.score?.home ?? 0);
        expect(after.score?.away ?? 0).toBeGreaterThanOrEqual(before.score?.away ?? 0);
        if (before.clock && after.clock) expect(after.clock.minute).toBeGreaterThanOrEqual(before.clock.minute);
      }
    }
  });
});
