import type { PrismaClient } from '../generated/prisma/client.js';
import type { LoggedOddsChange } from '../domain/change-log.js';
import { changedMarketKeys } from '../domain/market-changes.js';
import { withMovement, type MovedMarket } from '../domain/movement.js';
import type { EventStateInput, SnapshotInput } from '../domain/odds.js';
import { movedMarkets, storedMarkets, type ShapeMarket, type StoredPrices } from '../domain/stored-odds.js';
import type { RowQuery } from './database.js';
import { writeFeedCommit, type FeedCommit, type Transaction } from './feed-commit.js';
import { readShapes, shapeOf, storedColumns, writeShapes, type StoredRow } from './market-shapes.js';

export interface StoreResult {
  /** Snapshots written; one already stored (same event, bookmaker, capturedAt) is not counted. */
  stored: number;
  /** Snapshots skipped because they were already stored. */
  duplicates: number;
  /** (event, bookmaker) pairs whose latest snapshot moved forward, with the new snapshot and the markets it moved. */
  latestChanged: LoggedOddsChange[];
  /** Events whose status, score or clock moved forward. */
  eventsChanged: number[];
  /** The change log's position of this commit, when it came with a `FeedCommit` and stored snapshots. */
  position: bigint | null;
}

/**
 * Writes a batch of snapshots and event states in one transaction: each
 * snapshot as one history row with its markets as a jsonb document, the
 * latest odds per (event, bookmaker) (the newest document itself, so the
 * board reads one row per pair), and each event's status, score and clock.
 * Every outcome's movement (the price before its last change, and when) is
 * derived here from the same bookmaker's snapshot before, so no read looks
 * backwards. Idempotent by the unique (event, bookmaker, capturedAt) key: a
 * snapshot delivered twice is stored once. Either the whole batch lands or
 * none of it does. With a `FeedCommit`, the feed's cursor, its dead letters
 * and a change-log row are part of that same transaction.
 *
 * A fixed number of statements whatever the batch size: each write is one
 * `INSERT ... SELECT` over arrays of the batch's columns.
 */
export async function storeSnapshots(
  prisma: PrismaClient,
  snapshots: readonly SnapshotInput[],
  eventStates: readonly EventStateInput[] = [],
  commit?: FeedCommit,
): Promise<StoreResult> {
  if (snapshots.length === 0 && eventStates.length === 0 && !commit) {
    return { stored: 0, duplicates: 0, latestChanged: [], eventsChanged: [], position: null };
  }
  return prisma.$transaction(
    async (tx) => {
      const eventsChanged = await storeEventStates(tx, eventStates);
      const stored = await writeSnapshots(tx, snapshots);
      const position = commit ? await writeFeedCommit(tx, commit, stored.latestChanged, eventsChanged) : null;
      return { ...stored, eventsChanged, position };
    },
    // A seed batch of tens of thousands of rows can outlast Prisma's 5 s default.
    { timeout: 60_000 },
  );
}

/**
 * Writes what `storeSnapshots` would, then rolls back: throws what the
 * database would throw for them, changes nothing. For finding which
 * records of a failed batch the database refuses.
 */
export async function trySnapshots(prisma: PrismaClient, snapshots: readonly SnapshotInput[], eventStates: readonly EventStateInput[] = []): Promise<void> {
  const rollback = new Error('trial: roll back');
  try {
    await prisma.$transaction(
      async (tx) => {
        await storeEventStates(tx, eventStates);
        await writeSnapshots(tx, snapshots);
        throw rollback;
      },
      { timeout: 60_000 },
    );
  } catch (error) {
    if (error !== rollback) throw error;
  }
}

