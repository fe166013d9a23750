import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventStateInput, SnapshotInput } from '../domain/odds.js';
import { writeFeedCommit, type FeedCommit, type Transaction } from './feed-commit.js';

export interface StoreResult {
  /** Snapshots written; one already stored (same event, bookmaker, capturedAt) is not counted. */
  stored: number;
  /** Snapshots skipped because they were already stored. */
  duplicates: number;
  /** (event, bookmaker) pairs whose latest snapshot moved forward, with the new snapshot. */
  latestChanged: LatestChange[];
  /** Events whose status, score or clock moved forward. */
  eventsChanged: number[];
  /** The change log's position of this commit, when it came with a `FeedCommit` and stored snapshots. */
  position: bigint | null;
}

export interface LatestChange {
  eventId: number;
  bookmakerId: number;
  snapshotId: number;
}

/**
 * Writes a batch of snapshots and event states in one transaction: the
 * snapshots, their markets and outcomes, the latest-snapshot pointer per
 * (event, bookmaker), and each event's status, score and clock. Idempotent by the unique (event, bookmaker, capturedAt) key: a
 * snapshot delivered twice is stored once. Either the whole batch lands or
 * none of it does. With a `FeedCommit`, the feed's cursor, its dead letters
 * and a change-log row are part of that same transaction.
 *
 * Each table gets one `INSERT ... SELECT FROM unnest(arrays)`: four
 * statements whatever the batch size, and an order of magnitude faster than
 * `createMany`'s row-per-parameter-group statements for tens of thousands of
 * outcomes.
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
      const { snapshotIds, ...stored } = await writeSnapshots(tx, snapshots);
      const position = commit ? await writeFeedCommit(tx, commit, snapshotIds) : null;
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

/** The snapshots, their markets and outcomes, and the latest pointers they move; with the ids of the snapshots inserted. */
async function writeSnapshots(
  tx: Transaction,
  snapshots: readonly SnapshotInput[],
): Promise<Pick<StoreResult, 'stored' | 'duplicates' | 'latestChanged'> & { snapshotIds: number[] }> {
  if (snapshots.length === 0) return { stored: 0, duplicates: 0, latestChanged: [], snapshotIds: [] };
  const inserted = await insertSnapshots(tx, snapshots);
  if (inserted.length === 0) return { stored: 0, duplicates: snapshots.length, latestChanged: [], snapshotIds: [] };
  await insertMarketsAndOutcomes(tx, snapshots, inserted);
  const latestChanged = await moveLatestForward(tx, inserted);
  return { stored: inserted.length, duplicates: snapshots.length - inserted.length, latestChanged, snapshotIds: inserted.map((row) => row.id) };
}

/** The snapshots not stored yet; ON CONFLICT DO NOTHING RETURNING yields only the rows this call inserted. */
function insertSnapshots(tx: Transaction, snapshots: readonly SnapshotInput[]): Promise<InsertedSnapshot[]> {
  return tx.$queryRawUnsafe<InsertedSnapshot[]>(
    `INSERT INTO odds_snapshot (event_id, bookmaker_id, captured_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[])
     ON CONFLICT (event_id, bookmaker_id, captured_at) DO NOTHING
     RETURNING id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt"`,
    snapshots.map((s) => s.eventId),
    snapshots.map((s) => s.bookmakerId),
    snapshots.map((s) => s.capturedAt.toISOString()),
  );
}

/** The markets and outcomes of the snapshots this call inserted. */
async function insertMarketsAndOutcomes(tx: Transaction, snapshots: readonly SnapshotInput[], inserted: InsertedSnapshot[]): Promise<void> {
  const snapshotIdByKey = new Map(inserted.map((row) => [snapshotKey(row), row.id]));
  const newMarkets = snapshots.flatMap((snapshot) => {
    const snapshotId = snapshotIdByKey.get(snapshotKey(snapshot));
    return snapshotId === undefined ? [] : snapshot.markets.map((market) => ({ snapshotId, market }));
  });
  const marketRows = await tx.$queryRawUnsafe<Array<{ id: number; snapshotId: number; key: string; line: unknown }>>(
    `INSERT INTO market (snapshot_id, key, name, line, status)
     SELECT snapshot_id, key, name, line, status::"MarketStatus"
     FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::text[]) AS m(snapshot_id, key, name, line, status)
     RETURNING id, snapshot_id AS "snapshotId", key, line`,
    newMarkets.map((m) => m.snapshotId),
    newMarkets.map((m) => m.market.key),
    newMarkets.map((m) => m.market.name),
    newMarkets.map((m) => m.market.line),
    newMarkets.map((m) => m.market.status ?? 'OPEN'),
  );
  // Match by identity rather than trusting RETURNING's row order, which
  // PostgreSQL does not promise.
  const marketIdByKey = new Map(marketRows.map((row) => [marketKey(row.snapshotId, row.key, row.line), row.id]));
  const outcomes = newMarkets.flatMap(({ snapshotId, market }) => {
    const marketId = marketIdByKey.get(marketKey(snapshotId, market.key, market.line))!;
    return market.outcomes.map((outcome) => ({ marketId, outcome }));
  });
  await tx.$executeRawUnsafe(
    `INSERT INTO outcome (market_id, key, name, price, result)
     SELECT market_id, key, name, price, result::"OutcomeResult"
     FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::text[]) AS o(market_id, key, name, price, result)`,
    outcomes.map((o) => o.marketId),
    outcomes.map((o) => o.outcome.key),
    outcomes.map((o) => o.outcome.name),
    outcomes.map((o) => o.outcome.price),
    outcomes.map((o) => o.outcome.result ?? null),
  );
}

/**
 * Points each (event, bookmaker) at its newest inserted snapshot, only
 * forward: a late, older snapshot joins history without becoming the latest.
 * Returns the pairs whose pointer moved.
 */
function moveLatestForward(tx: Transaction, inserted: InsertedSnapshot[]): Promise<LatestChange[]> {
  const newestPerPair = new Map<string, InsertedSnapshot>();
  for (const row of inserted) {
    const pair = `${row.eventId}:${row.bookmakerId}`;
    const current = newestPerPair.get(pair);
    if (!current || current.capturedAt < row.capturedAt) newestPerPair.set(pair, row);
  }
  const candidates = [...newestPerPair.values()];
  return tx.$queryRawUnsafe<LatestChange[]>(
    `INSERT INTO latest_odds (event_id, bookmaker_id, snapshot_id, captured_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[])
     ON CONFLICT (event_id, bookmaker_id) DO UPDATE
       SET snapshot_id = EXCLUDED.snapshot_id, captured_at = EXCLUDED.captured_at
       WHERE latest_odds.captured_at < EXCLUDED.captured_at
     RETURNING event_id AS "eventId", bookmaker_id AS "bookmakerId", snapshot_id AS "snapshotId"`,
    candidates.map((row) => row.eventId),
    candidates.map((row) => row.bookmakerId),
    candidates.map((row) => row.id),
    candidates.map((row) => new Date(row.capturedAt).toISOString()),
  );
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

interface InsertedSnapshot {
  id: number;
  eventId: number;
  bookmakerId: number;
  capturedAt: Date;
}

function snapshotKey(row: { eventId: number; bookmakerId: number; capturedAt: Date }): string {
  return `${row.eventId}:${row.bookmakerId}:${new Date(row.capturedAt).getTime()}`;
}

function marketKey(snapshotId: number, key: string, line: unknown): string {
  // numeric comes back as a string or Decimal; compare as numbers.
  return `${snapshotId}:${key}:${line === null ? '' : Number(String(line))}`;
}
