import type { EventRecord, SnapshotRecord } from './records.js';

/**
 * The ordered log of committed changes (DESIGN.md, "Time"): each committed
 * ingest batch that moved latest odds or an event's state gets a position,
 * and positions grow in commit order. Gateways follow the log to keep their
 * caches current and fill gaps from it; subscribers resume from a place in it.
 */

/** A place in the log: after item `index` of position `position`; `index` undefined = after the whole position. */
export interface LogPlace {
  readonly position: bigint;
  readonly index?: number | undefined;
}

/** One (event, bookmaker) whose latest odds a commit moved, as the log stores it. */
export interface LoggedOddsChange {
  readonly eventId: number;
  readonly bookmakerId: number;
  /** The snapshot that became latest. */
  readonly snapshotId: number;
  /** Its capture time, ISO (for finding it among history's day partitions). */
  readonly capturedAt: string;
  /** Keys of the markets it moved (src/domain/market-changes.ts). */
  readonly changedMarkets: readonly string[];
}

/** One moved (event, bookmaker) with its new snapshot, ready for cache and subscribers. */
export interface OddsLogItem {
  /** Its place among its position's logged changes (a subscriber's cursor names it). */
  readonly index: number;
  readonly eventId: number;
  readonly bookmakerId: number;
  /** The new latest snapshot, with the (event, bookmaker)'s id as current odds carry it. */
  readonly snapshot: SnapshotRecord;
  readonly changedMarkets: readonly string[];
}

/** One position of the log. */
export interface LogEntry {
  /** The position, as a decimal string (JSON has no bigint). */
  readonly position: string;
  /** The (event, bookmaker)s it moved, in the order they were logged. */
  readonly odds: readonly OddsLogItem[];
  /** Events whose status, score or clock it moved. */
  readonly eventsChanged: readonly number[];
}

/** A run of consecutive log entries, with the current records of every event they touch. */
export interface LogBatch {
  readonly entries: readonly LogEntry[];
  readonly events: readonly EventRecord[];
}

/** True when `place` is at or after item `index` of `position` (what a subscriber resumed from has already seen). */
export function seenBy(place: LogPlace, position: bigint, index: number): boolean {
  if (position !== place.position) return position < place.position;
  return place.index === undefined || index <= place.index;
}

/**
 * Whether the log still holds every position after `position`, its oldest
 * being `oldest` (null: the log is empty): pruning took none of them.
 */
export function holdsEverythingAfter(position: bigint, oldest: bigint | null): boolean {
  return oldest === null || oldest <= position + 1n;
}
