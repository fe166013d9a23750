import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { historyStartMs } from '../domain/retention.js';
import { pruneChangeLog } from './feed-commit.js';

/**
 * History (`odds_snapshot`) is range-partitioned by UTC day of `captured_at`:
 * one partition per day, `odds_snapshot_dYYYYMMDD`, and a default partition
 * for rows no day covers. Days are created ahead of the data, and a day
 * wholly older than the retention is dropped whole: no row-by-row delete, no
 * vacuum debt, and reads never touch expired rows.
 */
const dayMs = 86_400_000;
const parent = 'odds_snapshot';
const defaultPartition = 'odds_snapshot_default';
const dayName = /^odds_snapshot_d(\d{4})(\d{2})(\d{2})$/;
// Serialises upkeep between processes (a gateway's worker and `npm run ingest`).
const upkeepLockId = 72_707_370;

export interface HistoryUpkeepResult {
  /** Change-log positions dropped because they are older than the replay window. */
  prunedLogPositions: number;
  /** Day partitions created. */
  created: string[];
  /** Day partitions dropped because the whole day is older than the retention. */
  dropped: string[];
  /** Expired rows deleted from the default partition. */
  expiredDefaultRows: number;
  /** Market shapes deleted because no snapshot kept, and no latest odds, names them. */
  deletedShapes: number;
}

export interface HistoryUpkeepOptions {
  /** `HISTORY_RETENTION_DAYS`: history older than this many days is dropped. */
  retentionDays: number;
  /** `REPLAY_WINDOW_MINUTES`: change-log positions older than this are dropped (default 60). */
  replayWindowMinutes?: number;
  /** Days after today to create ahead (default 2), so a new day never starts without its partition. */
  daysAhead?: number;
  now?: Date;
}

/** Creates today's and the next days' partitions, and drops the days the retention has passed. */
export async function maintainHistory(prisma: PrismaClient, options: HistoryUpkeepOptions): Promise<HistoryUpkeepResult> {
  if (!(Number.isInteger(options.retentionDays) && options.retentionDays >= 1)) {
    throw new RangeError(`retentionDays must be a whole number of days, at least 1; got ${options.retentionDays}`);
  }
  const now = options.now ?? new Date();
  const created = await ensureHistoryDays(prisma, now, new Date(now.getTime() + (options.daysAhead ?? 2) * dayMs));
  const cutoffMs = now.getTime() - options.retentionDays * dayMs;
  const prunedLogPositions = await pruneChangeLog(prisma, new Date(now.getTime() - (options.replayWindowMinutes ?? 60) * 60_000));
  const expired = await dropHistoryBefore(prisma, cutoffMs);
  return { created, prunedLogPositions, ...expired, deletedShapes: await deleteUnnamedShapes(prisma, historyStartMs(now.getTime(), options.retentionDays)) };
}

/**
 * Creates the day partitions from `from`'s UTC day to `to`'s, both included,
 * that do not exist yet. Rows of such a day already in the default partition
 * move into it.
 */
export async function ensureHistoryDays(prisma: PrismaClient, from: Date, to: Date): Promise<string[]> {
  return prisma.$transaction(
    async (tx) => {
      await lockUpkeep(tx);
      const existing = new Set((await dayPartitions(tx)).map((p) => p.name));
      const created: string[] = [];
      for (let start = startOfDay(from.getTime()); start <= to.getTime(); start += dayMs) {
        const name = partitionName(start);
        if (existing.has(name)) continue;
        await createDay(tx, name, start);
        created.push(name);
      }
      return created;
    },
    { timeout: 60_000 },
  );
}

/** Drops the day partitions that end at or before `cutoffMs`, and deletes older rows from the default partition. */
async function dropHistoryBefore(prisma: PrismaClient, cutoffMs: number): Promise<Pick<HistoryUpkeepResult, 'dropped' | 'expiredDefaultRows'>> {
  return prisma.$transaction(
    async (tx) => {
      await lockUpkeep(tx);
      const dropped = (await dayPartitions(tx)).filter((p) => p.startMs + dayMs <= cutoffMs).map((p) => p.name);
      for (const name of dropped) await tx.$executeRawUnsafe(`DROP TABLE "${name}"`);
      const expiredDefaultRows = await tx.$executeRawUnsafe(
        `DELETE FROM "${defaultPartition}" WHERE captured_at < $1::timestamptz`,
        new Date(cutoffMs).toISOString(),
      );
      return { dropped, expiredDefaultRows };
    },
    { timeout: 60_000 },
  );
}

