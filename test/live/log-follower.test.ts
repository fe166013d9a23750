import { describe, expect, it } from 'vitest';
import type { LogBatch, LogEntry } from '../../src/domain/change-log.js';
import type { EventRecord } from '../../src/domain/records.js';
import { LogFollower } from '../../src/live/log-follower.js';
import { silentLogger } from '../../src/ops/log.js';

const eventRecord = (id: number): EventRecord => ({
  id,
  externalId: `e${id}`,
  sportId: 1,
  competitionId: 1,
  home: 'Home',
  away: 'Away',
  kickoffAt: '2026-12-03T18:00:00.000Z',
  kickoffAtMs: Date.parse('2026-12-03T18:00:00.000Z'),
  status: 'SCHEDULED',
  score: null,
  clock: null,
});

/** A change log in memory: position p moves `oddsAt(p)` (event, bookmaker)s and, every tenth position, one event's state. */
function memoryLog(positions: number, oddsAt: (position: number) => number) {
  const entries: LogEntry[] = [];
  const append = (p: number) =>
    entries.push({
      position: String(p),
      odds: Array.from({ length: oddsAt(p) }, (_, index) => {
        const eventId = 1 + ((p + index) % 40);
        const snapshot = { id: p * 1_000 + index, nodeId: `${eventId}:1`, eventId, bookmakerId: 1 + (index % 6), capturedAt: '', markets: [] };
        return { index, eventId, bookmakerId: snapshot.bookmakerId, snapshot, changedMarkets: [] };
      }),
      eventsChanged: p % 10 === 0 ? [1 + (p % 40)] : [],
    });
  for (let p = 1; p <= positions; p++) append(p);
  const batchOf = (chosen: LogEntry[]): LogBatch => {
    const ids = new Set(chosen.flatMap((entry) => [...entry.odds.map((item) => item.eventId), ...entry.eventsChanged]));
    return { entries: chosen, events: [...ids].map(eventRecord) };
  };
  return {
    entries,
    append,
    /** Every item and event change in log order, as `apply` should see them. */
    expected: () => entries.flatMap((entry) => [...entry.odds.map((item) => `${entry.position}:${item.index}`), ...entry.eventsChanged.map((id) => `${entry.position}:event ${id}`)]),
    message: (p: number) => ({ ...batchOf(entries.filter((entry) => entry.position === String(p))), publishedAt: 0 }),
    reader: {
      async changesAfter({ position }: { position: bigint }, { limit = 1_000 } = {}) {
        const after = entries.filter((entry) => BigInt(entry.position) > position);
        return { ...batchOf(after.slice(0, limit)), more: after.length > limit };
      },
      async logBounds() {
        return { oldest: entries.length ? BigInt(entries[0]!.position) : null, newest: entries.length ? BigInt(entries.at(-1)!.position) : null };
      },
    },
  };
}

/**
 * A follower on `log` recording what it applies, with the position it reported before each call; `during(n)`
 * runs after the nth call. Its clock moves `msPerApply` with each call, so a turn's budget (10 ms) lasts
 * three pieces at the default 4.
 */
function follow(log: ReturnType<typeof memoryLog>, during: (call: number) => void = () => {}, msPerApply = 4) {
  let clock = 0;
  const applied: string[] = [];
  const calls: Array<{ positionBefore: bigint; odds: number; firstItem: number }> = [];
  const follower = new LogFollower({
    reader: log.reader,
    startAfter: 0n,
    apply: (batch) => {
      calls.push({ positionBefore: follower.position, odds: batch.entries.reduce((n, e) => n + e.odds.length, 0), firstItem: applied.length });
      for (const entry of batch.entries) {
        applied.push(...entry.odds.map((item) => `${entry.position}:${item.index}`), ...entry.eventsChanged.map((id) => `${entry.position}:event ${id}`));
        const eventIds = new Set(batch.events.map((event) => event.id));
        expect(entry.odds.every((item) => eventIds.has(item.eventId)) && entry.eventsChanged.every((id) => eventIds.has(id))).toBe(true);
      }
      clock += msPerApply;
      during(calls.length);
    },
    clock: () => clock,
    onLost: () => expect.unreachable('the log holds everything'),
    logger: silentLogger(),
  });
  return { follower, applied, calls };
}

describe('a log follower catching up', () => {
  it('applies a catch-up of 18,000 changes over many turns of the event loop, in log order, each once', async () => {
    const log = memoryLog(1_000, () => 18);
    const { follower, applied, calls } = follow(log);
    let appliedWhenTheLoopTurned: number | undefined;
    follower.catchUp();
    // Scheduled before the catch-up's first piece: it runs once the follower gives the event loop a turn.
    setImmediate(() => (appliedWhenTheLoopTurned = applied.length));
    await expect.poll(() => follower.position, { timeout: 10_000 }).toBe(1_000n);
    expect(applied).toEqual(log.expected());
    expect(appliedWhenTheLoopTurned).toBeGreaterThan(0);
    expect(appliedWhenTheLoopTurned).toBeLessThan(applied.length / 10);
    expect(Math.max(...calls.map((call) => call.odds))).toBeLessThanOrEqual(100);
    follower.close();
  });

  it('applies pieces one after another in the same turn while they take less than its budget', async () => {
    const log = memoryLog(1_000, () => 18);
    const { follower, applied } = follow(log, () => {}, 0);
    let appliedWhenTheLoopTurned: number | undefined;
    follower.catchUp();
    setImmediate(() => (appliedWhenTheLoopTurned = applied.length));
    await expect.poll(() => follower.position, { timeout: 10_000 }).toBe(1_000n);
    expect(appliedWhenTheLoopTurned).toBe(applied.length);
    follower.close();
  });

  it('advances its position only past positions applied whole, when a position moves more than a turn takes', async () => {
    const log = memoryLog(40, (p) => (p % 3 === 0 ? 250 : 7));
    const { follower, applied, calls } = follow(log);
    follower.catchUp();
    await expect.poll(() => follower.position, { timeout: 10_000 }).toBe(40n);
    expect(applied).toEqual(log.expected());
    const expected = log.expected();
    const positionOf = (item: string) => BigInt(item.slice(0, item.indexOf(':')));
    expect(calls.length).toBeGreaterThan(10);
    for (const { positionBefore, firstItem } of calls) {
      // What was applied before this call is exactly the positions up to the reported one, and maybe part of the next.
      const before = expected.slice(0, firstItem);
      const wholeUpTo = expected.findIndex((item) => positionOf(item) > positionBefore);
      expect(before.length).toBeGreaterThanOrEqual(wholeUpTo === -1 ? expected.length : wholeUpTo);
      expect(before.every((item) => positionOf(item) <= positionBefore + 1n)).toBe(true);
      expect(before.filter((item) => positionOf(item) === positionBefore + 1n).length).toBeLessThan(expected.filter((item) => positionOf(item) === positionBefore + 1n).length);
    }
    follower.close();
  });

  it('applies live messages that arrive during a catch-up once, in log order', async () => {
    const log = memoryLog(500, () => 18);
    let received = false;
    const { follower, applied } = follow(log, (call) => {
      if (call !== 3) return;
      // Mid catch-up: a message it already covered, one it has yet to reach, and a commit beyond what it read.
      follower.receive(log.message(2));
      follower.receive(log.message(400));
      log.append(501);
      follower.receive(log.message(501));
      received = true;
    });
    follower.catchUp();
    await expect.poll(() => follower.position, { timeout: 10_000 }).toBe(501n);
    expect(received).toBe(true);
    expect(applied).toEqual(log.expected());
    follower.close();
  });
});
