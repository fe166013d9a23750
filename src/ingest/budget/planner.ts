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
 * frequent as far-away events and the budget lasts to the end. The factor
 * comes from the demand averaged over the next day (`averageDemand`, from
 * the kick-offs known), not from this moment's: busy evenings then spend
 * above the hourly allowance and quiet mornings below it, instead of
 * in-play prices being starved every evening and far-away ones polled
 * often every morning.
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
  /** Credits per ms the events want unstretched, averaged ahead (`averageDemand`); default: this moment's. */
  averageDemandPerMs?: number;
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
  /** Credits per hour this plan spends now, while the events stay where they are. */
  creditsPerHour: number;
  /** Credits left at the end of the period if the average demand, stretched alike, went on until then. */
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
  const wanted = demand(groups, baseIntervalMs, creditsPerRequest);
  const average = input.averageDemandPerMs ?? wanted;
  const timeLeftMs = Math.max(input.periodEndsAt - now, 1);
  const allowance = Math.max(remaining, 0) / timeLeftMs;
  const exhausted = remaining < creditsPerRequest;
  const stretch = exhausted || average === 0 ? 1 : Math.max(1, average / allowance);
  const intervalsMs = perTier((tier) => baseIntervalMs * tierWeights[tier] * stretch);
  const due = exhausted
    ? []
    : groups.filter((g) => g.eventIds.some((id) => now - (input.lastPolled.get(id) ?? -Infinity) >= intervalsMs[g.tier]));
  return {
    intervalsMs,
    events: perTier((tier) => groups.filter((g) => g.tier === tier).reduce((n, g) => n + g.eventIds.length, 0)),
    stretch,
    creditsPerHour: exhausted ? 0 : (wanted / stretch) * 3_600_000,
    projectedEndBalance: exhausted ? remaining : Math.max(remaining, 0) - (average / stretch) * timeLeftMs,
    exhausted,
    due,
  };
}

/**
 * Credits per ms the events would want unstretched, averaged over
 * `horizonMs` from `from` in 15-minute steps, the tiers moving as the
 * clock does: the day's demand, busy hours and quiet ones together.
 */
export function averageDemand(
  events: readonly PlannedEvent[],
  { from, horizonMs, baseIntervalMs, creditsPerRequest }: { from: number; horizonMs: number; baseIntervalMs: number; creditsPerRequest: number },
): number {
  const stepMs = 15 * 60_000;
  const kickoffs = kickoffsBySport(events);
  const perGroup = tiers.map((tier) => groupDemand(tier, baseIntervalMs, creditsPerRequest));
  let sum = 0;
  let steps = 0;
  for (let at = from; at < from + horizonMs; at += stepMs, steps++) {
    // A day's 96 steps over hundreds of events: each step searches every sport's sorted kick-offs for the
    // bounds of each tier instead of grouping every event again.
    const groups = tiers.map(() => 0);
    for (const sorted of kickoffs) {
      let start = firstOfRank(sorted, 0, at);
      for (let rank = 0; rank < tiers.length; rank++) {
        const end = firstOfRank(sorted, rank + 1, at);
        if (end > start) groups[rank]!++;
        start = end;
      }
    }
    // One addition per group, in tier order: the float sum `demand` makes of the same groups.
    let demandAt = 0;
    for (let rank = 0; rank < tiers.length; rank++) for (let g = 0; g < groups[rank]!; g++) demandAt += perGroup[rank]!;
    sum += demandAt;
  }
  return steps === 0 ? 0 : sum / steps;
}

/** Each sport's kick-offs in ascending order. */
function kickoffsBySport(events: readonly PlannedEvent[]): Float64Array[] {
  const bySport = new Map<string, number[]>();
  for (const { sport, kickoffAt } of events) {
    const kickoffs = bySport.get(sport);
    if (kickoffs) kickoffs.push(kickoffAt);
    else bySport.set(sport, [kickoffAt]);
  }
  // A typed array sorts numerically, NaN last: `tierOf` puts NaN in `later`, the last tier, so tiers stay in order.
  return [...bySport.values()].map((kickoffs) => Float64Array.from(kickoffs).sort());
}

/**
 * The index of the first kick-off in `sorted` whose tier at `now` is `rank` (an index in `tiers`) or later,
 * by binary search: a later kick-off is never in an earlier tier. `sorted.length` when there is none.
 */
function firstOfRank(sorted: Float64Array, rank: number, now: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const tier = tierOf(sorted[middle]!, now);
    if (tier !== undefined && tiers.indexOf(tier) >= rank) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Credits per ms if every group were polled at its unstretched interval. */
function demand(groups: readonly PollGroup[], baseIntervalMs: number, creditsPerRequest: number): number {
  return groups.reduce((sum, g) => sum + groupDemand(g.tier, baseIntervalMs, creditsPerRequest), 0);
}

/** Credits per ms of one group of `tier` polled at its unstretched interval. */
function groupDemand(tier: Tier, baseIntervalMs: number, creditsPerRequest: number): number {
  return creditsPerRequest / (baseIntervalMs * tierWeights[tier]);
}

/** One group per (sport, tier) with events, in tier order; finished events in none. */
function groupByTier(events: readonly PlannedEvent[], now: number): PollGroup[] {
  const byTier = new Map<Tier, Map<string, string[]>>(tiers.map((tier) => [tier, new Map()]));
  for (const event of events) {
    const tier = tierOf(event.kickoffAt, now);
    if (tier === undefined) continue;
    const bySport = byTier.get(tier)!;
    const ids = bySport.get(event.sport);
    if (ids) ids.push(event.id);
    else bySport.set(event.sport, [event.id]);
  }
  return tiers.flatMap((tier) => [...byTier.get(tier)!].map(([sport, eventIds]) => ({ sport, tier, eventIds })));
}
