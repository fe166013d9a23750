import type { Logger } from '../../ops/log.js';
import type { FeedBudgetReport, Metrics } from '../../ops/metrics.js';
import type { CreditBudget } from '../budget/credit-budget.js';
import { averageDemand, plan, type Plan, type PlannedEvent, type PollGroup, type Tier } from '../budget/planner.js';
import type { FeedAdapter, FeedBatch, FeedReport } from '../feed-record.js';
import { defaultMaxResponseBytes } from './bounded-json.js';
import { OddsApiClient, type Quota } from './odds-api-client.js';
import { toFeedRecords, type OddsApiEvent } from './odds-api-records.js';

export interface OddsApiOptions {
  /** The API key (`ODDS_API_KEY`), sent as `apiKey`. */
  apiKey: string;
  /** The Odds API sport keys to poll, each with the competition (its key in this database) its events belong to. */
  sports: ReadonlyArray<{ sport: string; competition: string }>;
  /** The credits this feed may spend per period (`FEED_BUDGET`), kept in the database. */
  budget: CreditBudget;
  /** The service's base URL (default `https://api.the-odds-api.com`; tests point it at a local server). */
  baseUrl?: string;
  /** Bookmaker regions, comma-separated (default `eu`): each one multiplies a request's cost. */
  regions?: string;
  /** How often in-play events are polled when the budget allows, in ms (default 60 s); other tiers are multiples of it. */
  intervalMs?: number;
  /** How often each sport's events list (free) is fetched, in ms (default 15 minutes). */
  eventsIntervalMs?: number;
  /** Requests (free or paid) per second, and at once after a quiet spell (defaults 1 and 5). */
  rateLimit?: { perSecond: number; burst: number };
  /** Give up on one request after this long, in milliseconds (default 10 s). */
  timeoutMs?: number;
  /** Refuse an answer larger than this, in bytes (default 10 MiB). */
  maxResponseBytes?: number;
  now?: () => number;
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** 429s counted; credits, plan and quota headers read on scrape. */
  metrics?: Pick<Metrics, 'feedRateLimited' | 'observeFeedBudget'> | undefined;
}

/** The markets asked for: each one multiplies a request's cost. */
const markets = ['h2h', 'spreads', 'totals'];
/** The sports list (free) is only checked for the configured keys: once a day is plenty. */
const sportsIntervalMs = 86_400_000;
/** The demand is averaged over the next day (a day's busy and quiet hours), recomputed every 15 minutes and with each events list. */
const demandHorizonMs = 86_400_000;
const demandEveryMs = 15 * 60_000;

/** This adapter's cursor: when each event was last polled, so a restarted worker does not spend credits early. */
interface Cursor {
  polled: Record<string, number>;
}

/**
 * The Odds API v4, polled where prices move. The free endpoints give the
 * reference data on their own slow schedule (`/v4/sports` daily, each
 * sport's `/v4/sports/{sport}/events` every `eventsIntervalMs`); from those
 * events the planner (budget/planner.ts) picks which (sport, tier) groups
 * are due, and each group costs one paid `/odds` request naming its events
 * (`eventIds`). Every request passes the rate limit, every paid one the
 * credit budget. Events the events list no longer has are finished and
 * never polled. The records are one per (event, bookmaker), see
 * odds-api-records.ts.
 */
export class OddsApiFeed implements FeedAdapter {
  /** Keys its cursor and its budget row. */
  static readonly feedName = 'the-odds-api';
  readonly name = OddsApiFeed.feedName;
  readonly #options: OddsApiOptions;
  readonly #now: () => number;
  readonly #client: OddsApiClient;
  readonly #competitionOf: Map<string, string>;
  /** Each sport's events, from its last events list, and all of them. */
  readonly #events = new Map<string, PlannedEvent[]>();
  #allEvents: PlannedEvent[] = [];
  /** The average demand ahead, and when it was computed (undefined: the events changed since). */
  #demand: { at: number; perMs: number } | undefined;
  readonly #eventsDueAt = new Map<string, number>();
  #sportsDueAt = -Infinity;
  #lastPolled: Map<string, number> | undefined;
  #plan: Plan | undefined;

