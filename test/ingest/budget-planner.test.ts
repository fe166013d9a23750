import { describe, expect, it } from 'vitest';
import { averageDemand, plan, tierOf, type PlanInput } from '../../src/ingest/budget/planner.js';
import { parseRetryAfter, RetryAfter } from '../../src/ingest/budget/retry-after.js';
import { TokenBucket } from '../../src/ingest/budget/token-bucket.js';
import { periodOf } from '../../src/ingest/budget/credit-budget.js';

const hour = 3_600_000;
const now = Date.parse('2026-12-10T12:00:00Z');
const periodEndsAt = Date.parse('2027-01-01T00:00:00Z');

/** One sport's events: one in play, one kicking off in an hour, one tonight, one in three days. */
const events = [
  { id: 'live', sport: 'soccer', kickoffAt: now - hour },
  { id: 'soon', sport: 'soccer', kickoffAt: now + hour },
  { id: 'tonight', sport: 'soccer', kickoffAt: now + 8 * hour },
  { id: 'far', sport: 'soccer', kickoffAt: now + 72 * hour },
  { id: 'over', sport: 'soccer', kickoffAt: now - 5 * hour },
];
const input = (over: Partial<PlanInput> = {}): PlanInput => ({
  events,
  lastPolled: new Map(),
  now,
  baseIntervalMs: 60_000,
  creditsPerRequest: 3,
  remaining: 1_000_000,
  periodEndsAt,
  ...over,
});

describe('the poll planner', () => {
  it('puts events in tiers by kick-off, and finished ones in none', () => {
    expect(events.map((e) => tierOf(e.kickoffAt, now))).toEqual(['inplay', 'soon', 'today', 'later', undefined]);
  });

  it('polls every tier at its own interval when the budget allows, most valuable first, finished events never', () => {
    const p = plan(input());
    expect(p.stretch).toBe(1);
    expect(p.intervalsMs).toEqual({ inplay: 60_000, soon: 120_000, today: 600_000, later: 3_600_000 });
    expect(p.due.map((g) => [g.tier, g.eventIds])).toEqual([
      ['inplay', ['live']],
      ['soon', ['soon']],
      ['today', ['tonight']],
      ['later', ['far']],
    ]);
    // 60 + 30 + 6 + 1 requests an hour, 3 credits each.
    expect(p.creditsPerHour).toBeCloseTo(291);
  });

  it('stretches every interval alike when the credits left would not last to the end of the period', () => {
    const remaining = 3_000;
    const p = plan(input({ remaining }));
    const hoursLeft = (periodEndsAt - now) / hour;
    expect(p.stretch).toBeCloseTo((291 * hoursLeft) / remaining);
    expect(p.intervalsMs.later / p.intervalsMs.inplay).toBe(60);
    expect(p.creditsPerHour).toBeCloseTo(remaining / hoursLeft);
    expect(p.projectedEndBalance).toBeCloseTo(0);
  });

  it("stretches by the day's average demand, so a busy hour spends above the hourly allowance and a quiet one below", () => {
    // One match a day at 20:00: in play two hours of twenty-four.
    const daily = Array.from({ length: 30 }, (_, d) => ({ id: `m${d}`, sport: 'soccer', kickoffAt: Date.parse('2026-12-01T20:00:00Z') + d * 24 * hour }));
    const remaining = 3_000;
    const average = averageDemand(daily, { from: now, horizonMs: 24 * hour, baseIntervalMs: 60_000, creditsPerRequest: 3 });
    const at = (iso: string) => plan(input({ events: daily, now: Date.parse(iso), remaining, averageDemandPerMs: average }));
    const [quiet, busy] = [at('2026-12-10T09:00:00Z'), at('2026-12-10T21:00:00Z')];
    expect(busy.stretch / quiet.stretch).toBeCloseTo(1, 1); // alike (the allowance moved a little in twelve hours)
    const allowancePerHour = remaining / ((periodEndsAt - now) / hour);
    expect(busy.creditsPerHour).toBeGreaterThan(allowancePerHour);
    expect(quiet.creditsPerHour).toBeLessThan(allowancePerHour);
    expect(busy.projectedEndBalance).toBeGreaterThanOrEqual(-1e-6);
  });

  it('averages the demand over the horizon in 15-minute steps, one request per (sport, tier) group, the tiers moving with the clock', () => {
    // Kicking off in 3 h: 4 steps today, 8 soon, 16 in play (kick-off to 4 h after), then over for the 68 left of 96.
    const at3h = now + 3 * hour;
    const day = [
      { id: 'a', sport: 'soccer', kickoffAt: at3h },
      { id: 'b', sport: 'soccer', kickoffAt: at3h }, // the same request as a
      { id: 'c', sport: 'tennis', kickoffAt: at3h }, // a request of its own
      { id: 'done', sport: 'tennis', kickoffAt: now - 5 * hour },
    ];
    const perHour = (events: typeof day) => averageDemand(events, { from: now, horizonMs: 24 * hour, baseIntervalMs: 60_000, creditsPerRequest: 3 }) * hour;
    // Credits per step an hour: today 3 x 6, soon 3 x 30, in play 3 x 60.
    const oneGroup = (4 * 18 + 8 * 90 + 16 * 180) / 96;
    expect(perHour(day)).toBeCloseTo(2 * oneGroup, 9);
    expect(perHour(day.slice(0, 2))).toBeCloseTo(oneGroup, 9);
    expect(averageDemand(day, { from: now, horizonMs: 0, baseIntervalMs: 60_000, creditsPerRequest: 3 })).toBe(0);
  });

  it('asks for a group when any of its events is due, and for none of a group polled within its interval', () => {
    const lastPolled = new Map([
      ['live', now - 30_000],
      ['soon', now - 30_000],
      ['tonight', now - 30_000],
      ['far', now - 30_000],
    ]);
    expect(plan(input({ lastPolled })).due).toEqual([]);
    const twoLive = [...events, { id: 'live2', sport: 'soccer', kickoffAt: now - 10 * 60_000 }];
    expect(plan(input({ events: twoLive, lastPolled })).due).toEqual([{ sport: 'soccer', tier: 'inplay', eventIds: ['live', 'live2'] }]);
  });

  it('polls nothing once fewer credits are left than a request costs', () => {
    const p = plan(input({ remaining: 2 }));
    expect([p.exhausted, p.due, p.creditsPerHour]).toEqual([true, [], 0]);
  });
});

