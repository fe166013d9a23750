import { describe, expect, it } from 'vitest';
import type { SnapshotRecord } from '../../src/domain/records.js';
import { inBatches } from '../../src/live/batches.js';
import { InProcessPubSub, type OddsUpdateMessage } from '../../src/live/pubsub.js';

let position = 0n;
function update(eventId: number, bookmakerId = 1): OddsUpdateMessage {
  const snapshot = { id: Number(++position), eventId, bookmakerId, markets: [] } as unknown as SnapshotRecord;
  return { eventId, bookmakerId, snapshot, changedMarkets: [], publishedAt: 0, place: { position, index: 0 } };
}
const positions = (batch: OddsUpdateMessage[] | undefined) => batch?.map((u) => u.place.position);

describe('odds subscriptions read in batches', () => {
  it('gives a subscriber that waits a whole burst of changes as one batch, in log order', async () => {
    const pubsub = new InProcessPubSub();
    const batches = inBatches(pubsub.subscribe());
    const next = batches.next();
    const burst = [update(1), update(2), update(3), update(1, 2)];
    for (const published of burst) pubsub.publish(published);
    expect(positions((await next).value)).toEqual(positions(burst));
    await batches.return();
    expect(pubsub.stats().subscribers).toBe(0);
  });

  it('gives a subscriber that fell behind the newest update of each pair it missed, in log order, at most the batch size per batch', async () => {
    const pubsub = new InProcessPubSub();
    const batches = inBatches(pubsub.subscribe(), 500);
    const stale = Array.from({ length: 600 }, (_, i) => update(i));
    for (const published of stale) pubsub.publish(published);
    const newer = [update(5), update(0), update(599)];
    for (const published of newer) pubsub.publish(published);

    const first = (await batches.next()).value;
    const second = (await batches.next()).value;
    const received = [...first!, ...second!];
    expect(first).toHaveLength(500);
    expect(received).toHaveLength(600);
    // One per event, each its newest, moved to the back in the order the newer ones came.
    const expected = [...stale.filter((u) => ![0, 5, 599].includes(u.eventId)), ...newer];
    expect(positions(received)).toEqual(positions(expected));
    expect(pubsub.stats()).toMatchObject({ conflated: 3, dropped: 0, delivered: 600 });
    await batches.return();
  });
});
