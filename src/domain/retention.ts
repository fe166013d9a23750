const dayMs = 86_400_000;

/**
 * The start of the first UTC day that history keeps (in part) at `nowMs`
 * with `retentionDays` of retention: upkeep drops the days before it
 * (src/db/history-partitions.ts), and ingest refuses records captured
 * before it, which upkeep would delete at its next run.
 */
export function historyStartMs(nowMs: number, retentionDays: number): number {
  return Math.floor((nowMs - retentionDays * dayMs) / dayMs) * dayMs;
}
