import { describe, expect, it } from 'vitest';
import type { SnapshotRecord } from '../../src/domain/records.js';
import { inBatches } from '../../src/live/batches.js';
import { DeliveryTurn } from '../../src/live/delivery-turn.js';
import { InProcessPubSub, type OddsUpdateMessage } from '../../src/live/pubsub.js';
import { SharedTape } from '../../src/live/shared-tape.js';

let position = 0n;
function update(eventId: number, bookmakerId = 1): OddsUpdateMessage {
  const snapshot = { id: Number(++position), eventId, bookmakerId, markets: [] } as unknown as SnapshotRecord;
  return { eventId, bookmakerId, snapshot, changedMarkets: [], publishedAt: 0, place: { position, index: 0 } };
}
const positions = (batch: readonly OddsUpdateMessage[] | undefined) => batch?.map((u) => u.place.position);

describe('batched subscribers on every event (one shared tape)', () => {
  it('gives each waiting subscriber a burst as one batch in log order, the same array for all of them', async () => {
    const pubsub = new InProcessPubSub();
    const subscribers = Array.from({ length: 3 }, () => inBatches(pubsub.subscribe({ batched: true })));
    const next = subscribers.map((batches) => batches.next());
    const burst = [update(1), update(2), update(3), update(1, 2)];
    for (const published of burst) pubsub.publish(published);
    const batches = await Promise.all(next);
    expect(positions(batches[0]!.value)).toEqual(positions(burst));
    // One array: src/api/shared-execution.ts answers it once, and every socket writes the same bytes.
    expect(batches[1]!.value).toBe(batches[0]!.value);
    expect(batches[2]!.value).toBe(batches[0]!.value);
    expect(pubsub.stats()).toMatchObject({ subscribers: 3, delivered: 12, conflated: 0, dropped: 0 });
    await Promise.all(subscribers.map((batches) => batches.return()));
    expect(pubsub.stats()).toMatchObject({ subscribers: 0, delivered: 12 });
  });

  it('gives a subscriber that is behind one batch per tick with the newest state of each pair, in log order, never an older state after a newer', async () => {
    const pubsub = new InProcessPubSub({ behindIntervalMs: 20 });
    const subscription = pubsub.subscribe({ batched: true });
    const received: OddsUpdateMessage[] = [];
    let ticksWaited = 0;
    // Everything below is published while the subscriber has not asked yet: it is behind on each read.
    const rounds: OddsUpdateMessage[][] = [
      [update(1), update(2), update(1), update(3)],
      [update(2), update(2), update(4), update(1)],
      [update(3), update(5), update(3)],
    ];
    // And these while it waits for the tick (none on the first read, which comes at once).
    const whileWaiting = [[], [update(2), update(6)], [update(5)]];
    for (const [i, round] of rounds.entries()) {
      for (const published of round) pubsub.publish(published);
      const read = subscription.nextBatch(500);
      let settled = false;
      void read.then(() => (settled = true));
      await Promise.resolve();
      if (!settled) ticksWaited++;
      for (const published of whileWaiting[i]!) pubsub.publish(published);
      rounds[i] = [...round, ...whileWaiting[i]!];
      received.push(...(await read).value!);
    }
    // The first read comes at once; each later one waits for the tape's tick, taking all that came meanwhile.
    expect(ticksWaited).toBe(2);
    const newestPerPairInLogOrder = (round: OddsUpdateMessage[]) => round.filter((u, i) => !round.slice(i + 1).some((later) => later.eventId === u.eventId));
    expect(positions(received)).toEqual(positions(rounds.flatMap(newestPerPairInLogOrder)));
    // Per pair, what arrives only ever moves forward in the log.
    const lastByPair = new Map<number, bigint>();
    for (const { eventId, place } of received) {
      expect(place.position).toBeGreaterThan(lastByPair.get(eventId) ?? -1n);
      lastByPair.set(eventId, place.position);
    }
    expect(subscription.conflated).toBe(5);
    await subscription.return();
    expect(pubsub.stats()).toMatchObject({ subscribers: 0, conflated: 5, delivered: received.length });
  });

  it('applies the bookmaker and market filters when reading', async () => {
    const pubsub = new InProcessPubSub();
    const subscription = pubsub.subscribe({ batched: true, bookmakerIds: new Set([2]) });
    const next = subscription.nextBatch(500);
    const burst = [update(1, 1), update(1, 2), update(2, 2), update(3, 1)];
    for (const published of burst) pubsub.publish(published);
    expect(positions((await next).value)).toEqual(positions([burst[1]!, burst[2]!]));
    await subscription.return();
  });

  it('keeps no more than its bound for a subscriber that never reads: superseded entries go first, then the oldest, counted as dropped', async () => {
    const tape = new SharedTape<number>({ maxEntries: 50 });
    const reader = tape.reader(new DeliveryTurn(500), undefined, () => {});
    // 3 keys over and over: the tape compacts to their newest entries.
    for (let i = 0; i < 10_000; i++) tape.append(`k${i % 3}`, i);
    expect(tape.length).toBeLessThanOrEqual(1024);
    // 80 more keys: 83 newest states for a bound of 50.
    for (let key = 0; key < 80; key++) tape.append(`n${key}`, 20_000 + key);
    for (let i = 0; i < 2_000; i++) tape.append(`k${i % 3}`, 30_000 + i);
    expect(tape.length).toBeLessThanOrEqual(1024);
    const { value } = await reader.nextBatch(500);
    expect(reader.dropped).toBeGreaterThan(0);
    // What it still gets is the newest of each key it gets, in the order of their newest entries.
    expect(value!.slice(-3)).toEqual([31_997, 31_998, 31_999]);
    expect(value).toEqual([...value!].sort((a, b) => a - b));
    // Of the 80 keys seen once, the oldest went: what is left of them is the newest ones, n79 included.
    const once = value!.filter((v: number) => v >= 20_000 && v < 30_000);
    expect(once.length).toBeLessThan(80);
    expect(once).toEqual(Array.from({ length: once.length }, (_, i) => 20_080 - once.length + i));
    await reader.return();
  });

  it('counts what it compacts away under a reader far behind as conflated for that reader, as a read would', async () => {
    const tape = new SharedTape<number>();
    const behind = tape.reader(new DeliveryTurn(100_000), undefined, () => {});
    const odd = tape.reader(new DeliveryTurn(100_000), (value) => value % 2 === 1, () => {});
    // 10 keys, each updated 300 times: the tape compacts the superseded entries as it goes.
    for (let i = 0; i < 3_000; i++) tape.append(`k${i % 10}`, i);
    expect(tape.length).toBeLessThan(3_000);
    const all = await behind.nextBatch(100_000);
    const some = await odd.nextBatch(100_000);
    expect(all.value).toEqual(Array.from({ length: 10 }, (_, k) => 2_990 + k));
    expect(some.value).toEqual([2_991, 2_993, 2_995, 2_997, 2_999]);
    // Every update is delivered or counted as conflated, whether a read or the compaction passed over it.
    expect(behind.delivered + behind.conflated).toBe(3_000);
    expect(odd.delivered + odd.conflated).toBe(1_500);
    await Promise.all([behind.return(), odd.return()]);
  });

  it('forgets what every reader has read', async () => {
    const tape = new SharedTape<number>();
    const readers = [0, 1].map(() => tape.reader(new DeliveryTurn(500), undefined, () => {}));
    for (let round = 0; round < 100; round++) {
      // Readers that keep up: waiting when each burst comes.
      const batches = readers.map((reader) => reader.nextBatch(500));
      for (let i = 0; i < 100; i++) tape.append(`k${round}:${i}`, i);
      await Promise.all(batches);
    }
    expect(tape.length).toBeLessThan(1_200);
    expect(readers.map((reader) => reader.delivered)).toEqual([10_000, 10_000]);
    await Promise.all(readers.map((reader) => reader.return()));
    expect(tape.readers).toBe(0);
  });

  it('ends a waiting reader with the error it fails with, and event subscribers with it', async () => {
    const pubsub = new InProcessPubSub();
    const subscription = pubsub.subscribe({ batched: true });
    const events = pubsub.subscribeEvents({ eventIds: new Set([1]) });
    const next = subscription.nextBatch(500);
    const nextEvent = events.next();
    expect(pubsub.expireSubscriptions(new Error('gone'))).toBe(2);
    await expect(next).rejects.toThrow('gone');
    await expect(nextEvent).rejects.toThrow('gone');
    expect(await subscription.nextBatch(500)).toEqual({ value: undefined, done: true });
    expect(await events.next()).toEqual({ value: undefined, done: true });
  });
});