describe('the rate limit and Retry-After', () => {
  it('lets a burst through, then one request per 1/perSecond', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 3, now: 0 });
    expect([1, 2, 3, 4].map(() => bucket.take(0))).toEqual([true, true, true, false]);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.take(500)).toBe(false);
  });

  it('reads Retry-After as seconds or a date, and backs off exponentially without it', () => {
    expect(parseRetryAfter('30', 0)).toBe(30_000);
    expect(parseRetryAfter(new Date(90_000).toUTCString(), 0)).toBe(90_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    const warnings: string[] = [];
    const retry = new RetryAfter({ feed: 'a feed', logger: { warn: (_, message) => warnings.push(message) } });
    expect(retry.tooManyRequests(0, '30')).toBe(30_000);
    expect([retry.waiting(29_999), retry.waiting(30_000), retry.storm]).toEqual([true, false, 1]);
    const waits = [1, 2, 3, 4, 5, 6].map(() => retry.tooManyRequests(0, null));
    expect(waits.every((ms) => ms > 0 && ms <= 5 * 60_000)).toBe(true);
    expect(waits.at(-1)!).toBeGreaterThan(waits[0]!);
    expect(warnings).toEqual(['a feed asks us to slow down (429): no request for 30 s; not counted as a feed failure']);
    retry.answered();
    expect(retry.storm).toBe(0);
    retry.tooManyRequests(0, '5');
    expect([retry.total, warnings.length]).toEqual([8, 2]);
  });

  it('knows the calendar periods of a budget, in UTC', () => {
    const at = Date.parse('2026-12-10T12:00:00Z'); // a Thursday
    expect(periodOf(at, 'month')).toEqual({ start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2027-01-01T00:00:00Z') });
    expect(periodOf(at, 'week')).toEqual({ start: Date.parse('2026-12-07T00:00:00Z'), end: Date.parse('2026-12-14T00:00:00Z') });
    expect(periodOf(at, 'day')).toEqual({ start: Date.parse('2026-12-10T00:00:00Z'), end: Date.parse('2026-12-11T00:00:00Z') });
  });
});
