import type { PrismaClient } from '../generated/prisma/client.js';
import { clockAt, decidedEarly, matchFormats, playingMinutes, settleMarkets, voidMarkets, type Score } from '../domain/match.js';
import type { EventState, MarketInput } from '../domain/odds.js';
import { createRandom, driftModel, priceMarkets, sportProfiles, type ScoringModel } from '../domain/pricing.js';
import { bookmakers as bookmakerCatalogue, sports as sportCatalogue } from '../seed/catalogue.js';
import type { FeedAdapter, FeedBatch } from './feed-record.js';

export interface SimulatedFeedOptions {
  /** Snapshot changes produced per second at speed 1 (default 50). */
  changesPerSecond?: number;
  /** PRNG seed (default 7): the same seed walks prices the same way. */
  seed?: number;
  /** How often the feed re-reads which events are upcoming, in milliseconds at speed 1 (default 5 minutes). */
  refreshEventsMs?: number;
  /** Chance that a pre-match change suspends one market (default 0.03). */
  suspensionRate?: number;
  /** Seconds between announcements of a new event at speed 1, kicking off within two days (default 120; 0 = never). */
  newEventEverySeconds?: number;
  /**
   * How many times faster than real time the market runs (SIM_SPEED, default 1): price changes, match
   * clocks, goals, suspensions, new fixtures and how soon they kick off. Timestamps stay real time.
   */
  speed?: number;
  now?: () => number;
}

interface Target {
  externalId: string;
  sportKey: string;
  model: ScoringModel;
  /** Where the model opened: the walk keeps returning toward it. */
  opening: ScoringModel;
  kickoffAtMs: number;
  /** Set for events this feed announced: sent with each record so the worker can create the event. */
  fixture?: { competition: string; home: string; away: string; kickoffAt: string };
  score: Score;
  /** Share of the match played when goals were last drawn. */
  played: number;
  /** The last state sent, as a comparable key. */
  sentState: string;
  /** Real time until which bookmakers hold this event's markets suspended (a goal, a dangerous moment). */
  suspendedUntil: number;
  over: boolean;
}

type Bookmaker = { key: string; margin: number };

const minuteMs = 60_000;
/** How long bookmakers suspend an event's markets, in match minutes: after a goal, and at a dangerous moment. */
const goalSuspensionMinutes = 1;
const dangerSuspensionMinutes = 0.3;
/** Chance per played minute of a dangerous moment (a penalty, a power play) that suspends the markets. */
const dangerPerMinute = 0.03;
/** Chance that an event is called off at kick-off. */
const cancellationRate = 0.01;

/**
 * A deterministic simulated market for the events in the database, across
 * its bookmakers: prices walk (mean-reverting) at a steady rate, events kick
 * off, score and finish on a match clock, bookmakers suspend markets around
 * goals and settle them at the final whistle, and new fixtures are
 * announced. It speaks the feed record format, so the worker checks its
 * records like any other feed's. It keeps no cursor: what it missed
 * while the worker was down never happened.
 */
export class SimulatedFeed implements FeedAdapter {
  readonly name = 'simulated';
  readonly #random: () => number;
  readonly #changesPerSecond: number;
  readonly #refreshEventsMs: number;
  readonly #suspensionRate: number;
  readonly #newEventEveryMs: number;
  readonly #speed: number;
  readonly #now: () => number;
  #nextNewEventAt: number | undefined;
  #targets: Target[] = [];
  /** Events this feed finished or cancelled, so a reload before the worker commits does not restart them. */
  #ended = new Set<string>();
  #bookmakers: Bookmaker[] = [];
  #loadedAt = -Infinity;
  #lastPoll: number | undefined;
  #owed = 0;
  readonly #lastCapture = new Map<string, number>();
  /** The markets last sent per (event, bookmaker): a suspension shows them, a settlement keeps their prices. */
  readonly #lastMarkets = new Map<string, MarketInput[]>();

