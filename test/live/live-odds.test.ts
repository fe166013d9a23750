import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/domain/cache-keys.js';
import { eventOddsRecord, eventRecord, type EventOddsRecord, type EventRecord, type SnapshotRecord } from '../../src/domain/records.js';
import { latestOddsId } from '../../src/domain/odds-ids.js';
import { LiveOdds } from '../../src/live/live-odds.js';
import { InProcessPubSub, type OddsUpdateMessage } from '../../src/live/pubsub.js';
import { BoardIndex, boardWindowMs } from '../../src/read/board-index.js';
import { estimateBytes, LruOddsCache } from '../../src/read/odds-cache.js';
import { logChange } from '../support/log-changes.js';

const now = Date.UTC(2026, 10, 22, 12);
const hour = 3_600_000;

function event(id: number, kickoffAtMs: number): EventRecord {
  return eventRecord({ id, externalId: `e${id}`, sportId: 1, competitionId: 1, home: `Home ${id}`, away: `Away ${id}`, kickoffAt: new Date(kickoffAtMs), status: 'SCHEDULED', scoreHome: null, scoreAway: null, clockPeriod: null, clockMinute: null });
}

function snapshot(eventId: number, bookmakerId: number, capturedAtMs: number, price: number): SnapshotRecord {
  const nodeId = latestOddsId(eventId, bookmakerId);
  const changedAt = new Date(capturedAtMs).toISOString();
  const outcomes = [{ id: `${nodeId}/1x2/home`, key: 'home', name: 'Home', price, previousPrice: null, changedAt, result: null }];
  const markets = [{ id: `${nodeId}/1x2`, key: '1x2', name: 'Match result', line: null, status: 'OPEN' as const, margin: 0, outcomes }];
  return { id: eventId * 100 + bookmakerId, nodeId, eventId, bookmakerId, capturedAt: new Date(capturedAtMs).toISOString(), markets };
}

/** A gateway's live side on real parts: its LRU cache, its board and its subscribers. */
function liveSide() {
  const cache = new LruOddsCache({ maxBytes: 1 << 20, now: () => now });
  const board = new BoardIndex(() => now);
  const pubsub = new InProcessPubSub();
  const liveOdds = new LiveOdds({ cache, board, pubsub, now: () => now });
  const subscription = pubsub.subscribe();
  /** The next `count` updates the subscriber was handed. */
  const take = async (count: number) => {
    const received: OddsUpdateMessage[] = [];
    while (received.length < count) received.push((await subscription.next()).value as OddsUpdateMessage);
    return received;
  };
  return { cache, board, liveOdds, take };
}

