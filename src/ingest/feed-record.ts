import { z } from 'zod';

/**
 * What a feed delivers: one bookmaker's prices for one event at one moment,
 * the event named by the feed's external id and the bookmaker by key. Every
 * record is checked against this schema; a bad one is rejected with the
 * reason, the rest of its batch goes on.
 */
export const marketKeys = ['1x2', 'moneyline', 'over_under', 'handicap', 'btts'] as const;

/**
 * What the store can hold (prisma/schema.prisma: price Decimal(8, 3), line
 * Decimal(6, 2)). A record beyond them would fail its whole batch's
 * transaction, so it is refused here, alone, with the reason.
 */
export const storageBounds = { priceBelow: 100_000, lineWithin: 10_000 } as const;

const outcome = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  price: z
    .number({ error: 'price is missing or not a number' })
    .gt(1, 'price must be above 1')
    .lt(storageBounds.priceBelow, `price must be below ${storageBounds.priceBelow}`),
});

const market = z.object({
  key: z.enum(marketKeys, { error: (issue) => `unknown market ${JSON.stringify(issue.input)}` }),
  name: z.string().min(1),
  line: z
    .number()
    .gt(-storageBounds.lineWithin, `line must be above -${storageBounds.lineWithin}`)
    .lt(storageBounds.lineWithin, `line must be below ${storageBounds.lineWithin}`)
    .nullable()
    .default(null),
  outcomes: z.array(outcome).min(2, 'a market needs at least two outcomes'),
});

/** What a feed says about an event it announces: enough to create it when the database does not know it yet. */
const fixture = z.object({
  competition: z.string().min(1, 'competition (its key) is required'),
  home: z.string().min(1),
  away: z.string().min(1),
  kickoffAt: z.iso.datetime({ offset: true, error: 'kickoffAt must be an ISO 8601 date-time' }).transform((s) => new Date(s)),
});

export const feedRecordSchema = z.object({
  event: z.string().min(1, 'event (the external id) is required'),
  fixture: fixture.optional(),
  bookmaker: z.string().min(1, 'bookmaker (its key) is required'),
  capturedAt: z.iso.datetime({ offset: true, error: 'capturedAt must be an ISO 8601 date-time' }).transform((s) => new Date(s)),
  markets: z.array(market).min(1, 'a snapshot needs at least one market'),
});

export type FeedRecord = z.output<typeof feedRecordSchema>;

export type Checked = { ok: true; record: FeedRecord } | { ok: false; reason: string };

/** Checks one raw record; the reason names the first bad field, e.g. `markets.0.outcomes.1.price: price must be above 1`. */
export function checkFeedRecord(raw: unknown): Checked {
  const result = feedRecordSchema.safeParse(raw);
  if (result.success) return { ok: true, record: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}

/** What one poll returned: the records after the cursor it was given, and the cursor after them. */
export interface FeedBatch {
  /** Unchecked: the worker checks each against the schema. */
  records: unknown[];
  /**
   * Where the feed stands after these records. The worker commits it in the
   * same transaction as what the records produced and passes it to the
   * next poll; until then it polls nothing new.
   */
  cursor: string | null;
}

/** A source of feed records, pulled by the ingest worker. The worker owns the cursor; the adapter keeps none. */
export interface FeedAdapter {
  /** Names the feed in logs and keys its committed cursor (`feed_cursor.feed`), so it must stay the same across restarts. */
  readonly name: string;
  /**
   * The records after `cursor`: null when nothing was ever committed for
   * this feed, and a feed that keeps no position gets and returns whatever
   * it likes (the simulated feed, null). `maxRecords` is a hint a feed may
   * honour, so one answer fits one cycle.
   */
  poll(cursor: string | null, maxRecords: number): Promise<FeedBatch>;
}