  constructor(
    private readonly prisma: PrismaClient,
    options: SimulatedFeedOptions = {},
  ) {
    this.#random = createRandom(options.seed ?? 7);
    this.#speed = options.speed ?? 1;
    if (!(this.#speed > 0)) throw new RangeError(`speed must be above 0, got ${options.speed}`);
    this.#changesPerSecond = (options.changesPerSecond ?? 50) * this.#speed;
    this.#refreshEventsMs = (options.refreshEventsMs ?? 5 * minuteMs) / this.#speed;
    this.#suspensionRate = options.suspensionRate ?? 0.03;
    this.#newEventEveryMs = ((options.newEventEverySeconds ?? 120) * 1000) / this.#speed;
    this.#now = options.now ?? Date.now;
  }

  async poll(): Promise<FeedBatch> {
    return { records: await this.#records(), cursor: null };
  }

  async #records(): Promise<unknown[]> {
    const now = this.#now();
    if (now - this.#loadedAt >= this.#refreshEventsMs) await this.#load(now);
    const elapsedMs = this.#lastPoll === undefined ? 1000 : now - this.#lastPoll;
    this.#lastPoll = now;
    // Owe changes for the time that passed, but never more than five seconds' worth after a stall.
    this.#owed = Math.min(this.#owed + (elapsedMs / 1000) * this.#changesPerSecond, this.#changesPerSecond * 5);
    const count = Math.floor(this.#owed);
    this.#owed -= count;
    if (this.#bookmakers.length === 0) return [];
    const records: unknown[] = [];
    for (const target of this.#targets) this.#play(now, target, records);
    this.#targets = this.#targets.filter((t) => !t.over);
    const tradable = this.#targets.filter((t) => now >= t.suspendedUntil);
    for (let i = 0; i < count && tradable.length > 0; i++) {
      const target = tradable[Math.floor(this.#random() * tradable.length)]!;
      records.push(this.#change(now, target, this.#pickBookmaker()));
    }
    if (this.#newEventEveryMs > 0) {
      this.#nextNewEventAt ??= now + this.#newEventEveryMs;
      if (now >= this.#nextNewEventAt) {
        this.#nextNewEventAt = now + this.#newEventEveryMs;
        const target = this.#announce(now);
        // A new event opens with every bookmaker's prices at once.
        for (const bookmaker of this.#bookmakers) records.push(this.#change(now, target, bookmaker));
      }
    }
    return records;
  }

  /** Moves one event's match on to `now`: kick-off, goals, suspensions, the clock, the final whistle. */
  #play(now: number, target: Target, records: unknown[]): void {
    if (now < target.kickoffAtMs) return;
    const format = matchFormats[target.sportKey]!;
    const clock = clockAt(format, ((now - target.kickoffAtMs) * this.#speed) / minuteMs);
    // Only at kick-off itself: an event first seen mid-match (after a restart) is not called off.
    if (target.played === 0 && target.sentState === '' && this.#random() < cancellationRate) {
      this.#end(now, target, records, { status: 'CANCELLED', score: null, clock: null }, voidMarkets);
      return;
    }
    const wasSuspended = target.suspendedUntil > 0;
    this.#score(now, target, clock.played);
    if (clock.over) {
      if (!sportProfiles[target.sportKey]!.markets.threeWay && target.score.home === target.score.away) {
        // Sports without a draw play on (overtime, a tie-break) until one side leads.
        target.score[this.#random() < 0.5 ? 'home' : 'away']++;
      }
      const score = { ...target.score };
      this.#end(now, target, records, { status: 'FINISHED', score, clock: null }, (markets) => settleMarkets(markets, score));
      return;
    }
    this.#sendState(now, target, records, { status: 'LIVE', score: { ...target.score }, clock: { period: clock.period, minute: clock.minute } });
    if (target.suspendedUntil > now && !wasSuspended) {
      for (const bookmaker of this.#bookmakers) records.push(this.#suspend(now, target, bookmaker));
    } else if (wasSuspended && target.suspendedUntil <= now) {
      // Bookmakers reopen every market at once, with prices for the new situation.
      target.suspendedUntil = 0;
      for (const bookmaker of this.#bookmakers) records.push(this.#change(now, target, bookmaker));
    }
  }

  /** Draws the goals (or points) scored since the last poll; a goal or a dangerous moment suspends the markets. */
  #score(now: number, target: Target, played: number): void {
    const share = played - target.played;
    if (share <= 0) return;
    target.played = played;
    const model = target.model;
    const [homeRate, awayRate] =
      model.kind === 'goals' ? [model.homeRate, model.awayRate] : [(model.total + model.homeMargin) / 2, (model.total - model.homeMargin) / 2];
    const home = poisson(homeRate * share, this.#random);
    const away = poisson(awayRate * share, this.#random);
    target.score.home += home;
    target.score.away += away;
    const playedMinutes = share * playingMinutes(matchFormats[target.sportKey]!);
    let suspendMinutes = 0;
    if (model.kind === 'goals' && home + away > 0) suspendMinutes = goalSuspensionMinutes;
    else if (this.#random() < dangerPerMinute * playedMinutes) suspendMinutes = dangerSuspensionMinutes;
    if (suspendMinutes > 0) target.suspendedUntil = Math.max(target.suspendedUntil, now + (suspendMinutes * minuteMs) / this.#speed);
  }

  #end(now: number, target: Target, records: unknown[], state: EventState, settle: (markets: MarketInput[]) => MarketInput[]): void {
    this.#sendState(now, target, records, state);
    for (const bookmaker of this.#bookmakers) {
      const pair = `${target.externalId}|${bookmaker.key}`;
      const markets = this.#lastMarkets.get(pair) ?? this.#price(now, target, bookmaker);
      records.push(this.#record(now, target, bookmaker, settle(markets)));
      this.#lastMarkets.delete(pair);
    }
    target.over = true;
    this.#ended.add(target.externalId);
  }

  #sendState(now: number, target: Target, records: unknown[], state: EventState): void {
    const key = JSON.stringify(state);
    if (key === target.sentState) return;
    target.sentState = key;
    records.push({
      event: target.externalId,
      ...(target.fixture && { fixture: target.fixture }),
      capturedAt: this.#captureTime(now, `${target.externalId}|state`),
      state,
    });
  }

  /** The bookmaker's last markets, shown suspended. */
  #suspend(now: number, target: Target, bookmaker: Bookmaker): unknown {
    const markets = this.#lastMarkets.get(`${target.externalId}|${bookmaker.key}`) ?? this.#price(now, target, bookmaker);
    return this.#record(now, target, bookmaker, markets.map((m) => (m.status === 'SETTLED' ? m : { ...m, status: 'SUSPENDED' })));
  }

  #pickBookmaker(): Bookmaker {
    return this.#bookmakers[Math.floor(this.#random() * this.#bookmakers.length)]!;
  }

  /** A new fixture in a random catalogue competition, kicking off on a quarter hour within two days (sooner when sped up). */
  #announce(now: number): Target {
    const sports = sportCatalogue.filter((s) => s.key in sportProfiles);
    const sport = sports[Math.floor(this.#random() * sports.length)]!;
    const competition = sport.competitions[Math.floor(this.#random() * sport.competitions.length)]!;
    const home = Math.floor(this.#random() * competition.teams.length);
    const away = (home + 1 + Math.floor(this.#random() * (competition.teams.length - 1))) % competition.teams.length;
    const quarter = 15 * minuteMs;
    const leadMs = (30 * minuteMs + this.#random() * 46 * 60 * minuteMs) / this.#speed;
    const kickoffAt = this.#speed === 1 ? Math.ceil((now + leadMs) / quarter) * quarter : Math.ceil(now + leadMs);
    const target: Target = {
      ...this.#target(`sim-new-${now.toString(36)}`, sport.key, kickoffAt, null),
      fixture: {
        competition: competition.key,
        home: competition.teams[home]!,
        away: competition.teams[away]!,
        kickoffAt: new Date(kickoffAt).toISOString(),
      },
    };
    this.#targets.push(target);
    return target;
  }

  /** A new event's model, opening where a bookmaker would price it. */
  #target(externalId: string, sportKey: string, kickoffAtMs: number, score: Score | null): Target {
    const model = sportProfiles[sportKey]!.randomModel(this.#random);
    const played = clockAt(matchFormats[sportKey]!, ((this.#now() - kickoffAtMs) * this.#speed) / minuteMs).played;
    return {
      externalId,
      sportKey,
      model,
      opening: model,
      kickoffAtMs,
      score: score ?? { home: 0, away: 0 },
      played,
      sentState: '',
      suspendedUntil: 0,
      over: false,
    };
  }

  /** One bookmaker's new prices for the event: before kick-off, or in play from the score and the clock. */
  #change(now: number, target: Target, bookmaker: Bookmaker): unknown {
    target.model = driftModel(target.model, target.opening, sportProfiles[target.sportKey]!.bounds, this.#random, 0.02);
    const pair = `${target.externalId}|${bookmaker.key}`;
    const last = this.#lastMarkets.get(pair);
    let markets = this.#price(now, target, bookmaker);
    if (now >= target.kickoffAtMs) {
      // A market the score has decided stays settled, at the prices it had when it was open.
      markets = markets.map((market, i) => {
        const before = last?.find((m) => m.key === market.key && m.line === market.line);
        if (before?.status === 'SETTLED') return before;
        return decidedEarly(before ?? markets[i]!, target.score) ?? market;
      });
    } else if (markets.length > 1 && this.#random() < this.#suspensionRate) {
      const at = 1 + Math.floor(this.#random() * (markets.length - 1));
      const before = last?.find((m) => m.key === markets[at]!.key && m.line === markets[at]!.line);
      markets[at] = { ...(before ?? markets[at]!), status: 'SUSPENDED' };
    }
    return this.#record(now, target, bookmaker, markets);
  }

  #price(now: number, target: Target, bookmaker: Bookmaker): MarketInput[] {
    const inPlay = now >= target.kickoffAtMs ? { score: target.score, remaining: 1 - target.played } : undefined;
    return priceMarkets(target.model, sportProfiles[target.sportKey]!.markets, bookmaker.margin, this.#random, inPlay);
  }

  #record(now: number, target: Target, bookmaker: Bookmaker, markets: MarketInput[]): unknown {
    const pair = `${target.externalId}|${bookmaker.key}`;
    this.#lastMarkets.set(pair, markets);
    return {
      event: target.externalId,
      ...(target.fixture && { fixture: target.fixture }),
      bookmaker: bookmaker.key,
      capturedAt: this.#captureTime(now, pair),
      markets,
    };
  }

  /** Two records of one pair in the same millisecond would be one snapshot: keep captures strictly increasing. */
  #captureTime(now: number, pair: string): string {
    const capturedAt = Math.max(now, (this.#lastCapture.get(pair) ?? 0) + 1);
    this.#lastCapture.set(pair, capturedAt);
    return new Date(capturedAt).toISOString();
  }

  async #load(now: number): Promise<void> {
    const [events, bookmakers] = await Promise.all([
      this.prisma.event.findMany({
        where: { kickoffAt: { gte: new Date(now - 2 * 60 * minuteMs) }, status: { in: ['SCHEDULED', 'LIVE'] } },
        select: { externalId: true, kickoffAt: true, scoreHome: true, scoreAway: true, sport: { select: { key: true } } },
        orderBy: { id: 'asc' },
      }),
      this.prisma.bookmaker.findMany({ select: { key: true }, orderBy: { id: 'asc' } }),
    ]);
    const known = new Map(this.#targets.map((t) => [t.externalId, t]));
    const loaded = events.filter((e) => e.sport.key in sportProfiles);
    this.#ended = new Set(loaded.filter((e) => this.#ended.has(e.externalId)).map((e) => e.externalId));
    const fromDatabase = loaded
      .filter((e) => !this.#ended.has(e.externalId))
      .map((e) => {
        const score = e.scoreHome === null || e.scoreAway === null ? null : { home: e.scoreHome, away: e.scoreAway };
        return known.get(e.externalId) ?? this.#target(e.externalId, e.sport.key, e.kickoffAt.getTime(), score);
      });
    // Fixtures this feed announced that the worker has not stored yet stay.
    const stored = new Set(fromDatabase.map((t) => t.externalId));
    this.#targets = [...fromDatabase, ...this.#targets.filter((t) => t.fixture && !stored.has(t.externalId))];
    const margins = new Map(bookmakerCatalogue.map((b) => [b.key, b.margin]));
    this.#bookmakers = bookmakers.map((b) => ({ key: b.key, margin: margins.get(b.key) ?? 0.05 }));
    this.#loadedAt = now;
  }
}

/** A Poisson draw (Knuth): how many goals fall in a stretch whose expected count is `mean`. */
function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let count = 0;
  for (let p = random(); p > limit; p *= random()) count++;
  return count;
}
