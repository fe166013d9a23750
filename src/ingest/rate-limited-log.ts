export interface RateLimitedLogOptions {
  /** Where lines go. */
  log: (message: string) => void;
  /** Lines written per interval, at most (default 20). */
  maxLines?: number;
  /** The interval, in milliseconds (default 10 s). */
  intervalMs?: number;
  now?: () => number;
}

/**
 * A log that writes at most `maxLines` lines per interval and then one
 * summary, "suppressed M lines in the last 10 s", so a feed that sends a
 * flood of bad records cannot fill the disk, and an operator still learns
 * how big the flood was. The summary is written when the interval is over
 * and the next line comes, or at the next `flush` (the worker's every cycle).
 */
export class RateLimitedLog {
  readonly #log: (message: string) => void;
  readonly #maxLines: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #lines = 0;
  #suppressed = 0;

  constructor({ log, maxLines = 20, intervalMs = 10_000, now = Date.now }: RateLimitedLogOptions) {
    this.#log = log;
    this.#maxLines = maxLines;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  write(message: string): void {
    this.flush();
    if (this.#lines < this.#maxLines) {
      this.#lines++;
      this.#log(message);
    } else {
      this.#suppressed++;
    }
  }

  /** Ends an interval that is over, with its summary if lines were suppressed. */
  flush(): void {
    const now = this.#now();
    if (now - this.#windowStart < this.#intervalMs) return;
    if (this.#suppressed > 0) this.#log(`suppressed ${this.#suppressed} lines in the last ${this.#intervalMs / 1000} s`);
    this.#windowStart = now;
    this.#lines = 0;
    this.#suppressed = 0;
  }
}
