import { z } from 'zod';
import { historyStartMs } from '../domain/retention.js';

/**
 * What a feed delivers: one bookmaker's prices for one event at one moment,
 * the event named by the feed's external id and the bookmaker by key. Every
 * record is checked against this schema; a bad one is rejected with the
 * reason, the rest of its batch goes on.
 */
export const marketKeys = ['1x2', 'moneyline', 'over_under', 'handicap', 'btts'] as const;

/**
 * What the store holds: prices below 100,000 with 3 decimals, lines within
 * 10,000 with 2 (the numeric(8, 3) and numeric(6, 2) columns before storage
 * v2; src/db/odds-store.ts still rounds to them), text without NUL, and keys
 * short enough for a btree index entry. A record beyond them would fail its
 * whole batch's transaction, so it is refused here, alone, with the reason.
 */
export const storageBounds = { priceBelow: 100_000, lineWithin: 10_000, keyLength: 100, nameLength: 200 } as const;

/** How far in the future a `capturedAt` may be before it is refused (default 5 minutes): a later one would pin its pair's latest price. */
export const defaultMaxClockSkewMs = 5 * 60_000;

const text = (max: number, what: string) =>
  z
    .string()
    .min(1, `${what} is required`)
    .max(max, `${what} must be at most ${max} characters`)
    .refine((value) => !value.includes('\u0000'), `${what} must not contain NUL characters`);
const key = (what: string) => text(storageBounds.keyLength, what);
const name = (what: string) => text(storageBounds.nameLength, what);

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
  key: key('key'),
  name: name('name'),
  result: z.enum(['WON', 'LOST', 'VOID']).nullable().default(null),
  price: z
    .number({ error: 'price is missing or not a number' })
    .gt(1, 'price must be above 1')
    .lt(storageBounds.priceBelow, `price must be below ${storageBounds.priceBelow}`),
});

const market = z.object({
  key: z.enum(marketKeys, { error: (issue) => `unknown market ${JSON.stringify(issue.input)}` }),
  name: name('name'),
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
  competition: key('competition (its key)'),
  home: name('home'),
  away: name('away'),
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
  event: key('event (the external id)'),
  fixture: fixture.optional(),
  bookmaker: key('bookmaker (its key)'),
  /** The bookmaker's display name: when the database does not know the bookmaker yet, the worker creates it. */
  bookmakerName: name('bookmakerName').optional(),
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
  event: key('event (the external id)'),
  fixture: fixture.optional(),
  capturedAt,
  state,
});

export type OddsRecord = z.output<typeof oddsRecord>;
export type StateRecord = z.output<typeof stateRecord>;
export type FeedRecord = OddsRecord | StateRecord;

export type Checked = { ok: true; record: FeedRecord } | { ok: false; reason: string };

export interface CheckOptions {
  /** The clock `capturedAt` is compared with (default `Date.now`). */
  now?: number;
  /** How far ahead of `now` a `capturedAt` may be, in milliseconds (default 5 minutes). */
  maxClockSkewMs?: number;
  /** `HISTORY_RETENTION_DAYS`: a `capturedAt` before the first day history keeps is refused (default: none is). */
  retentionDays?: number | undefined;
}

/**
 * Checks one raw record; the reason names the first bad field, e.g.
 * `markets.0.outcomes.1.price: price must be above 1`. A record with
 * `markets` is an odds record (it needs a bookmaker); one with only `state`
 * is a state record.
 */
export function checkFeedRecord(raw: unknown, { now = Date.now(), maxClockSkewMs = defaultMaxClockSkewMs, retentionDays }: CheckOptions = {}): Checked {
  const stateOnly = typeof raw === 'object' && raw !== null && !('markets' in raw) && 'state' in raw;
  const result = stateOnly ? stateRecord.safeParse(raw) : oddsRecord.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join('.') || 'record'}: ${issue.message}` };
  }
  if (result.data.capturedAt.getTime() > now + maxClockSkewMs) {
    return { ok: false, reason: `capturedAt: more than ${maxClockSkewMs / 1000} s in the future` };
  }
  // Its day is gone, or goes at the next upkeep: a shape only it names would be deleted while it is kept.
  if (retentionDays !== undefined && result.data.capturedAt.getTime() < historyStartMs(now, retentionDays)) {
    return { ok: false, reason: `capturedAt: older than the ${retentionDays} days of history kept (HISTORY_RETENTION_DAYS)` };
  }
  return { ok: true, record: result.data };
}

/**
 * Names a raw record in logs and dead letters: `event|bookmaker|capturedAt`
 * as the feed sent them, each cut to 100 characters, so a record too odd to
 * check still has a name and a flood of huge ones cannot fill the disk.
 */
export function recordKey(raw: unknown): string {
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return [fields.event, fields.bookmaker, fields.capturedAt]
    .map((value) => (value === undefined ? '?' : (typeof value === 'string' ? value : JSON.stringify(value) ?? '?').slice(0, 100)))
    .join('|');
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
  /** What the feed says about itself for `/health` (its budget and plan), if it has anything to say. */
  report?(): FeedReport;
}

/** A feed's own part of the worker's `/health`. */
export interface FeedReport {
  /** Set when the feed cannot deliver for now (its credits are used up): the worker's status turns `degraded`, with this reason. */
  degraded?: string | undefined;
  [detail: string]: unknown;
}
