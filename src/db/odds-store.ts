import type { PrismaClient } from '../generated/prisma/client.js';
import type { SnapshotInput } from '../domain/odds.js';

export interface StoreResult {
  /** Snapshots written; one already stored (same event, bookmaker, capturedAt) is not counted. */
  stored: number;
  /** Snapshots skipped because they were already stored. */
  duplicates: number;
  /** (event, bookmaker) pairs whose latest snapshot moved forward, with the new snapshot. */
  latestChanged: LatestChange[];
  /** The change log's position of this commit, when it came with a `FeedCommit` and stored snapshots. */
  position: bigint | null;
}

/**
 * What a feed's batch moves besides its snapshots, in the same transaction:
 * the feed's cursor (so a restarted worker resumes exactly after what was
 * committed) and a change-log row whose position orders this commit among all.
 */
export interface FeedCommit {
  /** The feed's name in `feed_cursor`. */
  feed: string;
  /** Where the feed stands after this batch (null: the feed has no cursor yet). */
  cursor: string | null;
  /** Records of this batch the database refused, set aside in `quarantined_record`. */
  quarantine?: readonly DeadLetter[];
}

export interface DeadLetter {
  /** `event|bookmaker|capturedAt`, as the feed named them. */
  recordKey: string;
  reason: string;
  /** The record as the feed sent it. */
  raw: unknown;
}

export interface LatestChange {
  eventId: number;
  bookmakerId: number;
  snapshotId: number;
}

/**
 * Writes a batch of snapshots in one transaction: the snapshots, their
 * markets and outcomes, and the latest-snapshot pointer per (event,
 * bookmaker). Idempotent by the unique (event, bookmaker, capturedAt) key: a
 * snapshot delivered twice is stored once. Either the whole batch lands or
 * none of it does. With a `FeedCommit`, the feed's cursor and a change-log
 * row are part of that same transaction.
 *
 * Each table gets one `INSERT ... SELECT FROM unnest(arrays)`: four
 * statements whatever the batch size, and an order of magnitude faster than
 * `createMany`'s row-per-parameter-group statements for tens of thousands of
 * outcomes.
 */
export async function storeSnapshots(
  prisma: PrismaClient,
  snapshots: readonly SnapshotInput[],
  commit?: FeedCommit,
): Promise<StoreResult> {
  if (snapshots.length === 0 && !commit) return { stored: 0, duplicates: 0, latestChanged: [], position: null };
  return prisma.$transaction(
    async (tx) => {
      const { snapshotIds, ...stored } = await insertSnapshots(tx, snapshots);
      if (!commit) return { ...stored, position: null };
      await tx.feedCursor.upsert({
        where: { feed: commit.feed },
        create: { feed: commit.feed, cursor: commit.cursor },
        update: { cursor: commit.cursor, updatedAt: new Date() },
      });
      if (commit.quarantine?.length) {
        await tx.quarantinedRecord.createMany({
          data: commit.quarantine.map((letter) => ({ feed: commit.feed, recordKey: letter.recordKey, reason: letter.reason, raw: jsonbSafe(letter.raw) as object })),
        });
      }
      if (stored.stored === 0) return { ...stored, position: null };
      const { position } = await tx.changeLog.create({
        data: { feed: commit.feed, snapshotIds },
        select: { position: true },
      });
      return { ...stored, position };
    },
    // A seed batch of tens of thousands of rows can outlast Prisma's 5 s default.
    { timeout: 60_000 },
  );
}

/**
 * Writes the snapshots as `storeSnapshots` would, then rolls back: throws
 * what the database would throw for them, changes nothing. For finding
 * which records of a failed batch the database refuses.
 */
export async function trySnapshots(prisma: PrismaClient, snapshots: readonly SnapshotInput[]): Promise<void> {
  const rollback = new Error('trial: roll back');
  try {
    await prisma.$transaction(
      async (tx) => {
        await insertSnapshots(tx, snapshots);
        throw rollback;
      },
      { timeout: 60_000 },
    );
  } catch (error) {
    if (error !== rollback) throw error;
  }
}

