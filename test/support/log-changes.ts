import type { LogEntry } from '../../src/domain/change-log.js';
import type { EventRecord, SnapshotRecord } from '../../src/domain/records.js';
import type { OddsChange } from '../../src/live/odds-bus.js';

/** One change-log entry moving these snapshots (every market counted as moved). */
export function logEntry(position: bigint | number, snapshots: readonly SnapshotRecord[], eventsChanged: readonly number[] = []): LogEntry {
  return {
    position: String(position),
    odds: snapshots.map((snapshot, index) => ({
      index,
      eventId: snapshot.eventId,
      bookmakerId: snapshot.bookmakerId,
      snapshot,
      changedMarkets: [...new Set(snapshot.markets.map((m) => m.key))],
    })),
    eventsChanged,
  };
}

/** A bus message of one entry, for tests that drive a live side without a worker. */
export function logChange(
  position: bigint | number,
  snapshots: readonly SnapshotRecord[],
  { events = [], eventsChanged = [], publishedAt = Date.now() }: { events?: readonly EventRecord[]; eventsChanged?: readonly number[]; publishedAt?: number } = {},
): OddsChange {
  return { publishedAt, events, entries: [logEntry(position, snapshots, eventsChanged)] };
}
