import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SharedExecutionStats } from '../../src/api/shared-execution.js';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { openAcknowledgedSocket, type RawSocket } from '../hardening/sockets.js';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const query = /* GraphQL */ `
  subscription Odds($ids: [ID!], $keys: [String!]) {
    oddsUpdated(eventIds: $ids) { cursor event { id } snapshot { bookmaker { key } markets(keys: $keys) { key outcomes { key price } } } }
  }
`;

/** A raw graphql-transport-ws socket that keeps each `next` message exactly as it arrived, and whether it came as text. */
interface Subscriber {
  raw: RawSocket;
  frames: Array<{ text: string; binary: boolean }>;
  /** The `next` messages' payloads, parsed. */
  updates(): Array<{ data?: { oddsUpdated: { cursor: string; event: { id: string } } }; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
}

async function subscribe(url: string, variables: Record<string, unknown>): Promise<Subscriber> {
  const raw = await openAcknowledgedSocket(url);
  const frames: Subscriber['frames'] = [];
  raw.socket.on('message', (data, binary) => {
    const text = String(data);
    if (text.includes('"type":"next"')) frames.push({ text, binary });
  });
  raw.send({ id: 'odds', type: 'subscribe', payload: { query, variables } });
  return { raw, frames, updates: () => frames.map((f) => (JSON.parse(f.text) as { payload: never }).payload) };
}

/** The bytes of a `next` message after its id: the shared part. */
const payloadBytes = (text: string) => text.slice(text.indexOf(',"type":"next","payload":'));

describe('one execution and one serialization per update and selection, on a gateway', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  let eventIds: string[];
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true });
    worker = gw.simulatedWorker({}, { intervalMs: 50 });
    const board = await gw.query<{ data: { events: { nodes: Array<{ id: string }> } } }>('{ events(first: 20) { nodes { id } } }');
    eventIds = board.data.events.nodes.map((n) => n.id);
  });
  afterAll(async () => {
    await worker?.stop();
    await gw?.close();
  });

  const executions = async () => (await gw.gateway.health.report()).body.parts.subscriptionExecutions as unknown as SharedExecutionStats;

  it('writes the same bytes to every subscriber of a selection, executing each update once, and their own answers to the others', async () => {
    const before = await executions();
    // Two filters, one selection: they share; a third selects other markets: its own answers.
    const firstHalf = await Promise.all(Array.from({ length: 8 }, () => subscribe(gw.gateway.url, { ids: eventIds.slice(0, 10), keys: ['1x2'] })));
    const everything = await Promise.all(Array.from({ length: 8 }, () => subscribe(gw.gateway.url, { ids: eventIds, keys: ['1x2'] })));
    const otherMarkets = await Promise.all(Array.from({ length: 4 }, () => subscribe(gw.gateway.url, { ids: eventIds, keys: ['over_under'] })));
    const all = [...firstHalf, ...everything, ...otherMarkets];
    await vi.waitUntil(() => gw.pubsub.stats().subscribers === all.length, { timeout: 10_000, interval: 10 });
    worker.start();
    await vi.waitUntil(() => all.every((s) => s.frames.length >= 3), { timeout: 20_000, interval: 20 });
    await worker.stop();
    // Every update handed to a subscriber is on its socket before counting.
    const sent = () => all.reduce((n, s) => n + s.frames.length, 0);
    await vi.waitUntil(() => gw.pubsub.stats().delivered === sent(), { timeout: 10_000, interval: 20 });

    for (const s of all) expect(s.frames.every((f) => !f.binary && !('errors' in (JSON.parse(f.text) as { payload: object }).payload))).toBe(true);
    for (const s of firstHalf) expect(s.updates().every((u) => eventIds.slice(0, 10).includes(u.data!.oddsUpdated.event.id))).toBe(true);
    for (const s of otherMarkets) expect(s.frames.every((f) => !f.text.includes('"key":"1x2"'))).toBe(true);

    // Per selection, one payload per cursor, byte for byte, whoever received it.
    const bytesByCursor = (group: Subscriber[]) => {
      const byCursor = new Map<string, Set<string>>();
      for (const s of group) {
        s.frames.forEach((frame, i) => {
          const cursor = s.updates()[i]!.data!.oddsUpdated.cursor;
          byCursor.set(cursor, (byCursor.get(cursor) ?? new Set()).add(payloadBytes(frame.text)));
        });
      }
      return byCursor;
    };
    const oneX2 = bytesByCursor([...firstHalf, ...everything]);
    const overUnder = bytesByCursor(otherMarkets);
    for (const variants of [...oneX2.values(), ...overUnder.values()]) expect(variants.size).toBe(1);
    for (const [cursor, [bytes]] of overUnder) expect(oneX2.get(cursor)?.has(bytes!)).not.toBe(true);

    const after = await executions();
    expect(after.executions - before.executions).toBe(oneX2.size + overUnder.size);
    expect(after.executions - before.executions + after.shared - before.shared).toBe(sent());
    for (const s of all) s.raw.socket.close();
  });

  it('sends an answer with errors to each subscriber through the operation pipeline, with its own connection id', async () => {
    const errorsBefore = gw.gateway.metrics.registry.getSingleMetric('oddsgate_graphql_errors_total');
    const counted = async () => ((await errorsBefore?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
    const countedBefore = await counted();
    const subscribers = await Promise.all(Array.from({ length: 3 }, () => subscribe(gw.gateway.url, { keys: ['1x2'] })));
    await vi.waitUntil(() => gw.pubsub.stats().subscribers === 3, { timeout: 10_000, interval: 10 });
    // An update whose selection fails to resolve: an internal error, as a broken resolver would give.
    gw.pubsub.publish({
      eventId: Number(eventIds[0]),
      bookmakerId: 1,
      snapshot: null as never,
      changedMarkets: [],
      publishedAt: Date.now(),
      place: { position: 1n, index: 0 },
    });
    await vi.waitUntil(() => subscribers.every((s) => s.frames.length === 1), { timeout: 10_000, interval: 10 });
    const errors = subscribers.map((s) => s.updates()[0]!.errors![0]!);
    expect(errors.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR']);
    expect(new Set(errors.map((e) => e.extensions?.requestId)).size).toBe(3);
    expect((await counted()) - countedBefore).toBe(3);
    for (const s of subscribers) s.raw.socket.close();
  });
});