/** The feed's committed cursor: undefined when it never committed one. */
export async function readFeedCursor(prisma: PrismaClient, feed: string): Promise<string | null | undefined> {
  const row = await prisma.feedCursor.findUnique({ where: { feed }, select: { cursor: true } });
  return row === null ? undefined : row.cursor;
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

async function insertSnapshots(
  tx: Transaction,
  snapshots: readonly SnapshotInput[],
): Promise<Omit<StoreResult, 'position'> & { snapshotIds: number[] }> {
  if (snapshots.length === 0) return { stored: 0, duplicates: 0, latestChanged: [], snapshotIds: [] };
  // ON CONFLICT DO NOTHING RETURNING yields only the rows this call inserted.
  const inserted = await tx.$queryRawUnsafe<InsertedSnapshot[]>(
    `INSERT INTO odds_snapshot (event_id, bookmaker_id, captured_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[])
     ON CONFLICT (event_id, bookmaker_id, captured_at) DO NOTHING
     RETURNING id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt"`,
    snapshots.map((s) => s.eventId),
    snapshots.map((s) => s.bookmakerId),
    snapshots.map((s) => s.capturedAt.toISOString()),
  );
  if (inserted.length === 0) return { stored: 0, duplicates: snapshots.length, latestChanged: [], snapshotIds: [] };
  await insertMarkets(tx, snapshots, inserted);
  return {
    stored: inserted.length,
    duplicates: snapshots.length - inserted.length,
    latestChanged: await moveLatest(tx, inserted),
    snapshotIds: inserted.map((row) => row.id),
  };
}

/** The markets and outcomes of the snapshots this call inserted. */
async function insertMarkets(tx: Transaction, snapshots: readonly SnapshotInput[], inserted: InsertedSnapshot[]): Promise<void> {
  const snapshotIdByKey = new Map(inserted.map((row) => [snapshotKey(row), row.id]));
  const newMarkets = snapshots.flatMap((snapshot) => {
    const snapshotId = snapshotIdByKey.get(snapshotKey(snapshot));
    return snapshotId === undefined ? [] : snapshot.markets.map((market) => ({ snapshotId, market }));
  });
  const marketRows = await tx.$queryRawUnsafe<Array<{ id: number; snapshotId: number; key: string; line: unknown }>>(
    `INSERT INTO market (snapshot_id, key, name, line)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[])
     RETURNING id, snapshot_id AS "snapshotId", key, line`,
    newMarkets.map((m) => m.snapshotId),
    newMarkets.map((m) => m.market.key),
    newMarkets.map((m) => m.market.name),
    newMarkets.map((m) => m.market.line),
  );
  // Match by identity rather than trusting RETURNING's row order, which
  // PostgreSQL does not promise.
  const marketIdByKey = new Map(marketRows.map((row) => [marketKey(row.snapshotId, row.key, row.line), row.id]));
  const outcomes = newMarkets.flatMap(({ snapshotId, market }) => {
    const marketId = marketIdByKey.get(marketKey(snapshotId, market.key, market.line))!;
    return market.outcomes.map((outcome) => ({ marketId, outcome }));
  });
  await tx.$executeRawUnsafe(
    `INSERT INTO outcome (market_id, key, name, price)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[])`,
    outcomes.map((o) => o.marketId),
    outcomes.map((o) => o.outcome.key),
    outcomes.map((o) => o.outcome.name),
    outcomes.map((o) => o.outcome.price),
  );
}

/**
 * Points each (event, bookmaker)'s latest odds at its newest inserted
 * snapshot, only forward: a late, older snapshot joins history without
 * becoming the latest.
 */
async function moveLatest(tx: Transaction, inserted: InsertedSnapshot[]): Promise<LatestChange[]> {
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

/** `value` as jsonb can hold it: jsonb refuses NUL in strings, so each becomes U+FFFD (the rest is kept as sent). */
function jsonbSafe(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(jsonbSafe);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [jsonbSafe(k) as string, jsonbSafe(v)]));
  return value ?? null;
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
