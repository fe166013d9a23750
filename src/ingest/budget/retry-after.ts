import { ExponentialBackoff, type IBackoff } from 'cockatiel';

export interface RetryAfterOptions {
  /** Names the service in the log line. */
  feed: string;
  logger?: { warn(details: object, message: string): void } | undefined;
  /** Counts each 429 (the metric). */
  onRateLimited?: (() => void) | undefined;
}

/**
 * What a 429 asks of us: no request until `Retry-After` has passed (seconds
 * or an HTTP date), or, without the header, an exponential backoff with
 * jitter (cockatiel's), growing with each 429 in a row. A 429 is the
 * service pacing us, not failing: callers do not count it as a breaker
 * failure. One 429 after a success starts a storm, logged once; the storm
 * ends at the next answer that is not a 429.
 */
export class RetryAfter {
  readonly #backoff = new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 5 * 60_000 });
  readonly #options: RetryAfterOptions;
  #next: IBackoff<unknown> | undefined;
  #until = -Infinity;
  /** 429s in the current storm (0: none). */
  storm = 0;
  /** 429s since start. */
  total = 0;

  constructor(options: RetryAfterOptions) {
    this.#options = options;
  }

  /** True while a 429 asked us to wait. */
  waiting(now: number): boolean {
    return now < this.#until;
  }

  /** Ms until requests may resume (0 when not waiting). */
  waitLeftMs(now: number): number {
    return Math.max(0, this.#until - now);
  }

  /** A 429 arrived: counts it, logs the first of a storm, and returns how long we now wait, in ms. */
  tooManyRequests(now: number, retryAfter: string | null): number {
    this.storm++;
    this.total++;
    this.#options.onRateLimited?.();
    const asked = parseRetryAfter(retryAfter, now);
    this.#next = (this.#next ?? this.#backoff).next(undefined);
    const waitMs = asked ?? this.#next.duration;
    this.#until = now + waitMs;
    if (this.storm === 1) {
      this.#options.logger?.warn(
        { feed: this.#options.feed, waitSeconds: waitMs / 1000, retryAfter },
        `${this.#options.feed} asks us to slow down (429): no request for ${waitMs / 1000} s; not counted as a feed failure`,
      );
    }
    return waitMs;
  }

  /** Any answer but a 429: the storm is over and the backoff starts afresh. */
  answered(): void {
    this.storm = 0;
    this.#next = undefined;
  }
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