/** The history rows and the latest odds they move; with the ids of the snapshots inserted. */
async function writeSnapshots(
  tx: Transaction,
  input: readonly SnapshotInput[],
): Promise<Pick<StoreResult, 'stored' | 'duplicates' | 'latestChanged'>> {
  if (input.length === 0) return { stored: 0, duplicates: 0, latestChanged: [] };
  const snapshots = input.map(asStored);
  const heads = await lockLatest(tx, snapshots);
  const headsBefore = new Map(heads);
  const moved = await withMovements(tx, snapshots, heads);
  const stored = moved.map((markets, i) => storedMarkets(markets, snapshots[i]!.capturedAt.getTime()));
  await writeShapes(rowQuery(tx), stored.map((markets, i) => ({ stored: markets, capturedAt: snapshots[i]!.capturedAt })));
  // One statement: the history rows, then each pair's newest inserted row made its latest odds, only forward (a
  // late, older snapshot joins history without becoming the latest). The latest odds take their prices from
  // the inserted rows, so each is sent and parsed once. ON CONFLICT DO NOTHING RETURNING yields only
  // the rows this call inserted.
  const [written] = await tx.$queryRawUnsafe<[{ stored: number; latest: MovedLatest[] }]>(
    `WITH inserted AS (
       INSERT INTO odds_snapshot (event_id, bookmaker_id, captured_at, shape, prices)
       SELECT ($1::int[])[d.i], ($2::int[])[d.i], ($3::timestamptz[])[d.i], ($5::uuid[])[d.i], d.prices
       FROM json_array_elements($4::json) WITH ORDINALITY AS d(prices, i)
       ON CONFLICT (event_id, bookmaker_id, captured_at) DO NOTHING
       RETURNING id, event_id, bookmaker_id, captured_at, shape, prices
     ), moved AS (
       INSERT INTO latest_odds (event_id, bookmaker_id, snapshot_id, captured_at, shape, prices)
       SELECT DISTINCT ON (event_id, bookmaker_id) event_id, bookmaker_id, id, captured_at, shape, prices
       FROM inserted ORDER BY event_id, bookmaker_id, captured_at DESC
       ON CONFLICT (event_id, bookmaker_id) DO UPDATE
         SET snapshot_id = EXCLUDED.snapshot_id, captured_at = EXCLUDED.captured_at, shape = EXCLUDED.shape, prices = EXCLUDED.prices
         WHERE latest_odds.captured_at < EXCLUDED.captured_at
       RETURNING event_id, bookmaker_id, snapshot_id, captured_at
     )
     SELECT (SELECT count(*)::int FROM inserted) AS stored,
            COALESCE((SELECT json_agg(json_build_object('eventId', event_id, 'bookmakerId', bookmaker_id, 'snapshotId', snapshot_id,
                                                        'capturedAt', captured_at)) FROM moved), '[]') AS latest`,
    snapshots.map((s) => s.eventId),
    snapshots.map((s) => s.bookmakerId),
    snapshots.map((s) => s.capturedAt.toISOString()),
    jsonArray(stored.map((s) => s.pricesJson)),
    stored.map((s) => s.digest),
  );
  const { stored: count, latest } = written!;
  if (count === 0) return { stored: 0, duplicates: snapshots.length, latestChanged: [] };
  const marketsByKey = new Map(snapshots.map((snapshot, i) => [snapshotKey(snapshot), moved[i]!]));
  return {
    stored: count,
    duplicates: snapshots.length - count,
    // What moved is told against the latest odds before this batch: subscribers never saw a batch's earlier snapshots.
    latestChanged: latest.map((row) => {
      const capturedAt = new Date(row.capturedAt);
      const markets = marketsByKey.get(snapshotKey({ ...row, capturedAt }))!;
      return {
        eventId: row.eventId,
        bookmakerId: row.bookmakerId,
        snapshotId: row.snapshotId,
        capturedAt: capturedAt.toISOString(),
        changedMarkets: changedMarketKeys(headsBefore.get(pairKey(row))?.markets, markets),
      };
    }),
  };
}

/**
 * Each snapshot's markets with their movement. Snapshots are taken in
 * capture order per (event, bookmaker), each following the one before: the
 * stored latest (locked, so a concurrent batch for the same pair follows
 * this one's instead of deriving from the same base) or an earlier one of
 * this batch. A late snapshot, older than the stored latest, follows the
 * stored snapshot just before it.
 */