  constructor(options: OddsApiOptions) {
    if (options.sports.length === 0) throw new Error('The Odds API feed needs at least one sport to poll');
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#competitionOf = new Map(options.sports.map((s) => [s.sport, s.competition]));
    this.#client = new OddsApiClient({
      apiKey: options.apiKey,
      baseUrl: options.baseUrl ?? 'https://api.the-odds-api.com',
      rateLimit: options.rateLimit ?? { perSecond: 1, burst: 5 },
      timeoutMs: options.timeoutMs ?? 10_000,
      maxResponseBytes: options.maxResponseBytes ?? defaultMaxResponseBytes,
      now: this.#now,
      logger: options.logger,
      onRateLimited: () => options.metrics?.feedRateLimited(),
    });
    options.metrics?.observeFeedBudget(() => this.report());
  }

  /** Credits one odds request costs: markets x regions. */
  get creditsPerRequest(): number {
    return markets.length * (this.#options.regions ?? 'eu').split(',').length;
  }

  async poll(cursor: string | null): Promise<FeedBatch> {
    const { budget } = this.#options;
    this.#lastPolled ??= readCursor(cursor);
    await budget.sync(this.#now());
    const referenceDone = await this.#refreshReference();
    const wasExhausted = this.#plan?.exhausted ?? false;
    this.#plan = this.#planNow();
    this.#sayIfExhausted(wasExhausted);
    const records: unknown[] = [];
    let polled = false;
    for (const group of referenceDone ? this.#plan.due : []) {
      const events = await this.#odds(group);
      if (!events) break;
      polled = true;
      const competition = this.#competitionOf.get(group.sport)!;
      for (const event of events) records.push(...toFeedRecords(event, competition));
      for (const id of group.eventIds) this.#lastPolled.set(id, this.#now());
    }
    if (!polled) return { records, cursor };
    const known = new Set(this.#allEvents.map((e) => e.id));
    for (const id of this.#lastPolled.keys()) if (!known.has(id)) this.#lastPolled.delete(id);
    return { records, cursor: JSON.stringify({ polled: Object.fromEntries(this.#lastPolled) } satisfies Cursor) };
  }

  /** For `/health` and the metrics: the budget, the plan, what the service said. */
  report(): FeedReport & FeedBudgetReport {
    const { budget } = this.#options;
    const p = this.#plan;
    const seconds = (ms: number) => Math.round(ms / 10) / 100;
    return {
      degraded: p?.exhausted ? `the feed's credits are used up until ${new Date(budget.periodEnd).toISOString()}: serving the last prices` : undefined,
      budget: p && {
        periodStart: new Date(budget.periodStart).toISOString(),
        periodEnd: new Date(budget.periodEnd).toISOString(),
        limit: budget.limit,
        spent: budget.spent,
        remaining: budget.remaining(),
        projectedEndBalance: Math.floor(p.projectedEndBalance),
        creditsPerRequest: this.creditsPerRequest,
        creditsPerHour: Math.round(p.creditsPerHour * 100) / 100,
        stretch: Math.round(p.stretch * 100) / 100,
        pollIntervalSeconds: Object.fromEntries(Object.entries(p.intervalsMs).map(([tier, ms]) => [tier, seconds(ms)])) as Record<Tier, number>,
        events: p.events,
      },
      upstream: { ...this.#client.quota, rateLimited: this.#client.retry.total, waitSeconds: seconds(this.#client.retry.waitLeftMs(this.#now())) },
    };
  }

  #planNow(): Plan {
    const { budget, intervalMs: baseIntervalMs = 60_000 } = this.#options;
    const now = this.#now();
    const { creditsPerRequest } = this;
    if (!this.#demand || now - this.#demand.at >= demandEveryMs) {
      const horizonMs = Math.min(demandHorizonMs, budget.periodEnd - now);
      this.#demand = { at: now, perMs: averageDemand(this.#allEvents, { from: now, horizonMs, baseIntervalMs, creditsPerRequest }) };
    }
    return plan({
      events: this.#allEvents,
      lastPolled: this.#lastPolled!,
      now,
      baseIntervalMs,
      creditsPerRequest,
      remaining: budget.remaining(),
      periodEndsAt: budget.periodEnd,
      averageDemandPerMs: this.#demand.perMs,
    });
  }

  /** One paid request for a group's odds; undefined when it must wait (rate limit, 429, no credits). */
  async #odds(group: PollGroup): Promise<OddsApiEvent[] | undefined> {
    const { budget, regions = 'eu' } = this.#options;
    const cost = this.creditsPerRequest;
    if (!this.#client.admit()) return undefined;
    if (!(await budget.reserve(cost))) return undefined;
    // Should this throw, whether it was charged is unknown: the reservation stays counted, the safe side.
    const answer = await this.#client.get(`/v4/sports/${encodeURIComponent(group.sport)}/odds`, {
      regions,
      markets: markets.join(','),
      oddsFormat: 'decimal',
      dateFormat: 'iso',
      eventIds: group.eventIds.join(','),
    }, cost);
    // A 429 or an empty answer is not charged; the service says what was (`x-requests-last`).
    await budget.settle(cost, answer.quota.last ?? (answer.kind === 'ok' ? cost : 0), answer.quota.remaining);
    if (answer.kind !== 'ok') return undefined;
    if (!Array.isArray(answer.body)) throw new Error(`The Odds API sent no array of events for sport ${JSON.stringify(group.sport)}`);
    return answer.body as OddsApiEvent[];
  }

  /**
   * The sports list and each sport's events list, when due. False while a
   * list could not be fetched yet (rate limit, 429): odds wait for them.
   */
  async #refreshReference(): Promise<boolean> {
    if (this.#now() >= this.#sportsDueAt) {
      const sports = await this.#free('/v4/sports', {});
      if (!sports) return false;
      this.#checkSports(sports);
      this.#sportsDueAt = this.#now() + sportsIntervalMs;
    }
    for (const sport of this.#competitionOf.keys()) {
      if (this.#now() < (this.#eventsDueAt.get(sport) ?? -Infinity)) continue;
      const events = await this.#free(`/v4/sports/${encodeURIComponent(sport)}/events`, { dateFormat: 'iso' });
      if (!events) return this.#events.size > 0;
      if (!Array.isArray(events)) throw new Error(`The Odds API sent no array of events for sport ${JSON.stringify(sport)}`);
      this.#events.set(sport, toPlannedEvents(sport, events));
      this.#allEvents = [...this.#events.values()].flat();
      this.#demand = undefined;
      this.#eventsDueAt.set(sport, this.#now() + (this.#options.eventsIntervalMs ?? 15 * 60_000));
    }
    return true;
  }

  /** A request to a free endpoint: what it answered, or undefined when it must wait. What it cost, should it ever, is counted. */
  async #free(path: string, query: Record<string, string>): Promise<unknown> {
    if (!this.#client.admit()) return undefined;
    const answer = await this.#client.get(path, query);
    await this.#settleFree(answer.quota);
    return answer.kind === 'ok' ? answer.body : undefined;
  }

  async #settleFree(quota: Quota): Promise<void> {
    if ((quota.last ?? 0) > 0 || quota.remaining !== undefined) await this.#options.budget.settle(0, quota.last ?? 0, quota.remaining);
  }

  #checkSports(sports: unknown): void {
    const listed = new Set(Array.isArray(sports) ? sports.map((s: { key?: unknown }) => s?.key) : []);
    const missing = [...this.#competitionOf.keys()].filter((sport) => !listed.has(sport));
    if (missing.length > 0) {
      this.#options.logger?.warn(`The Odds API lists no sport ${missing.join(', ')} in season: check ODDS_API_SPORTS (its events list stays empty until it is)`);
    }
  }

  #sayIfExhausted(wasExhausted: boolean): void {
    const now = this.#plan!.exhausted;
    if (now === wasExhausted) return;
    const { budget } = this.#options;
    if (now) {
      this.#options.logger?.warn(
        { spent: budget.spent, limit: budget.limit, upstreamRemaining: this.#client.quota.remaining ?? null },
        `ingest degraded: the feed's credits are used up; no odds requests until ${new Date(budget.periodEnd).toISOString()}, the gateway serves the last prices`,
      );
    } else {
      this.#options.logger?.info(`ingest: the feed has credits again (${budget.remaining()}); polling resumes`);
    }
  }
}

function readCursor(cursor: string | null): Map<string, number> {
  // A cursor of an earlier version ({ polledAt }) knows no events: every event is due.
  const polled = cursor === null ? undefined : (JSON.parse(cursor) as Partial<Cursor>).polled;
  return new Map(Object.entries(polled ?? {}));
}

/** What the planner needs of an events list; entries without an id or a readable kick-off are left out. */
function toPlannedEvents(sport: string, events: unknown[]): PlannedEvent[] {
  return (events as Array<{ id?: unknown; commence_time?: unknown } | null>).flatMap((event) => {
    const kickoffAt = typeof event?.commence_time === 'string' ? Date.parse(event.commence_time) : Number.NaN;
    return typeof event?.id === 'string' && Number.isFinite(kickoffAt) ? [{ id: event.id, sport, kickoffAt }] : [];
  });
}
