import type { LoggedOddsChange } from '../domain/change-log.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type Transaction = Prisma.TransactionClient;

/**
 * What a feed's batch moves besides its snapshots, in the same transaction:
 * the feed's cursor (so a restarted worker resumes exactly after what was
 * committed), the records the database refused, and a change-log row whose
 * position orders this commit among all.
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

/**
 * Writes the cursor, the dead letters and (when latest odds or an event's
 * state moved) a change-log row; returns its position.
 */
export async function writeFeedCommit(
  tx: Transaction,
  commit: FeedCommit,
  changes: readonly LoggedOddsChange[],
  eventIds: readonly number[],
): Promise<bigint | null> {
  await tx.feedCursor.upsert({
    where: { feed: commit.feed },
    create: { feed: commit.feed, cursor: commit.cursor },
    update: { cursor: commit.cursor, updatedAt: new Date() },
  });
  if (commit.quarantine?.length) {
    await tx.quarantinedRecord.createMany({
      data: commit.quarantine.map((letter) => ({
        feed: commit.feed,
        recordKey: letter.recordKey,
        reason: letter.reason,
        raw: jsonbSafe(letter.raw) as object,
      })),
    });
  }
  if (changes.length === 0 && eventIds.length === 0) return null;
  // A sequence hands out positions in the order transactions ask, not the order they commit: held until
  // this transaction ends, the lock makes the next writer take its position after this one committed.
  await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', changeLogLock);
  const { position } = await tx.changeLog.create({
    data: { feed: commit.feed, changes: changes as unknown as Prisma.InputJsonValue, eventIds: [...eventIds] },
    select: { position: true },
  });
  return position;
}

// The advisory lock key that orders change-log positions (beside the migrator's 72_707_369 and history upkeep's 72_707_370).
const changeLogLock = 72_707_371;

/** The feed's committed cursor: undefined when it never committed one. */
export async function readFeedCursor(prisma: PrismaClient, feed: string): Promise<string | null | undefined> {
  const row = await prisma.feedCursor.findUnique({ where: { feed }, select: { cursor: true } });
  return row === null ? undefined : row.cursor;
}

/** `value` as jsonb can hold it: jsonb refuses NUL in strings, so each becomes U+FFFD (the rest is kept as sent). */
function jsonbSafe(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(jsonbSafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [jsonbSafe(k) as string, jsonbSafe(v)]));
  }
  return value ?? null;
}

/**
 * Drops change-log positions committed before `before`, keeping the newest
 * row whatever its age (it tells a subscriber's cursor from a reset log's).
 * Returns how many were dropped.
 */
export async function pruneChangeLog(prisma: PrismaClient, before: Date): Promise<number> {
  return prisma.$executeRawUnsafe(
    `DELETE FROM change_log WHERE position < COALESCE(
       (SELECT min(position) FROM change_log WHERE committed_at >= $1::timestamptz),
       (SELECT max(position) FROM change_log))`,
    before.toISOString(),
  );
}
