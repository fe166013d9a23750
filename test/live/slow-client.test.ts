import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeLogCursor } from '../../src/api/cursor.js';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { openAcknowledgedSocket, type RawSocket } from '../hardening/sockets.js';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const query = /* GraphQL */ `
  subscription Board {
    oddsUpdatedBatch { cursor event { id } snapshot { id snapshotId bookmaker { key } capturedAt markets { key outcomes { key price previousPrice } } } }
  }
`;

interface Update {
  cursor: string;
  event: { id: string };
  snapshot: { snapshotId: string; bookmaker: { key: string } };
}

/** A batched subscriber on every event: each update it received, in order. */
async function subscribe(url: string): Promise<{ raw: RawSocket; updates: Update[] }> {
  const raw = await openAcknowledgedSocket(url);
  const updates: Update[] = [];
  raw.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { oddsUpdatedBatch: Update[] } } };
    if (message.type === 'next') updates.push(...message.payload!.data!.oddsUpdatedBatch);
  });
  raw.send({ id: 'board', type: 'subscribe', payload: { query } });
  return { raw, updates };
}

const pair = (update: Update) => `${update.event.id}|${update.snapshot.bookmaker.key}`;
const lastByPair = (updates: Update[]) => new Map(updates.map((update) => [pair(update), update.snapshot.snapshotId]));

describe('a batched subscriber on every event whose client stops reading', () => {
  let gw: TestGateway;
  let worker: IngestWorker;
  beforeAll(async () => {
    // A paused client answers no keep-alive ping: the default interval (12 s) would close it within the wait below.
    gw = await startTestGateway({ kind: anyKind, cache: true, config: { wsKeepAliveMs: 120_000 } });
    worker = gw.simulatedWorker({ changesPerSecond: 2_000 }, { intervalMs: 50 });
  });
  afterAll(async () => {
    await worker?.stop();
    await gw?.close();
  });

  it('is conflated on the gateway, not buffered in the kernel, and gets the newest state of every pair in log order once it reads again', { timeout: 120_000 }, async () => {
    const fast = await subscribe(gw.gateway.url);
    const slow = await subscribe(gw.gateway.url);
    await vi.waitUntil(() => gw.pubsub.stats().subscribers === 2, { timeout: 10_000, interval: 10 });
    // The slow client stops reading: what the gateway writes fills the socket buffers, which hold megabytes.
    const slowSocket = (slow.raw.socket as unknown as { _socket: Socket })._socket;
    slowSocket.pause();
    worker.start();
    // Twice the board's 480 pairs: only a gateway that waits for the client's confirmation keeps the slow one's
    // updates where they can conflate. Embedded PGlite on a slow machine commits a few hundred a second.
    await vi.waitUntil(() => fast.updates.length > 1_000, { timeout: 60_000, interval: 20 });
    await worker.stop();
    // The board below is the gateway's cache: read before the gateway applied the last commits, it is older
    // than what the fast client ends up holding, and the wait below never ends.
    await vi.waitUntil(async () => (await gw.gateway.follower.behind()) === null, { timeout: 30_000, interval: 50 });
    // Far more than the 64 KiB the slow client may leave unread (a few hundred updates): enough to conflate.
    expect(fast.updates.length).toBeGreaterThan(600);
    const board = await gw.query<{ data: { events: { nodes: Array<{ id: string; odds: Array<{ snapshotId: string; bookmaker: { key: string } }> }> } } }>(
      '{ events(first: 200) { nodes { id odds { snapshotId bookmaker { key } } } } }',
    );
    const newest = new Map<string, string>(board.data.events.nodes.flatMap((event) => event.odds.map((odds) => [`${event.id}|${odds.bookmaker.key}`, odds.snapshotId] as const)));
    const holdsNewest = (updates: Update[]) => {
      const last = lastByPair(updates);
      return [...lastByPair(fast.updates).keys()].every((key) => last.get(key) === newest.get(key));
    };
    await vi.waitUntil(() => holdsNewest(fast.updates), { timeout: 30_000, interval: 20 });

    slowSocket.resume();
    await vi.waitUntil(() => holdsNewest(slow.updates), { timeout: 30_000, interval: 20 });
    // It skipped intermediate prices, never went back to an older one of a pair, and missed no pair.
    expect(slow.updates.length).toBeLessThan(fast.updates.length);
    expect(gw.pubsub.stats().conflated).toBeGreaterThanOrEqual(fast.updates.length - slow.updates.length);
    const placeByPair = new Map<string, bigint>();
    for (const update of slow.updates) {
      const { position } = decodeLogCursor(update.cursor);
      expect(position).toBeGreaterThan(placeByPair.get(pair(update)) ?? -1n);
      placeByPair.set(pair(update), position);
    }
    expect(new Set(slow.updates.map(pair))).toEqual(new Set(fast.updates.map(pair)));
    fast.raw.socket.close();
    slow.raw.socket.close();
  });
});
