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

/** A check that no two items share an identity; the issue's path points at the second. */
function unique<T>(identity: (item: T) => string, message: (item: T) => string) {
  return (items: T[], context: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const id = identity(item);
      if (seen.has(id)) context.addIssue({ code: 'custom', path: [index], message: message(item) });
      seen.add(id);
    });
  };
}

const outcome = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  result: z.enum(['WON', 'LOST', 'VOID']).nullable().default(null),
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
  status: z.enum(['OPEN', 'SUSPENDED', 'SETTLED']).default('OPEN'),
  outcomes: z
    .array(outcome)
    .min(2, 'a market needs at least two outcomes')
    .superRefine(unique((o) => o.key, (o) => `outcome ${JSON.stringify(o.key)} appears twice in one market`)),
});

/** What a feed says about an event it announces: enough to create it when the database does not know it yet. */
const fixture = z.object({
  competition: z.string().min(1, 'competition (its key) is required'),
  home: z.string().min(1),
  away: z.string().min(1),
  kickoffAt: z.iso.datetime({ offset: true, error: 'kickoffAt must be an ISO 8601 date-time' }).transform((s) => new Date(s)),
});

/** Where the event stands: its status, and from kick-off its score and (while live) the match clock. */
const state = z.object({
  status: z.enum(['SCHEDULED', 'LIVE', 'FINISHED', 'CANCELLED']),
  score: z.object({ home: z.number().int().min(0), away: z.number().int().min(0) }).nullable().default(null),
  clock: z.object({ period: z.string().min(1).max(20), minute: z.number().int().min(0).max(1000) }).nullable().default(null),
});

const capturedAt = z.iso.datetime({ offset: true, error: 'capturedAt must be an ISO 8601 date-time' }).transform((s) => new Date(s));

/** One bookmaker's markets, optionally with the event's state as the feed saw it at the same moment. */
const oddsRecord = z.object({
  event: z.string().min(1, 'event (the external id) is required'),
  fixture: fixture.optional(),
  bookmaker: z.string().min(1, 'bookmaker (its key) is required'),
  capturedAt,
  state: state.optional(),
  markets: z
    .array(market)
    .min(1, 'a snapshot needs at least one market')
    // A market's (key, line) and an outcome's key name them for clients (src/domain/odds-ids.ts): two alike would be one.
    .superRefine(unique((m) => `${m.key}|${m.line}`, (m) => `market ${m.key}${m.line === null ? '' : ` at line ${m.line}`} appears twice in one snapshot`)),
});

/** The event's state alone: kick-off, a goal, the clock, the final whistle. */
const stateRecord = z.object({
  event: z.string().min(1, 'event (the external id) is required'),
  fixture: fixture.optional(),
  capturedAt,
  state,
});

export type OddsRecord = z.output<typeof oddsRecord>;
export type StateRecord = z.output<typeof stateRecord>;
export type FeedRecord = OddsRecord | StateRecord;

export type Checked = { ok: true; record: FeedRecord } | { ok: false; reason: string };

/**
 * Checks one raw record; the reason names the first bad field, e.g.
 * `markets.0.outcomes.1.price: price must be above 1`. A record with
 * `markets` is an odds record (it needs a bookmaker); one with only `state`
 * is a state record.
 */
export function checkFeedRecord(raw: unknown): Checked {
  const stateOnly = typeof raw === 'object' && raw !== null && !('markets' in raw) && 'state' in raw;
  const result = stateOnly ? stateRecord.safeParse(raw) : oddsRecord.safeParse(raw);
  if (result.success) return { ok: true, record: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}

/** A source of feed records, pulled by the ingest worker once per cycle. */
export interface FeedAdapter {
  readonly name: string;
  /** Records that arrived since the last poll, unchecked. */
  poll(): Promise<unknown[]>;
}
