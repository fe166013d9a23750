import { addFeedSpend, readFeedSpend } from '../../db/feed-budget.js';
import type { BudgetPeriod, BudgetSetting } from '../../config.js';
import type { PrismaClient } from '../../generated/prisma/client.js';

/** The UTC calendar period holding `now`: [start, end). */
export function periodOf(now: number, period: BudgetPeriod): { start: number; end: number } {
  const d = new Date(now);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  if (period === 'month') return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  const back = period === 'week' ? (d.getUTCDay() + 6) % 7 : 0;
  const start = Date.UTC(y, m, day - back);
  return { start, end: start + (period === 'week' ? 7 : 1) * 86_400_000 };
}

/**
 * A feed's credits for the current period, kept in `feed_budget` rather
 * than in memory: a request's cost is written before it is sent (reserve)
 * and corrected by what the service says it cost (settle), so a crash
 * between the two over-counts, never under-counts, and a restarted worker
 * reads back what was spent. The service's own `x-requests-remaining`, when
 * lower, is what is left (the key may be used elsewhere too).
 */
export class CreditBudget {
  readonly limit: number;
  readonly #setting: BudgetSetting;
  readonly #prisma: PrismaClient;
  readonly #feed: string;
  #period: { start: number; end: number } | undefined;
  #spent = 0;
  #upstreamRemaining: number | null = null;

  constructor(setting: BudgetSetting, { prisma, feed }: { prisma: PrismaClient; feed: string }) {
    this.#setting = setting;
    this.limit = setting.credits;
    this.#prisma = prisma;
    this.#feed = feed;
  }

  /** Reads the period's spend from the database at the first call and whenever a new period begins. */
  async sync(now: number): Promise<void> {
    if (this.#period && now < this.#period.end) return;
    const period = periodOf(now, this.#setting.period);
    const stored = await readFeedSpend(this.#prisma, this.#feed, new Date(period.start));
    this.#period = period;
    this.#spent = stored.spent;
    this.#upstreamRemaining = stored.upstreamRemaining;
  }

  get spent(): number {
    return this.#spent;
  }

  get periodStart(): number {
    return this.#require().start;
  }

  get periodEnd(): number {
    return this.#require().end;
  }

  remaining(): number {
    return Math.min(this.limit - this.#spent, this.#upstreamRemaining ?? Infinity);
  }

  /**
   * Writes `credits` as spent before a request that may cost them; false
   * (and nothing spent) when they are not left, counting what other
   * workers of the same feed spent meanwhile.
   */
  async reserve(credits: number): Promise<boolean> {
    if (this.remaining() < credits) return false;
    this.#apply(await addFeedSpend(this.#prisma, this.#feed, new Date(this.periodStart), credits));
    if (this.remaining() >= 0) return true;
    this.#apply(await addFeedSpend(this.#prisma, this.#feed, new Date(this.periodStart), -credits));
    return false;
  }

  /**
   * What a reserved request really cost (`x-requests-last`) and what the
   * service says is left. Its count is stored only while it is the lower of
   * the two (the key is spent elsewhere too), so a request that cost what
   * was reserved writes nothing more.
   */
  async settle(reserved: number, cost: number, upstreamRemaining: number | undefined): Promise<void> {
    const correction = cost - reserved;
    const binding = upstreamRemaining !== undefined && upstreamRemaining < this.limit - this.#spent - correction ? upstreamRemaining : null;
    const keep = upstreamRemaining === undefined ? this.#upstreamRemaining : binding;
    if (correction === 0 && keep === this.#upstreamRemaining) return;
    this.#apply(await addFeedSpend(this.#prisma, this.#feed, new Date(this.periodStart), correction, keep));
  }

  #apply(stored: { spent: number; upstreamRemaining: number | null }): void {
    this.#spent = stored.spent;
    this.#upstreamRemaining = stored.upstreamRemaining;
  }

  #require(): { start: number; end: number } {
    if (!this.#period) throw new Error('CreditBudget: sync(now) must run before the period is read');
    return this.#period;
  }
}
