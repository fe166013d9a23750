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

/** A piece of a batch (splitBatch): `completes` is the last position it finishes, null when it only carries part of one. */
export interface LogBatchPiece extends LogBatch {
  readonly completes: string | null;
}

/**
 * The batch cut into pieces of at most `maxOdds` moved odds each, in order, so a long catch-up can be
 * applied over several turns of the event loop. A position moving more is cut between its items (each
 * keeps its `index`, so subscribers' cursors stay exact); its events' changes go with its last piece, as
 * they follow its odds in one piece. Each piece carries the records of the events it touches.
 */
export function splitBatch(batch: LogBatch, maxOdds: number): LogBatchPiece[] {
  const total = batch.entries.reduce((n, entry) => n + entry.odds.length, 0);
  if (total <= maxOdds) return [{ ...batch, completes: batch.entries.at(-1)?.position ?? null }];
  const events = new Map(batch.events.map((event) => [event.id, event]));
  const pieces: LogBatchPiece[] = [];
  let entries: LogEntry[] = [];
  let size = 0;
  let completes: string | null = null;
  const cut = () => {
    const touched = new Set(entries.flatMap((entry) => [...entry.odds.map((item) => item.eventId), ...entry.eventsChanged]));
    pieces.push({ entries, events: [...touched].flatMap((id) => events.get(id) ?? []), completes });
    entries = [];
    size = 0;
    completes = null;
  };
  for (const entry of batch.entries) {
    let from = 0;
    do {
      if (size >= maxOdds) cut();
      const to = Math.min(entry.odds.length, from + maxOdds - size);
      const last = to === entry.odds.length;
      entries.push(from === 0 && last ? entry : { position: entry.position, odds: entry.odds.slice(from, to), eventsChanged: last ? entry.eventsChanged : [] });
      size += to - from;
      from = to;
      if (last) completes = entry.position;
    } while (from < entry.odds.length);
  }
  if (entries.length > 0) cut();
  return pieces;
}