async function withMovements(tx: Transaction, snapshots: readonly SnapshotInput[], heads: Map<string, Head>): Promise<MovedMarket[][]> {
  const late = snapshots.filter((s) => s.capturedAt.getTime() < (heads.get(pairKey(s))?.capturedAtMs ?? -Infinity));
  const before = await storedBefore(tx, late);
  const order = snapshots.map((_, i) => i).sort((a, b) => snapshots[a]!.capturedAt.getTime() - snapshots[b]!.capturedAt.getTime());
  const documents: MovedMarket[][] = [];
  for (const i of order) {
    const snapshot = snapshots[i]!;
    const at = snapshot.capturedAt.getTime();
    const head = heads.get(pairKey(snapshot));
    if (head && at === head.capturedAtMs) {
      documents[i] = head.markets; // the same snapshot again: stored once, as it was
    } else if (head && at < head.capturedAtMs) {
      documents[i] = withMovement(snapshot.markets, at, before.get(snapshotKey(snapshot)));
    } else {
      documents[i] = withMovement(snapshot.markets, at, head?.markets);
      heads.set(pairKey(snapshot), { capturedAtMs: at, markets: documents[i] });
    }
  }
  return documents;
}

/** The stored latest odds of each pair in the batch, locked until the transaction ends. */
async function lockLatest(tx: Transaction, snapshots: readonly SnapshotInput[]): Promise<Map<string, Head>> {
  const pairs = [...new Map(snapshots.map((s) => [pairKey(s), s])).values()];
  // Locked in key order, so two batches locking overlapping pairs cannot deadlock.
  const rows = await tx.$queryRawUnsafe<Array<{ eventId: number; bookmakerId: number } & StoredRow>>(
    `SELECT event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${storedColumns}
     FROM latest_odds WHERE (event_id, bookmaker_id) IN (SELECT * FROM unnest($1::int[], $2::int[]))
     ORDER BY event_id, bookmaker_id FOR UPDATE`,
    pairs.map((s) => s.eventId),
    pairs.map((s) => s.bookmakerId),
  );
  const shapes = await readShapes(rowQuery(tx), rows.map((row) => row.shape));
  return new Map(
    rows.map((row) => {
      const capturedAtMs = new Date(row.capturedAt).getTime();
      return [pairKey(row), { capturedAtMs, markets: storedMoved(row, shapes, capturedAtMs, `the latest odds of ${pairKey(row)}`) }];
    }),
  );
}

/** For each late snapshot, the markets of the same pair's stored snapshot just before it (none: absent). */
async function storedBefore(tx: Transaction, late: readonly SnapshotInput[]): Promise<Map<string, MovedMarket[]>> {
  if (late.length === 0) return new Map();
  const rows = await tx.$queryRawUnsafe<Array<{ i: number } & StoredRow>>(
    `SELECT l.i::int AS i, p.captured_at AS "capturedAt", p.shape::text AS shape, p.prices::text AS prices
     FROM unnest($1::int[], $2::int[], $3::timestamptz[]) WITH ORDINALITY AS l(event_id, bookmaker_id, captured_at, i)
     JOIN LATERAL (
       SELECT s.captured_at, s.shape, s.prices FROM odds_snapshot s
       WHERE s.event_id = l.event_id AND s.bookmaker_id = l.bookmaker_id AND s.captured_at < l.captured_at
       ORDER BY s.captured_at DESC LIMIT 1
     ) p ON true`,
    late.map((s) => s.eventId),
    late.map((s) => s.bookmakerId),
    late.map((s) => s.capturedAt.toISOString()),
  );
  const shapes = await readShapes(rowQuery(tx), rows.map((row) => row.shape));
  return new Map(
    rows.map((row) => {
      const key = snapshotKey(late[row.i - 1]!);
      return [key, storedMoved(row, shapes, new Date(row.capturedAt).getTime(), `the snapshot before ${key}`)];
    }),
  );
}

function storedMoved(row: StoredRow, shapes: ReadonlyMap<string, readonly ShapeMarket[]>, capturedAtMs: number, what: string): MovedMarket[] {
  return movedMarkets(shapeOf(shapes, row.shape, what), JSON.parse(row.prices) as StoredPrices, capturedAtMs);
}

