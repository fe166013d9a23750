import { describe, expect, it } from 'vitest';
import { BoardIndex } from '../../src/read/board-index.js';
import { eventRecord } from '../../src/domain/records.js';
import type { EventStatus } from '../../src/generated/prisma/enums.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const minutes = 60_000;

function event(id: number, kickoffOffsetMinutes: number, sportId = 1, status: EventStatus = 'SCHEDULED') {
  return eventRecord({
    id,
    externalId: `e${id}`,
    sportId,
    competitionId: sportId * 10,
    home: `H${id}`,
    away: `A${id}`,
    kickoffAt: new Date(now + kickoffOffsetMinutes * minutes),
    status,
    scoreHome: null,
    scoreAway: null,
    clockPeriod: null,
    clockMinute: null,
  });
}

describe('BoardIndex', () => {
  const board = () => {
    const index = new BoardIndex(() => now);
    index.replaceAll(
      [event(5, 60), event(1, -180, 1, 'FINISHED'), event(2, -90, 2, 'LIVE'), event(3, 30), event(4, 30, 2)],
      [2, 3, 5],
    );
    return index;
  };
  const ids = (page: { events: ReadonlyArray<{ id: number }> }) => page.events.map((e) => e.id);

  it('changes its version when an event joins, gains odds or leaves, and only then', () => {
    const index = board();
    let version = index.version;
    const changed = () => {
      const moved = index.version !== version;
      version = index.version;
      return moved;
    };
    index.markWithOdds(3); // already has odds
    expect(changed()).toBe(false);
    index.markWithOdds(4);
    expect(changed()).toBe(true);
    index.upsert(event(6, 120), true);
    expect(changed()).toBe(true);
    expect(index.evictBefore(now - 240 * minutes)).toEqual([]);
    expect(changed()).toBe(false);
    expect(index.evictBefore(now - 60 * minutes)).toEqual([1, 2]);
    expect(changed()).toBe(true);
  });

  it('says how long its membership holds by the clock alone: until its earliest event kicked off two hours ago', () => {
    // Event 1 (three hours ago) is out of the window already; event 2, 90 minutes ago, leaves it in 30 minutes.
    expect(board().stableForMs()).toBe(30 * minutes + 1);
    expect(new BoardIndex(() => now).stableForMs()).toBe(Infinity);
  });

  it('lists events from two hours ago on, in kick-off then id order', () => {
    const page = board().page({ first: 10 });
    expect(ids(page)).toEqual([2, 3, 4, 5]);
    expect(page).toMatchObject({ totalCount: 4, hasNextPage: false });
  });

  it('pages with a cursor, counting every match however far it has paged', () => {
    const index = board();
    const first = index.page({ first: 2 });
    expect(ids(first)).toEqual([2, 3]);
    expect(first.hasNextPage).toBe(true);
    const last = first.events.at(-1)!;
    const second = index.page({ first: 2, after: { kickoffAtMs: last.kickoffAtMs, id: last.id } });
    expect(ids(second)).toEqual([4, 5]);
    expect(second).toMatchObject({ totalCount: 4, hasNextPage: false });
  });

  it('pages backward from the end or from a cursor, and says what lies on either side', () => {
    const index = board();
    const position = (id: number) => {
      const found = index.page({ first: 10 }).events.find((e) => e.id === id)!;
      return { kickoffAtMs: found.kickoffAtMs, id };
    };
    const end = index.page({ first: 2, fromEnd: true });
    expect(ids(end)).toEqual([4, 5]);
    expect(end).toMatchObject({ totalCount: 4, hasNextPage: false, hasPreviousPage: true });
    const before = index.page({ first: 2, fromEnd: true, before: position(4) });
    expect(ids(before)).toEqual([2, 3]);
    expect(before).toMatchObject({ totalCount: 4, hasNextPage: true, hasPreviousPage: false });
    // Both cursors: the events strictly between them, counted from either end.
    expect(ids(index.page({ first: 10, after: position(2), before: position(5) }))).toEqual([3, 4]);
    expect(index.page({ first: 1, fromEnd: true, after: position(2), before: position(5) })).toMatchObject({
      events: [expect.objectContaining({ id: 4 })],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    expect(index.page({ first: 2, after: position(2) })).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('filters by sport, competition, status, odds and kick-off range', () => {
    const index = board();
    expect(ids(index.page({ first: 10, sportId: 2 }))).toEqual([2, 4]);
    expect(ids(index.page({ first: 10, competitionId: 10 }))).toEqual([3, 5]);
    expect(ids(index.page({ first: 10, statuses: ['LIVE'] }))).toEqual([2]);
    expect(ids(index.page({ first: 10, hasOdds: false }))).toEqual([4]);
    expect(ids(index.page({ first: 10, kickoffFrom: new Date(now), kickoffTo: new Date(now + 30 * minutes) }))).toEqual([3, 4]);
  });

  it('says which queries it can answer: none that start before its window', () => {
    const index = board();
    expect(index.covers(undefined)).toBe(true);
    expect(index.covers(new Date(now - 60 * minutes))).toBe(true);
    expect(index.covers(new Date(now - 3 * 60 * minutes))).toBe(false);
  });

  it('keeps order when an event is added or moved, and forgets evicted events', () => {
    const index = board();
    index.upsert(event(6, 45), true);
    index.upsert(event(3, 90), false); // kick-off moved back, odds pulled
    expect(ids(index.page({ first: 10 }))).toEqual([2, 4, 6, 5, 3]);
    expect(ids(index.page({ first: 10, hasOdds: true }))).toEqual([2, 6, 5]);
    expect(index.evictBefore(now)).toEqual([1, 2]);
    expect(index.size).toBe(4);
  });
});