describe('live odds: a gateway applying change-log entries', () => {
  it('puts a new event on the board, moves the cached odds, and only then tells subscribers, with the place in the log', async () => {
    const { cache, board, liveOdds, take } = liveSide();
    const upcoming = event(1, now + hour);
    const other = snapshot(1, 8, now - 2000, 3.0);
    cache.set(cacheKey('EventOdds', 1), eventOddsRecord(1, [snapshot(1, 7, now - 5000, 2.4), other]));
    const moved = snapshot(1, 7, now - 1000, 2.5);
    expect(liveOdds.apply(logChange(42, [moved], { events: [upcoming] }), now)).toBe(1);
    const cached = cache.peek<EventOddsRecord>(cacheKey('EventOdds', 1))!.value;
    expect(cached.snapshots).toEqual(expect.arrayContaining([moved, other]));
    expect(cached.snapshots).toHaveLength(2);
    expect(cache.peek(cacheKey('Event', 1))?.value).toBe(upcoming);
    expect(board.has(1)).toBe(true);
    const [update] = await take(1);
    expect(update).toMatchObject({ eventId: 1, bookmakerId: 7, snapshot: moved, changedMarkets: ['1x2'], place: { position: 42n, index: 0 } });
  });

  it('keeps a newer snapshot the cache already holds (read from the database after a later commit)', async () => {
    const { cache, liveOdds, take } = liveSide();
    const newer = snapshot(1, 7, now - 1000, 2.6);
    cache.set(cacheKey('EventOdds', 1), eventOddsRecord(1, [newer]));
    expect(liveOdds.apply(logChange(7, [snapshot(1, 7, now - 9000, 2.4)]), now)).toBe(1);
    expect(cache.peek<EventOddsRecord>(cacheKey('EventOdds', 1))!.value.snapshots).toEqual([newer]);
    expect((await take(1)).map((u) => u.snapshot.markets[0]!.outcomes[0]!.price)).toEqual([2.4]);
  });

  it('moves several bookmakers of one event in one batch into one record, the later of a bookmaker winning, and tells subscribers', async () => {
    const { cache, liveOdds, take } = liveSide();
    cache.set(cacheKey('EventOdds', 1), eventOddsRecord(1, [snapshot(1, 7, now - 5000, 2.4), snapshot(1, 8, now - 5000, 3.0)]));
    const [first, second, last] = [snapshot(1, 7, now - 3000, 2.5), snapshot(1, 8, now - 2000, 3.1), snapshot(1, 7, now - 1000, 2.6)];
    expect(liveOdds.apply(logChange(9, [first, second, last]), now)).toBe(3);
    const cached = cache.peek<EventOddsRecord>(cacheKey('EventOdds', 1))!.value;
    expect(cached.snapshots).toEqual([last, second]);
    expect(cached.bestPrices).toEqual([{ market: '1x2', line: null, outcome: 'home', price: 3.1, bookmakerId: 8 }]);
    // Published in the log's order; the subscriber, not reading yet, holds each pair's newest (its queue conflates).
    const received = (await take(2)).map((u) => [u.bookmakerId, u.snapshot.markets[0]!.outcomes[0]!.price]);
    expect(received).toHaveLength(2);
    expect(received).toEqual(expect.arrayContaining([[8, 3.1], [7, 2.6]]));
  });

  it('sizes a record that shares snapshots with an earlier one as it sizes the same record built anew', () => {
    const kept = snapshot(1, 8, now - 5000, 3.0);
    const before = eventOddsRecord(1, [snapshot(1, 7, now - 5000, 2.4), kept]);
    const after = eventOddsRecord(1, [snapshot(1, 7, now - 1000, 2.5), kept]);
    expect(estimateBytes(before)).toBe(estimateBytes(structuredClone(before)));
    expect(estimateBytes(after)).toBe(estimateBytes(structuredClone(after)));
    expect(estimateBytes(after)).toBe(estimateBytes(before));
  });

  it('leaves odds it has not cached to the next read: a single snapshot is not an event\'s odds', () => {
    const { cache, liveOdds } = liveSide();
    liveOdds.apply(logChange(1, [snapshot(1, 7, now - 1000, 2.5)]), now);
    expect(cache.peek(cacheKey('EventOdds', 1))).toBeUndefined();
  });

  it('takes events two hours past kick-off off the board and out of the cache', () => {
    const { cache, board, liveOdds } = liveSide();
    const past = event(1, now - boardWindowMs - 1);
    board.upsert(past, true);
    cache.set(cacheKey('Event', 1), past);
    cache.set(cacheKey('EventOdds', 1), eventOddsRecord(1, []));
    expect(liveOdds.evictPastEvents()).toBe(1);
    expect(board.has(1)).toBe(false);
    expect(cache.peek(cacheKey('Event', 1))).toBeUndefined();
    expect(cache.peek(cacheKey('EventOdds', 1))).toBeUndefined();
  });

  it('forgets every cached odds entry when changes were missed for good, and keeps the rest', () => {
    const { cache, liveOdds } = liveSide();
    liveOdds.apply(logChange(1, [], { events: [event(1, now + hour), event(2, now + hour)] }), now);
    cache.set(cacheKey('EventOdds', 1), eventOddsRecord(1, []));
    cache.set(cacheKey('EventOdds', 2), eventOddsRecord(2, []));
    expect(liveOdds.forgetOdds()).toBe(2);
    expect(cache.peek(cacheKey('EventOdds', 1))).toBeUndefined();
    expect(cache.peek(cacheKey('Event', 1))).toBeDefined();
  });
});
