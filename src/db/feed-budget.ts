import type { PrismaClient } from '../generated/prisma/client.js';

/** What a feed spent in one budget period, as stored. */
export interface FeedSpend {
  spent: number;
  /** The service's own count of credits left, when it last said (null: never). */
  upstreamRemaining: number | null;
}

/** What `feed` spent in the period starting at `periodStart` (nothing stored: nothing spent). */
export async function readFeedSpend(prisma: PrismaClient, feed: string, periodStart: Date): Promise<FeedSpend> {
  const row = await prisma.feedBudget.findUnique({ where: { feed_periodStart: { feed, periodStart } } });
  return { spent: row?.spent ?? 0, upstreamRemaining: row?.upstreamRemaining ?? null };
}

/**
 * Adds `credits` (negative: a refund, when a request cost less than
 * reserved) to the period's spend in one statement, so two writers never
 * lose an increment; `upstreamRemaining` is stored when given (null clears it). Returns the
 * period's spend after it.
 */
export async function addFeedSpend(
  prisma: PrismaClient,
  feed: string,
  periodStart: Date,
  credits: number,
  upstreamRemaining?: number | null,
): Promise<FeedSpend> {
  const row = await prisma.feedBudget.upsert({
    where: { feed_periodStart: { feed, periodStart } },
    create: { feed, periodStart, spent: credits, upstreamRemaining: upstreamRemaining ?? null },
    update: { spent: { increment: credits }, ...(upstreamRemaining === undefined ? {} : { upstreamRemaining }) },
  });
  return { spent: row.spent, upstreamRemaining: row.upstreamRemaining };
}
