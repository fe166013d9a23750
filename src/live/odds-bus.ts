import type { LogBatch } from '../domain/change-log.js';

/**
 * What committed ingest batches changed, as one message: their change-log
 * entries, in position order, with the new snapshots and the touched events'
 * records. Every gateway that hears it refreshes its own cache and board and
 * then pushes one update per changed (event, bookmaker) to its own
 * subscribers, so no gateway needs a database query to follow the odds; a
 * gateway that sees a position skipped fills it from the log (src/live/log-follower.ts).
 */
export interface OddsChange extends LogBatch {
  /** When the worker published, epoch milliseconds: update latency is measured from here. */
  readonly publishedAt: number;
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
