import type { PrismaClient } from '../generated/prisma/client.js';
import { createRandom, driftModel, priceMarkets, sportProfiles, type ScoringModel } from '../domain/pricing.js';
import { bookmakers as bookmakerCatalogue, sports as sportCatalogue } from '../seed/catalogue.js';
import type { FeedAdapter, FeedBatch } from './feed-record.js';

export interface SimulatedFeedOptions {
  /** Snapshot changes produced per second (default 50). */
  changesPerSecond?: number;
  /** PRNG seed (default 7): the same seed walks prices the same way. */
  seed?: number;
  /** How often the feed re-reads which events are upcoming, in milliseconds (default 5 minutes). */
  refreshEventsMs?: number;
  /** Chance that a snapshot leaves one market out, as a bookmaker suspending it (default 0.03). */
  suspensionRate?: number;
  /** Seconds between announcements of a new event, kicking off within two days (default 30; 0 = never). */
  newEventEverySeconds?: number;
  now?: () => number;
}

interface Target {
  externalId: string;
  sportKey: string;
  model: ScoringModel;
  /** Where the model opened: the walk keeps returning toward it. */
  opening: ScoringModel;
  /** Set for events this feed announced: sent with each record so the worker can create the event. */
  fixture?: { competition: string; home: string; away: string; kickoffAt: string };
}

/**
 * A deterministic random walk of prices for the upcoming events in the
 * database, across its bookmakers, at a steady rate: the embedded default's
 * stand-in for a real odds feed. It speaks the feed record format, so the
 * worker checks its records like any other feed's. It keeps no cursor:
 * what it missed while the worker was down never happened.
 */
export class SimulatedFeed implements FeedAdapter {
  readonly name = 'simulated';
  readonly #random: () => number;
  readonly #changesPerSecond: number;
  readonly #refreshEventsMs: number;
  readonly #suspensionRate: number;
  readonly #newEventEveryMs: number;
  readonly #now: () => number;
  #nextNewEventAt: number | undefined;
  #targets: Target[] = [];
  #bookmakers: Array<{ key: string; margin: number }> = [];
  #loadedAt = -Infinity;
  #lastPoll: number | undefined;
  #owed = 0;
  readonly #lastCapture = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    options: SimulatedFeedOptions = {},
  ) {
    this.#random = createRandom(options.seed ?? 7);
    this.#changesPerSecond = options.changesPerSecond ?? 50;
    this.#refreshEventsMs = options.refreshEventsMs ?? 5 * 60_000;
    this.#suspensionRate = options.suspensionRate ?? 0.03;
    this.#newEventEveryMs = (options.newEventEverySeconds ?? 30) * 1000;
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
    if (this.#targets.length === 0 || this.#bookmakers.length === 0) return [];
    const records = Array.from({ length: count }, () => this.#change(now, this.#pickTarget(), this.#pickBookmaker()));
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

  #pickTarget(): Target {
    return this.#targets[Math.floor(this.#random() * this.#targets.length)]!;
  }

  #pickBookmaker(): { key: string; margin: number } {
    return this.#bookmakers[Math.floor(this.#random() * this.#bookmakers.length)]!;
  }

  /** A new fixture in a random catalogue competition, kicking off on a quarter hour within two days. */
  #announce(now: number): Target {
    const sports = sportCatalogue.filter((s) => s.key in sportProfiles);
    const sport = sports[Math.floor(this.#random() * sports.length)]!;
    const competition = sport.competitions[Math.floor(this.#random() * sport.competitions.length)]!;
    const home = Math.floor(this.#random() * competition.teams.length);
    const away = (home + 1 + Math.floor(this.#random() * (competition.teams.length - 1))) % competition.teams.length;
    const kickoffAt = Math.ceil((now + 1_800_000 + this.#random() * 46 * 3_600_000) / 900_000) * 900_000;
    const target: Target = {
      ...this.#target(`sim-new-${now.toString(36)}`, sport.key),
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
  #target(externalId: string, sportKey: string): Target {
    const model = sportProfiles[sportKey]!.randomModel(this.#random);
    return { externalId, sportKey, model, opening: model };
  }

  #change(now: number, target: Target, bookmaker: { key: string; margin: number }): unknown {
    target.model = driftModel(target.model, target.opening, sportProfiles[target.sportKey]!.bounds, this.#random, 0.02);
    const markets = priceMarkets(target.model, sportProfiles[target.sportKey]!.markets, bookmaker.margin, this.#random);
    if (markets.length > 1 && this.#random() < this.#suspensionRate) {
      markets.splice(1 + Math.floor(this.#random() * (markets.length - 1)), 1);
    }
    // Two changes of one pair in the same millisecond would be one snapshot: keep captures strictly increasing.
    const pair = `${target.externalId}|${bookmaker.key}`;
    const capturedAt = Math.max(now, (this.#lastCapture.get(pair) ?? 0) + 1);
    this.#lastCapture.set(pair, capturedAt);
    return {
      event: target.externalId,
      ...(target.fixture && { fixture: target.fixture }),
      bookmaker: bookmaker.key,
      capturedAt: new Date(capturedAt).toISOString(),
      markets,
    };
  }

  async #load(now: number): Promise<void> {
    const [events, bookmakers] = await Promise.all([
      this.prisma.event.findMany({
        where: { kickoffAt: { gte: new Date(now - 2 * 3_600_000) }, status: { in: ['SCHEDULED', 'LIVE'] } },
        select: { externalId: true, sport: { select: { key: true } } },
        orderBy: { id: 'asc' },
      }),
      this.prisma.bookmaker.findMany({ select: { key: true }, orderBy: { id: 'asc' } }),
    ]);
    const known = new Map(this.#targets.map((t) => [t.externalId, t]));
    this.#targets = events
      .filter((e) => e.sport.key in sportProfiles)
      .map((e) => known.get(e.externalId) ?? this.#target(e.externalId, e.sport.key));
    const margins = new Map(bookmakerCatalogue.map((b) => [b.key, b.margin]));
    this.#bookmakers = bookmakers.map((b) => ({ key: b.key, margin: margins.get(b.key) ?? 0.05 }));
    this.#loadedAt = now;
  }
}