/** Raw statements inside the transaction, as `RowQuery`s. */
function rowQuery(tx: Transaction): RowQuery {
  return (sql, params = []) => tx.$queryRawUnsafe(sql, ...params);
}

/**
 * Moves each event's state forward: the newest state per event in the batch,
 * written only over an older one, so a late record never takes back a goal.
 */
async function storeEventStates(tx: Transaction, states: readonly EventStateInput[]): Promise<number[]> {
  const newest = new Map<number, EventStateInput>();
  for (const state of states) {
    const current = newest.get(state.eventId);
    if (!current || current.capturedAt < state.capturedAt) newest.set(state.eventId, state);
  }
  if (newest.size === 0) return [];
  const rows = [...newest.values()];
  const changed = await tx.$queryRawUnsafe<Array<{ id: number }>>(
    `UPDATE event e
     SET status = s.status::"EventStatus", score_home = s.score_home, score_away = s.score_away,
         clock_period = s.clock_period, clock_minute = s.clock_minute, state_at = s.state_at, updated_at = now()
     FROM unnest($1::int[], $2::text[], $3::int[], $4::int[], $5::text[], $6::int[], $7::timestamptz[])
       AS s(id, status, score_home, score_away, clock_period, clock_minute, state_at)
     WHERE e.id = s.id AND (e.state_at IS NULL OR e.state_at < s.state_at)
       AND (e.status::text, e.score_home, e.score_away, e.clock_period, e.clock_minute)
           IS DISTINCT FROM (s.status, s.score_home, s.score_away, s.clock_period, s.clock_minute)
     RETURNING e.id`,
    rows.map((r) => r.eventId),
    rows.map((r) => r.status),
    rows.map((r) => r.score?.home ?? null),
    rows.map((r) => r.score?.away ?? null),
    rows.map((r) => r.clock?.period ?? null),
    rows.map((r) => r.clock?.minute ?? null),
    rows.map((r) => r.capturedAt.toISOString()),
  );
  return changed.map((row) => row.id);
}

/** A pair whose latest odds this batch moved forward, and the snapshot they are now. */
interface MovedLatest {
  eventId: number;
  bookmakerId: number;
  snapshotId: number;
  capturedAt: Date | string;
}

interface Head {
  capturedAtMs: number;
  markets: MovedMarket[];
}

function pairKey(row: { eventId: number; bookmakerId: number }): string {
  return `${row.eventId}:${row.bookmakerId}`;
}

function snapshotKey(row: { eventId: number; bookmakerId: number; capturedAt: Date }): string {
  return `${row.eventId}:${row.bookmakerId}:${new Date(row.capturedAt).getTime()}`;
}

/**
 * Prices travel as one JSON array, split by `json_array_elements` and
 * matched to the other columns by position: a `json[]` parameter is an
 * array literal with every quote escaped, slower to send and parse.
 */
function jsonArray(documents: readonly string[]): string {
  return `[${documents.join(',')}]`;
}

/** Prices and lines as the store keeps them: prices to 3 decimals, lines to 2. */
export function asStored(snapshot: SnapshotInput): SnapshotInput {
  return {
    ...snapshot,
    markets: snapshot.markets.map((market) => ({
      ...market,
      line: market.line === null ? null : toScale(market.line, 2),
      outcomes: market.outcomes.map((outcome) => ({ ...outcome, price: toScale(outcome.price, 3) })),
    })),
  };
}

/**
 * `value` rounded to `digits` decimals as PostgreSQL's numeric rounds (half
 * away from zero) on the decimal digits written, not on the binary double:
 * 2.0005 becomes 2.001, where `Math.round(2.0005 * 1000)` gives 2.000.
 */
export function toScale(value: number, digits: number): number {
  // Already at scale (as the feeds' prices mostly are): the nearest double to its own rounding.
  const unit = 10 ** digits;
  if (Math.round(value * unit) / unit === value) return value;
  const [mantissa, exponent = '0'] = String(Math.abs(value)).split('e');
  const scaled = Math.round(Number(`${mantissa}e${Number(exponent) + digits}`));
  return Math.sign(value) * Number(`${scaled}e-${digits}`);
}
