import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { decodeLogCursor, encodeLogCursor } from '../../src/api/cursor.js';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { kickOffSoon } from '../support/kick-offs.js';

interface EventUpdate {
  cursor: string;
  publishedAt: string;
  event: { id: string; status: string; score: { home: number; away: number } | null; clock: { period: string; minute: number } | null };
}

const document = `subscription Events($ids: [ID!], $after: String) {
  eventUpdates(eventIds: $ids, after: $after) { cursor publishedAt event { id status score { home away } clock { period minute } } }
}`;
const stepMs = 10_000;

/**
 * A trader's screen following the score of four matches on `eventUpdates`:
 * it starts after the board's `oddsCursor`, loses its connection for a
 * stretch of play (goals, the clock, final whistles), and resumes after the
 * last cursor it handled. The simulated market runs on a fake clock through
 * the real worker, store, change log and graphql-ws.
 */
describe('event updates resumed after a reconnect', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  let clock: number;
  let eventIds: string[];
  const clients: Client[] = [];

  /** A subscriber that records what it handles until stopped. */
  function subscribe(after: string | null) {
    const client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    const received: EventUpdate[] = [];
    const errors: unknown[] = [];
    let handling = true;
    client.subscribe<{ eventUpdates: EventUpdate }>(
      { query: document, variables: { ids: eventIds, after } },
      {
        next: ({ data, errors: graphqlErrors }) => {
          if (!handling) return;
          if (graphqlErrors) errors.push(...graphqlErrors);
          if (data) received.push(data.eventUpdates);
        },
        error: (error) => errors.push(error),
        complete: () => {},
      },
    );
    return {
      received,
      errors,
      stop: async () => {
        handling = false;
        await client.dispose();
      },
    };
  }

  async function play(steps: number): Promise<void> {
    for (let step = 0; step < steps; step++) {
      clock += stepMs;
      await worker.runCycle();
    }
  }

  /** (event, position) for every change the log holds to the subscribed events after `from`. */
  async function changedAfter(from: string): Promise<Array<{ eventId: string; position: bigint }>> {
    const start = decodeLogCursor(from).position;
    const rows = await gw.test.db.prisma.changeLog.findMany({ where: { position: { gt: start } }, orderBy: { position: 'asc' } });
    return rows.flatMap((row) => row.eventIds.filter((id) => eventIds.includes(String(id))).map((id) => ({ eventId: String(id), position: row.position })));
  }

  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
    clock = Date.now();
    eventIds = await kickOffSoon(gw.test.db.prisma, 4, clock);
    worker = gw.simulatedWorker({ now: () => clock, speed: 10, changesPerSecond: 0.5, newEventEverySeconds: 0 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await gw?.close();
  });

  it('replays what changed while it was away, then goes on live: every change covered by a later state, none twice, in log order, ending in the final states', async () => {
    const { data } = await gw.query<{ data: { oddsCursor: string } }>('{ oddsCursor }');
    const start = data.oddsCursor;

    const first = subscribe(start);
    await play(15);
    await vi.waitUntil(() => first.received.length > 0, { timeout: 10_000 });
    await first.stop();
    const resumeAfter = first.received.at(-1)!.cursor;

    await play(25); // away: kick-offs, goals, the clock
    const whileAway = await changedAfter(resumeAfter);
    expect(whileAway.length).toBeGreaterThan(0);

    const second = subscribe(resumeAfter);
    // The replay, before play goes on.
    await vi.waitUntil(() => second.received.length > 0, { timeout: 10_000 });
    await play(40); // to the final whistles
    const finalStates = await gw.query<{ data: Record<string, EventUpdate['event']> }>(
      `{ ${eventIds.map((id, i) => `e${i}: event(id: "${id}") { id status score { home away } clock { period minute } }`).join(' ')} }`,
    );
    const finals = new Map(Object.values(finalStates.data).map((event) => [event.id, event]));
    for (const event of finals.values()) expect(['FINISHED', 'CANCELLED']).toContain(event.status);
    const lastOf = (id: string) => [...first.received, ...second.received].filter((u) => u.event.id === id).at(-1)?.event;
    await vi.waitUntil(() => eventIds.every((id) => JSON.stringify(lastOf(id)) === JSON.stringify(finals.get(id))), { timeout: 10_000 });

    const received = [...first.received, ...second.received].map((u) => ({ eventId: u.event.id, position: decodeLogCursor(u.cursor).position }));
    // Missed: a change with no update of its event at or after its position.
    const missed = (await changedAfter(start)).filter((change) => !received.some((r) => r.eventId === change.eventId && r.position >= change.position));
    expect(missed).toEqual([]);
    const keys = received.map((r) => `${r.eventId}@${r.position}`);
    expect(keys.length - new Set(keys).size, 'updates sent twice').toBe(0);
    expect(received.filter((r, i) => i > 0 && r.position < received[i - 1]!.position), 'out of log order').toEqual([]);
    // The first update after resuming was replayed from the log: it was committed while the subscriber was away.
    expect(received[first.received.length]!.position).toBeLessThanOrEqual(whileAway.at(-1)!.position);
    expect([...first.errors, ...second.errors]).toEqual([]);
    expect(new Date(second.received[0]!.publishedAt).toISOString()).toBe(second.received[0]!.publishedAt);
  }, 120_000);

  it('answers CURSOR_EXPIRED for a place the change log does not hold', async () => {
    const newest = (await gw.test.db.prisma.changeLog.aggregate({ _max: { position: true } }))._max.position ?? 0n;
    const client = createClient({ url: `${gw.gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    const errors = await new Promise<Array<{ extensions?: { code?: string } }>>((resolve) => {
      client.subscribe(
        { query: document, variables: { ids: eventIds, after: encodeLogCursor({ position: newest + 1000n }) } },
        // A subscription refused as it starts is one result with errors, then complete.
        { next: ({ errors }) => resolve([...(errors ?? [])]), error: (error) => resolve([error as { extensions?: { code?: string } }]), complete: () => resolve([]) },
      );
    });
    expect(errors.map((error) => error.extensions?.code)).toEqual(['CURSOR_EXPIRED']);
  });
});
