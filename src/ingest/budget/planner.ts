/**
 * What to poll next, decided from the events known, when each was last
 * polled, and the credits left: pure, so the plan is tested without a
 * server or a clock.
 *
 * Every event falls in a tier by its kick-off. A tier's interval is the
 * base interval (`ODDS_API_INTERVAL_MS`, for in-play events) times its
 * weight: prices move in play and just before kick-off, hardly at all days
 * ahead. When polling every tier at those intervals would spend faster
 * than the credits left allow until the end of the period, every interval
 * is stretched by the same factor, so in-play stays `weight` times as
 * frequent as far-away events and the budget lasts to the end. Credits not
 * spent in quiet hours raise the allowance of the busy ones.
 */
export const tiers = ['inplay', 'soon', 'today', 'later'] as const;
export type Tier = (typeof tiers)[number];

/** A tier's interval as a multiple of the in-play one. */
export const tierWeights: Readonly<Record<Tier, number>> = { inplay: 1, soon: 2, today: 10, later: 60 };

/** An event in play this long after kick-off is taken as finished (the events list drops it sooner when it ends). */
export const inPlayForMs = 4 * 3_600_000;
/** `soon`: kicking off within 2 hours; `today`: within 24 hours; `later`: beyond. */
const soonWithinMs = 2 * 3_600_000;
const todayWithinMs = 24 * 3_600_000;

export interface PlannedEvent {
  id: string;
  sport: string;
  /** Kick-off, in ms since the epoch. */
  kickoffAt: number;
}

/** The event's tier at `now`, or undefined once it is over: finished events are never polled. */
export function tierOf(kickoffAt: number, now: number): Tier | undefined {
  const untilKickoff = kickoffAt - now;
  if (untilKickoff <= -inPlayForMs) return undefined;
  if (untilKickoff <= 0) return 'inplay';
  if (untilKickoff <= soonWithinMs) return 'soon';
  return untilKickoff <= todayWithinMs ? 'today' : 'later';
}

export interface PlanInput {
  events: readonly PlannedEvent[];
  /** When each event was last polled (absent: never, so it is due). */
  lastPolled: ReadonlyMap<string, number>;
  now: number;
  /** The in-play interval before stretching, in ms. */
  baseIntervalMs: number;
  /** Credits one odds request costs (markets x regions). */
  creditsPerRequest: number;
  /** Credits left in the period. */
  remaining: number;
  periodEndsAt: number;
}

/** One odds request: a sport's events of one tier, asked for together (the cost is per request, not per event). */
export interface PollGroup {
  sport: string;
  tier: Tier;
  eventIds: string[];
}

export interface Plan {
  /** Each tier's interval after stretching, in ms. */
  intervalsMs: Record<Tier, number>;
  /** Events per tier. */
  events: Record<Tier, number>;
  /** How much the intervals were stretched to fit the budget (1: not at all). */
  stretch: number;
  /** Credits per hour this plan spends while the events stay where they are. */
  creditsPerHour: number;
  /** Credits left at the end of the period if this plan ran until then. */
  projectedEndBalance: number;
  /** No request is affordable: nothing is polled until the period ends. */
  exhausted: boolean;
  /** Requests due now, most valuable first. */
  due: PollGroup[];
}

const perTier = <T>(value: (tier: Tier) => T) => Object.fromEntries(tiers.map((tier) => [tier, value(tier)])) as Record<Tier, T>;

export function plan(input: PlanInput): Plan {
  const { now, baseIntervalMs, creditsPerRequest, remaining } = input;
  const groups = groupByTier(input.events, now);
  // Credits per ms if every group were polled at its unstretched interval.
  const wanted = groups.reduce((sum, g) => sum + creditsPerRequest / (baseIntervalMs * tierWeights[g.tier]), 0);
  const timeLeftMs = Math.max(input.periodEndsAt - now, 1);
  const allowance = Math.max(remaining, 0) / timeLeftMs;
  const exhausted = remaining < creditsPerRequest;
  const stretch = exhausted || wanted === 0 ? 1 : Math.max(1, wanted / allowance);
  const intervalsMs = perTier((tier) => baseIntervalMs * tierWeights[tier] * stretch);
  const spendPerMs = exhausted ? 0 : wanted / stretch;
  const due = exhausted
    ? []
    : groups.filter((g) => g.eventIds.some((id) => now - (input.lastPolled.get(id) ?? -Infinity) >= intervalsMs[g.tier]));
  return {
    intervalsMs,
    events: perTier((tier) => groups.filter((g) => g.tier === tier).reduce((n, g) => n + g.eventIds.length, 0)),
    stretch,
    creditsPerHour: spendPerMs * 3_600_000,
    projectedEndBalance: Math.max(remaining, 0) - spendPerMs * timeLeftMs,
    exhausted,
    due,
  };
}

/** One group per (sport, tier) with events, in tier order; finished events in none. */
function groupByTier(events: readonly PlannedEvent[], now: number): PollGroup[] {
  const groups = new Map<string, PollGroup>();
  for (const event of events) {
    const tier = tierOf(event.kickoffAt, now);
    if (tier === undefined) continue;
    const key = `${tier}\u0000${event.sport}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { sport: event.sport, tier, eventIds: [] }));
    group.eventIds.push(event.id);
  }
  return [...groups.values()].sort((a, b) => tiers.indexOf(a.tier) - tiers.indexOf(b.tier));
}
