import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFeedRecord } from '../../src/ingest/feed-record.js';
import { SimulatedFeed } from '../../src/ingest/simulated-feed.js';
import { seedDatabase } from '../../src/seed/seed.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';

const day = 86_400_000;

/**
 * The whole simulated board over thirty simulated days, at SIM_SPEED=1000 on
 * a fake clock (43 fake minutes). Nothing is written: the feed plays the
 * seeded events and the fixtures it announces itself, and every record it
 * produces is checked against the feed schema, which carries the store's bounds.
 */
describe('the simulated feed over thirty simulated days', () => {
  let test: TestDatabase;
  const start = Date.parse('2026-12-01T12:00:00Z');
  const refused: string[] = [];
  const statesByEvent = new Map<string, string[]>();
  const eventsPerDay: Array<Set<string>> = Array.from({ length: 30 }, () => new Set());
  let records = 0;

  beforeAll(async () => {
    // Seeded here, not copied from the run's template: the data set is laid out around the fake clock's start.
    test = await createTestDatabase(anyKind, 'migrated');
    await seedDatabase(test.db, { events: 30, bookmakers: 3, now: new Date(start) });
    let clock = start;
    const speed = 1000;
    const feed = new SimulatedFeed(test.db.prisma, {
      now: () => clock,
      speed,
      // Per real second at speed 1: ten changes a second at this speed; a new fixture every simulated hour.
      changesPerSecond: 0.01,
      newEventEverySeconds: 3600,
      refreshEventsMs: day,
    });
    for (; clock < start + (30 * day) / speed; clock += 1000) {
      const simulatedDay = Math.floor(((clock - start) * speed) / day);
      for (const raw of (await feed.poll()).records) {
        records++;
        const checked = checkFeedRecord(raw);
        if (!checked.ok) {
          refused.push(checked.reason);
          continue;
        }
        const record = checked.record;
        eventsPerDay[simulatedDay]!.add(record.event);
        if ('state' in record && record.state) {
          const states = statesByEvent.get(record.event) ?? [];
          if (states.at(-1) !== record.state.status) states.push(record.state.status);
          statesByEvent.set(record.event, states);
        }
      }
    }
  }, 120_000);
  afterAll(() => test?.drop());

  it('produces only records the store accepts', () => {
    expect(records).toBeGreaterThan(10_000);
    expect(refused).toEqual([]);
  });

  it('keeps the board moving every day: new fixtures keep coming as others finish', () => {
    for (const events of eventsPerDay) expect(events.size).toBeGreaterThan(10);
  });

  it('takes every event it plays from live to finished (or cancelled), in that order', () => {
    const lifecycles = [...statesByEvent.values()];
    expect(lifecycles.length).toBeGreaterThan(600);
    const ended = lifecycles.filter((states) => states.at(-1) === 'FINISHED' || states.at(-1) === 'CANCELLED');
    // Events announced in the last simulated day may still be to play.
    expect(ended.length).toBeGreaterThan(lifecycles.length - 60);
    for (const states of lifecycles) expect([['LIVE'], ['LIVE', 'FINISHED'], ['CANCELLED']]).toContainEqual(states);
  });
});
