/**
 * A request rate limit: `perSecond` requests a second on average, up to
 * `burst` at once after a quiet spell. Refilled from the injected clock at
 * each `take`, so it needs no timer and a test needs no sleep.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor({ perSecond, burst, now }: { perSecond: number; burst: number; now: number }) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error(`a rate limit needs requests per second > 0 and a burst >= 1, got ${perSecond}/s and ${burst}`);
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one request's token if there is one; false means wait (the caller tries again at its next poll). */
  take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = Math.max(this.#at, now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
