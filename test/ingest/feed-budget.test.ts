import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFeedSpend } from '../../src/db/feed-budget.js';
import { CreditBudget } from '../../src/ingest/budget/credit-budget.js';
import { tierOf } from '../../src/ingest/budget/planner.js';
import type { FeedBatch } from '../../src/ingest/feed-record.js';
import { OddsApiClient } from '../../src/ingest/feeds/odds-api-client.js';
import { OddsApiFeed, type OddsApiOptions } from '../../src/ingest/feeds/the-odds-api.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { createLogger } from '../../src/ops/log.js';
import { Metrics } from '../../src/ops/metrics.js';
import { anyKind, createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { match, startOddsApiServer } from '../support/odds-api-server.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const hour = 3_600_000;
const day = 24 * hour;
const monthStart = Date.parse('2026-12-01T00:00:00Z');
const monthEnd = Date.parse('2027-01-01T00:00:00Z');
const matchMs = 2 * hour;
const sports = [
  { sport: 'soccer_epl', competition: 'eng-premier' },
  { sport: 'basketball_nba', competition: 'usa-pro-basketball' },
];

/** Four matches a day per sport, from the day before the month to a week after it. */
const fixtures = sports.flatMap(({ sport }, s) =>
  Array.from({ length: 40 }, (_, d) =>
    [12, 15, 18, 20].map((h, m) => match(sport, `${sport}-${d}-${m}`, monthStart + (d - 1) * day + (h + s) * hour)),
  ).flat(),
);

/** A clock the test moves, the imitation of the service reading it, and what the worker logged. */
function setting(quota = 1_000_000, events = fixtures) {
  const clock = { now: monthStart };
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { clock, lines, logger, server: startOddsApiServer({ events: () => events, now: () => clock.now, quota, matchMs }) };
}

type Server = Awaited<ReturnType<typeof startOddsApiServer>>;

function feed(server: Server, test: TestDatabase, clock: { now: number }, over: Partial<OddsApiOptions> & { credits: number }): OddsApiFeed {
  return new OddsApiFeed({
    apiKey: 'test-key',
    sports,
    baseUrl: server.url,
    intervalMs: 60_000,
    eventsIntervalMs: 30 * 60_000,
    budget: new CreditBudget({ credits: over.credits, period: 'month' }, { prisma: test.db.prisma, feed: 'the-odds-api' }),
    now: () => clock.now,
    ...over,
  });
}

/** Polls `adapter` every `stepMs` of the test's clock until `until`, carrying its cursor as the worker would. */
async function run(adapter: OddsApiFeed, clock: { now: number }, until: number, cursor: string | null = null, stepMs = 60_000): Promise<string | null> {
  for (; clock.now < until; clock.now += stepMs) {
    const batch: FeedBatch = await adapter.poll(cursor);
    cursor = batch.cursor;
  }
  return cursor;
}

describe('a feed within its budget', () => {
  const opened: Array<{ close(): Promise<void> } | TestDatabase> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => ('drop' in o ? o.drop() : o.close())));
  });

  /** The worker on The Odds API imitation, with `credits` a month and a feed breaker that opens after 2 failures. */
  async function workerOn(credits: number, quota?: number) {
    const { clock, lines, logger, server: starting } = setting(quota);
    const server = await starting;
    const test = await createTestDatabase(anyKind, 'seeded-small');
    opened.push(server, test);
    const metrics = new Metrics({ defaultMetrics: false });
    const adapter = feed(server, test, clock, { credits, logger, metrics });
    const worker = new IngestWorker({ prisma: test.db.prisma, feed: adapter, bus: new InProcessOddsBus(), now: () => clock.now, logger, metrics, breakers: { failures: 2 } });
    return { clock, lines, server, test, metrics, worker };
  }

  it('stays within 20,000 credits over a simulated month, spread to its end, polling in-play events over 10x as often as events a day away', async () => {
    const { clock, server: starting } = setting();
    const server = await starting;
    const test = await createTestDatabase(anyKind, 'migrated');
    opened.push(server, test);
    // Polled every 20 simulated minutes (not every minute) at 15 credits a request (3 markets x the 5 regions):
    // still more demand than the budget holds (19,830 spent of 20,000; 19,965 at 10 minutes), for a twentieth
    // of the polls, so the month runs in seconds.
    await run(feed(server, test, clock, { credits: 20_000, intervalMs: 20 * 60_000, regions: 'eu,uk,us,us2,au' }), clock, monthEnd, null, 20 * 60_000);

    const used = server.state.used;
    expect(used).toBeLessThanOrEqual(20_000);
    expect(used).toBeGreaterThan(19_000); // spent, not hoarded
    expect((await readFeedSpend(test.db.prisma, 'the-odds-api', new Date(monthStart))).spent).toBe(used);
    const spentBy = (at: number) => server.oddsRequests().filter((r) => r.at < at).reduce((sum, r) => sum + r.cost, 0);
    // Spread: roughly half by mid-month (a little less: the plan expects matches in play up to 4 hours, these last 2),
    // and in-play prices still polled on the last day.
    expect(spentBy(monthStart + 15.5 * day) / used).toBeGreaterThan(0.35);
    expect(spentBy(monthStart + 15.5 * day) / used).toBeLessThan(0.65);
    const lastDay = server.oddsRequests().filter((r) => r.at >= monthEnd - day);
    expect(lastDay.some((r) => r.eventIds.some((id) => tierOf(kickoff(id), r.at) === 'inplay'))).toBe(true);

    // Polls per event-hour: in play (its 2 hours) against more than a day before kick-off.
    const polls = { inplay: 0, far: 0 };
    for (const request of server.oddsRequests()) {
      for (const id of request.eventIds) {
        const ahead = kickoff(id) - request.at;
        if (ahead <= 0) polls.inplay++;
        else if (ahead > day) polls.far++;
      }
    }
    const exposure = { inplay: 0, far: 0 };
    for (const event of fixtures) {
      const at = Date.parse(event.commence_time);
      exposure.inplay += Math.max(0, Math.min(at + matchMs, monthEnd) - Math.max(at, monthStart)) / hour;
      exposure.far += Math.max(0, Math.min(at - day, monthEnd) - monthStart) / hour;
    }
    const ratio = polls.inplay / exposure.inplay / (polls.far / exposure.far);
    expect(ratio).toBeGreaterThanOrEqual(10);
  }, 300_000);

  it('waits out a 429 storm as Retry-After asks, without tripping the breaker: one log line, a metric, then odds again', async () => {
    const { clock, lines, server, metrics, worker } = await workerOn(20_000);
    server.state.tooMany = 6;
    server.state.retryAfter = '30';
    let stored = 0;
    for (const until = clock.now + 10 * 60_000; clock.now < until; clock.now += 5_000) stored += (await worker.runCycle()).stored;

    const tooMany = server.state.requests.filter((r) => r.status === 429);
    expect(tooMany).toHaveLength(6);
    // Nothing asked within 30 s of a 429.
    for (const r of tooMany) expect(server.state.requests.filter((other) => other.at > r.at && other.at < r.at + 30_000)).toEqual([]);
    expect(worker.feedBreaker.state).toBe('closed');
    expect(lines.filter((l) => l.msg.includes('429'))).toHaveLength(1);
    const scraped = parsePrometheusText((await metrics.scrape()).body);
    expect(sampleValue(scraped, 'oddsgate_feed_rate_limited_total', 'oddsgate_feed_rate_limited_total')).toBe(6);
    expect(sampleValue(scraped, 'oddsgate_breaker_state', 'oddsgate_breaker_state', { breaker: 'feed' })).toBe(0);
    // Resumed: the reference lists, then odds, stored.
    expect(stored).toBeGreaterThan(0);
    expect(worker.health()).toMatchObject({ breakers: { feed: 'closed' }, upstream: { rateLimited: 6, waitSeconds: 0 } });
  });

  it('turns ingest degraded when the credits are used up (health, one log line, metric) and keeps the last prices', async () => {
    const { clock, lines, server, test, metrics, worker } = await workerOn(9);
    for (const until = clock.now + day; clock.now < until; clock.now += 60_000) await worker.runCycle();

    expect(server.state.used).toBe(9);
    worker.start();
    const health = worker.health();
    await worker.stop();
    expect(health).toMatchObject({ status: 'degraded', budget: { limit: 9, spent: 9, remaining: 0 } });
    expect(String(health.degraded)).toContain('credits are used up until 2027-01-01T00:00:00.000Z');
    expect(lines.filter((l) => l.msg.startsWith('ingest degraded'))).toHaveLength(1);
    const scraped = parsePrometheusText((await metrics.scrape()).body);
    expect(sampleValue(scraped, 'oddsgate_feed_degraded', 'oddsgate_feed_degraded')).toBe(1);
    expect(sampleValue(scraped, 'oddsgate_feed_credits_remaining', 'oddsgate_feed_credits_remaining')).toBe(0);
    expect(sampleValue(scraped, 'oddsgate_feed_upstream_requests_used', 'oddsgate_feed_upstream_requests_used')).toBe(9);
    // What was stored stays, with the time it was captured: the gateway serves it with its age.
    const latest = await test.db.prisma.latestOdds.findMany({ where: { event: { externalId: { startsWith: 'oddsapi:' } } } });
    expect(latest.length).toBeGreaterThan(0);
  });

  it("believes the service's x-requests-remaining when it is lower than the budget: degraded before being refused", async () => {
    // The key has 7 credits at the service (spent elsewhere too): two requests of 3, then 1 left, too few for another.
    const { clock, server, worker } = await workerOn(20_000, 7);
    for (const until = clock.now + day; clock.now < until; clock.now += 60_000) await worker.runCycle();

    expect(server.state.used).toBe(6);
    expect(server.state.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(worker.health()).toMatchObject({ degraded: expect.stringContaining('credits are used up'), budget: { spent: 6, remaining: 1 }, breakers: { feed: 'closed' } });
  });

  it('takes a refusal with too few credits remaining as used up, not as an error', async () => {
    const { clock, server: starting } = setting(10);
    const server = await starting;
    opened.push(server);
    const client = new OddsApiClient({ apiKey: 'test-key', baseUrl: server.url, rateLimit: { perSecond: 1, burst: 5 }, timeoutMs: 5_000, maxResponseBytes: 1 << 20, now: () => clock.now });
    const odds = { regions: 'eu', markets: 'h2h,spreads,totals' };
    server.state.used = 8; // spent elsewhere
    expect(await client.get('/v4/sports/soccer_epl/odds', odds, 3)).toEqual({ kind: 'exhausted', quota: { remaining: 2, used: 8, last: 0 } });
    expect(server.state.requests.at(-1)!.status).toBe(401);
  });
});

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it): the spend must survive the process.
describe.skipIf(!postgresUrl)('a feed restarted mid-period', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'migrated');
  });
  afterAll(() => test.drop());

  it('reads the credits spent back from PostgreSQL and spends only what is left', async () => {
    const { clock, server: starting } = setting();
    const server = await starting;
    try {
      const credits = 60;
      const cursor = await run(feed(server, test, clock, { credits }), clock, monthStart + 10 * day);
      const spentBefore = server.state.used;
      expect(spentBefore).toBeGreaterThan(0);
      expect(spentBefore).toBeLessThan(credits);

      // A new process: new budget, new adapter, the cursor the worker committed.
      const restarted = feed(server, test, clock, { credits });
      await restarted.poll(cursor);
      expect(restarted.report().budget).toMatchObject({ spent: spentBefore, remaining: credits - spentBefore });
      await run(restarted, clock, monthEnd, cursor);
      expect(server.state.used).toBeLessThanOrEqual(credits);
      expect(server.state.used).toBeGreaterThan(credits - 6);
      // A new month, a new budget: polling resumes.
      await run(restarted, clock, monthEnd + hour, cursor);
      expect(server.oddsRequests().some((r) => r.at >= monthEnd)).toBe(true);
    } finally {
      await server.close();
    }
  }, 120_000);
});

function kickoff(id: string): number {
  return Date.parse(fixtures.find((e) => e.id === id)!.commence_time);
}
