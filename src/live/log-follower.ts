import { holdsEverythingAfter, splitBatch, type LogBatch, type LogBatchPiece } from '../domain/change-log.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { Logger } from '../ops/log.js';
import type { ChangeLogStats } from '../ops/metrics.js';
import type { OddsChange } from './odds-bus.js';

export interface LogFollowerOptions {
  reader: Pick<OddsReader, 'changesAfter' | 'logBounds'>;
  /** The position the gateway's cache reflects at start (read before its warm-up). */
  startAfter: bigint;
  /** Applies entries to the cache, board and subscribers; called in position order, each item once (a long position's items over several calls). */
  apply: (piece: LogBatchPiece, publishedAt: number) => void;
  /** The log no longer holds positions this gateway missed: what it cached may be stale. */
  onLost: (missedAfter: bigint, oldest: bigint) => void;
  logger: Logger;
  now?: () => number;
  /** Wait before reading the log again after a failed read, in milliseconds (default 1,000). */
  retryMs?: number;
  /**
   * Moved odds applied at a time (default 100), and how long pieces may follow one another before the
   * event loop gets a turn (default 10 ms). A catch-up reads up to a thousand positions at once; applied
   * in one turn they stalled the gateway for over a second.
   */
  oddsPerPiece?: number;
  turnBudgetMs?: number;
  /** The clock for `turnBudgetMs`, in milliseconds (default `performance.now`). */
  clock?: () => number;
}

/**
 * Keeps a gateway on the change log in position order, whatever the bus
 * does: a message whose first position is beyond the next one expected
 * waits while the positions between are read from the database's log (a
 * message lost by Redis pub/sub, a worker that died between commit and
 * publish, a gap the bus reported), and positions already applied are
 * skipped. So subscribers and the cache see every committed change, once,
 * in commit order. A position can also be missing because its transaction
 * rolled back after taking it: the read finds nothing and the message goes on.
 * A long run of changes is applied in pieces, the event loop getting a turn
 * whenever they have taken 10 ms; the position advances only past positions
 * applied whole, and nothing else is applied in between (one drain at a time).
 */
export class LogFollower {
  #applied: bigint;
  readonly #waiting: OddsChange[] = [];
  #fillRequested = false;
  #draining = false;
  readonly #options: LogFollowerOptions;
  readonly #now: () => number;
  #closed = false;
  #filled = 0;
  #lost = 0;

  constructor(options: LogFollowerOptions) {
    this.#options = options;
    this.#applied = options.startAfter;
    this.#now = options.now ?? Date.now;
  }

  /** The last position applied: what the gateway's cache and subscribers reflect. */
  get position(): bigint {
    return this.#applied;
  }

  /** For metrics and health: the position, positions read to fill gaps, and times missed positions were gone. */
  stats(): ChangeLogStats {
    return { position: this.#applied, filled: this.#filled, lost: this.#lost };
  }

  /** A message from the bus. */
  receive(change: OddsChange): void {
    this.#waiting.push(change);
    void this.#drain();
  }

  /** Reads the log from the last applied position to its end (after a reconnect, or when a poll finds it behind). */
  catchUp(): void {
    this.#fillRequested = true;
    void this.#drain();
  }

  /** Whether the log holds positions beyond the applied one (for a periodic check). */
  async behind(): Promise<bigint | null> {
    const { newest } = await this.#options.reader.logBounds();
    return newest !== null && newest > this.#applied ? newest : null;
  }

  close(): void {
    this.#closed = true;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#closed && (this.#fillRequested || this.#waiting.length > 0)) {
        const next = this.#waiting[0];
        const first = next?.entries[0] ? BigInt(next.entries[0].position) : undefined;
        if (this.#fillRequested || (first !== undefined && first > this.#applied + 1n)) {
          if (!(await this.#fill())) continue;
        }
        if (!next) continue;
        this.#waiting.shift();
        await this.#applyNew(next, next.publishedAt);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Applies the log after the applied position, to its end; false (after a pause) when the read failed. */
  async #fill(): Promise<boolean> {
    const { reader, logger, onLost } = this.#options;
    try {
      const { oldest } = await reader.logBounds();
      if (oldest !== null && !holdsEverythingAfter(this.#applied, oldest)) {
        this.#lost++;
        onLost(this.#applied, oldest);
        this.#applied = oldest - 1n;
      }
      for (let more = true; more && !this.#closed; ) {
        const batch = await reader.changesAfter({ position: this.#applied });
        this.#filled += await this.#applyNew(batch, this.#now());
        more = batch.more;
      }
      this.#fillRequested = false;
      return true;
    } catch (error) {
      logger.warn({ after: String(this.#applied), err: error }, 'change log: reading missed changes failed, trying again');
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryMs ?? 1_000).unref());
      return false;
    }
  }

  /**
   * Applies the entries beyond the applied position a piece at a time, giving the event loop a turn
   * whenever pieces have taken the turn's budget; returns how many positions it applied whole.
   */
  async #applyNew(batch: LogBatch, publishedAt: number): Promise<number> {
    const entries = batch.entries.filter((entry) => BigInt(entry.position) > this.#applied);
    if (entries.length === 0) return 0;
    const { oddsPerPiece = 100, turnBudgetMs = 10, clock = () => performance.now() } = this.#options;
    let turnStarted = clock();
    for (const piece of splitBatch({ entries, events: batch.events }, oddsPerPiece)) {
      if (clock() - turnStarted >= turnBudgetMs) {
        await new Promise((resolve) => setImmediate(resolve));
        turnStarted = clock();
      }
      if (this.#closed) break;
      this.#options.apply(piece, publishedAt);
      if (piece.completes !== null) this.#applied = BigInt(piece.completes);
    }
    return entries.filter((entry) => BigInt(entry.position) <= this.#applied).length;
  }
}
