import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogBatch, LogPlace } from '../../src/domain/change-log.js';
import type { LogReadOptions } from '../../src/db/odds-reader.js';
import type { SnapshotRecord } from '../../src/domain/records.js';
import { RecentChanges } from '../../src/live/recent-changes.js';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { logEntry } from '../support/log-changes.js';

const snapshot = (eventId: number, bookmakerId: number): SnapshotRecord => ({
  id: eventId * 10 + bookmakerId,
  nodeId: `${eventId}:${bookmakerId}`,
  eventId,
  bookmakerId,
  capturedAt: '2026-12-04T20:00:00.000Z',
  markets: [],
});
const piece = (position: number, snapshots: SnapshotRecord[], completes: boolean) => ({ entries: [logEntry(position, snapshots)], events: [], completes: completes ? String(position) : null });

describe('the window of recent changes', () => {
  it('holds the places after its start up to the last position applied whole', () => {
    const recent = new RecentChanges({ startAfter: 10n });
    recent.append(piece(11, [snapshot(1, 1)], true));
    recent.append(piece(13, [snapshot(2, 1), snapshot(2, 2)], true)); // 12 rolled back: the log has no 12 either
    expect([9n, 10n, 11n, 12n, 13n, 14n].map((position) => recent.holds({ position }))).toEqual([false, true, true, true, true, false]);
    // Inside position 10: its later items were applied before the window began.
    expect(recent.holds({ position: 10n, index: 0 })).toBe(false);
    const page = recent.changesAfter({ position: 13n, index: 0 })!;
    expect(page.entries.map((e) => [e.position, e.odds.map((o) => o.index)])).toEqual([['13', [1]]]);
    expect(recent.changesAfter({ position: 10n }, { limit: 1 })).toMatchObject({ entries: [{ position: '11' }], more: true });
  });

  it('does not answer while a long position is applied in pieces, then answers it whole', () => {
    const recent = new RecentChanges({ startAfter: 0n });
    recent.append(piece(1, [snapshot(1, 1), snapshot(1, 2)], false));
    expect(recent.changesAfter({ position: 0n })).toBeUndefined();
    recent.append({ entries: [{ ...logEntry(1, [snapshot(1, 3)]), odds: [{ ...logEntry(1, [snapshot(1, 3)]).odds[0]!, index: 2 }] }], events: [], completes: '1' });
    expect(recent.changesAfter({ position: 0n })!.entries[0]!.odds.map((o) => [o.index, o.bookmakerId])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('keeps at most its number of moved odds and its age, and starts again after what a follower skipped', () => {
    let now = 0;
    const recent = new RecentChanges({ startAfter: 0n, maxOdds: 4, maxAgeMs: 1_000, now: () => now });
    for (let position = 1; position <= 4; position++) recent.append(piece(position, [snapshot(position, 1)], true));
    recent.append(piece(5, [snapshot(5, 1), snapshot(5, 2)], true));
    // Five positions, six moved odds: the two oldest go.
    expect([1n, 2n].map((position) => recent.holds({ position }))).toEqual([false, true]);
    now = 1_001;
    recent.append(piece(6, [snapshot(6, 1)], true));
    expect(recent.changesAfter({ position: 2n })).toBeUndefined();
    expect(recent.changesAfter({ position: 5n })!.entries.map((e) => e.position)).toEqual(['6']);
    recent.restartAfter(40n);
    expect([6n, 40n].map((position) => recent.holds({ position }))).toEqual([false, true]);
  });
});

describe('resuming from the window answers as the database would', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
  });
  afterAll(() => gw?.close());

  it('gives the same entries, items and events for every place and filter', async () => {
    const start = gw.gateway.follower.position;
    const worker = gw.simulatedWorker({ changesPerSecond: 200, seed: 3 });
    for (let i = 0; i < 6; i++) await worker.runCycle();
    const newest = (await gw.test.db.prisma.changeLog.aggregate({ _max: { position: true } }))._max.position!;
    await expect.poll(() => gw.gateway.follower.position).toBe(newest);

    const eventIds = [...new Set((await gw.gateway.reader.changesAfter({ position: start })).entries.flatMap((e) => e.odds.map((o) => o.eventId)))];
    const someEvents = new Set(eventIds.slice(0, 2));
    const options: LogReadOptions[] = [
      {},
      { limit: 2 },
      { keep: (change) => change.bookmakerId === 1 },
      { keep: (change) => someEvents.has(change.eventId), keepEvent: (id) => someEvents.has(id) },
      { keep: () => false, keepEvent: (id) => someEvents.has(id) },
    ];
    const places: LogPlace[] = [];
    for (let position = start; position <= newest; position++) places.push({ position }, { position, index: 0 }, { position, index: 2 });
    const comparable = (page: LogBatch & { more: boolean }) => ({
      entries: page.entries,
      events: [...page.events].sort((a, b) => a.id - b.id),
      more: page.more,
    });
    let compared = 0;
    for (const place of places) {
      for (const option of options) {
        const fromMemory = gw.gateway.recentChanges.changesAfter(place, option);
        if (!fromMemory) continue; // the window's first position, inside it
        const fromDb = await gw.gateway.reader.changesAfter(place, option);
        expect(JSON.parse(JSON.stringify(comparable(fromMemory)))).toEqual(JSON.parse(JSON.stringify(comparable(fromDb))));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(30);
  });
});
