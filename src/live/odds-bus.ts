import type { EventOddsRecord, EventRecord } from '../domain/records.js';

/**
 * What one committed ingest batch changed, as one message: every gateway
 * that hears it refreshes its own cache and board from it and then pushes
 * one update per changed (event, bookmaker) to its own subscribers, so no
 * gateway needs a database query to follow the odds.
 */
export interface OddsChange {
  /** When the worker published, epoch milliseconds: update latency is measured from here. */
  readonly publishedAt: number;
  /** The changed events, so a gateway can put an event it has not seen on its board. */
  readonly events: readonly EventRecord[];
  /** The changed events' whole current odds, as gateways cache them. */
  readonly odds: readonly EventOddsRecord[];
  /** The (event, bookmaker) pairs whose latest snapshot moved. */
  readonly changed: ReadonlyArray<{ readonly eventId: number; readonly bookmakerId: number }>;
  /** Events whose status, score or clock moved (their new records are in `events`). */
  readonly eventsChanged?: readonly number[];
}

export interface OddsBus {
  /** Resolves once the message is handed over (to Redis, or to this process's listeners). */
  publish(change: OddsChange): Promise<void>;
  /** Every change published by any worker on this bus, in the order they were published. */
  onChange(listener: (change: OddsChange) => void): void;
  /** Called when messages may have been missed (the connection to Redis was lost and came back). */
  onGap(listener: () => void): void;
  close(): Promise<void>;
}

/** The embedded default: worker and gateway in one process, messages handed over synchronously. */
export class InProcessOddsBus implements OddsBus {
  readonly #listeners: Array<(change: OddsChange) => void> = [];

  publish(change: OddsChange): Promise<void> {
    for (const listener of this.#listeners) listener(change);
    return Promise.resolve();
  }

  onChange(listener: (change: OddsChange) => void): void {
    this.#listeners.push(listener);
  }

  onGap(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