/**
 * Deletes the market shapes whose newest naming snapshot was captured before
 * the first day history keeps (every snapshot naming them is gone with its
 * day), unless latest odds still name them (a pair that has not moved since).
 * src/db/market-shapes.ts moves a shape's day forward before a snapshot names
 * it, so a shape being named again while this runs is kept or stored again;
 * ingest refuses records captured before that first day (src/ingest/feed-record.ts),
 * whose rows would outlive their shape until the next upkeep.
 */
async function deleteUnnamedShapes(prisma: PrismaClient, firstDayKeptMs: number): Promise<number> {
  const firstDayKept = new Date(firstDayKeptMs).toISOString().slice(0, 10);
  return prisma.$transaction(async (tx) => {
    await lockUpkeep(tx);
    return tx.$executeRawUnsafe(
      `DELETE FROM market_shape s WHERE s.last_captured_on < $1::date
       AND NOT EXISTS (SELECT 1 FROM latest_odds l WHERE l.shape = s.digest)`,
      firstDayKept,
    );
  });
}

type Transaction = Prisma.TransactionClient;

async function lockUpkeep(tx: Transaction): Promise<void> {
  await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', upkeepLockId);
  // Partition DDL locks the whole table: give up (until the next upkeep) rather than queue reads behind it.
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '5s'`);
}

async function dayPartitions(tx: Transaction): Promise<Array<{ name: string; startMs: number }>> {
  const rows = await tx.$queryRawUnsafe<Array<{ name: string }>>(
    `SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '${parent}'::regclass`,
  );
  return rows.flatMap(({ name }) => {
    const match = dayName.exec(name);
    return match ? [{ name, startMs: Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) }] : [];
  });
}

async function createDay(tx: Transaction, name: string, startMs: number): Promise<void> {
  const bounds = `FROM ('${new Date(startMs).toISOString()}') TO ('${new Date(startMs + dayMs).toISOString()}')`;
  const [{ stray }] = await tx.$queryRawUnsafe<[{ stray: boolean }]>(
    `SELECT EXISTS (SELECT 1 FROM "${defaultPartition}" WHERE captured_at >= $1::timestamptz AND captured_at < $2::timestamptz) AS stray`,
    new Date(startMs).toISOString(),
    new Date(startMs + dayMs).toISOString(),
  );
  if (!stray) {
    await tx.$executeRawUnsafe(`CREATE TABLE "${name}" PARTITION OF "${parent}" FOR VALUES ${bounds}`);
    return;
  }
  // PostgreSQL refuses a new partition while the default partition holds rows
  // of its range: build the day beside the table, move them, then attach it.
  await tx.$executeRawUnsafe(`CREATE TABLE "${name}" (LIKE "${parent}" INCLUDING DEFAULTS INCLUDING STORAGE)`);
  await tx.$executeRawUnsafe(
    `WITH moved AS (
       DELETE FROM "${defaultPartition}" WHERE captured_at >= $1::timestamptz AND captured_at < $2::timestamptz RETURNING *
     )
     INSERT INTO "${name}" SELECT * FROM moved`,
    new Date(startMs).toISOString(),
    new Date(startMs + dayMs).toISOString(),
  );
  await tx.$executeRawUnsafe(`ALTER TABLE "${parent}" ATTACH PARTITION "${name}" FOR VALUES ${bounds}`);
}

function startOfDay(ms: number): number {
  return Math.floor(ms / dayMs) * dayMs;
}

function partitionName(startMs: number): string {
  return `odds_snapshot_d${new Date(startMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/**
 * Runs `maintainHistory` now and then every `intervalMs` (default one hour)
 * until stopped; a failed run is logged and tried again at the next tick.
 */
export function startHistoryUpkeep(
  prisma: PrismaClient,
  options: { retentionDays: number; replayWindowMinutes?: number; intervalMs?: number; log: (message: string) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = maintainHistory(prisma, options).then(
      (result) => {
        if (result.created.length + result.dropped.length + result.expiredDefaultRows + result.deletedShapes > 0) {
          options.log(
            `history: created ${result.created.length} day partitions, dropped ${result.dropped.length} past the ` +
              `${options.retentionDays}-day retention, deleted ${result.expiredDefaultRows} expired rows and ` +
              `${result.deletedShapes} market shapes nothing kept names`,
          );
        }
        if (result.prunedLogPositions > 0) options.log(`change log: pruned ${result.prunedLogPositions} positions older than the replay window`);
      },
      (error: unknown) => options.log(`history upkeep failed, trying again at the next run: ${(error as Error).message}`),
    );
  };
  run();
  // Often enough that the change log holds little more than its window.
  const timer = setInterval(run, options.intervalMs ?? 600_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
