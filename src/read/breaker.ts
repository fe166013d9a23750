import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from '../ops/log.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  failures?: number;
  /** How long it stays open before letting one trial call through, in milliseconds (default 30 s). */
  openMs?: number;
  logger: Logger;
  /** Told of every change of state (for the breaker-state metric). */
  onStateChange?: (state: BreakerState) => void;
}

/**
 * A circuit breaker around one backend (the database, a feed), on
 * cockatiel: after `failures` consecutive failures it stops calling for
 * `openMs`, then lets one trial through; a success closes it. While open,
 * calls fail at once with an `UnavailableError` instead of
 * waiting on a backend that is down.
 */
export class Breaker {
  readonly #policy: CircuitBreakerPolicy;

  constructor(
    readonly name: string,
    { failures = 5, openMs = 30_000, logger, onStateChange }: BreakerOptions,
  ) {
    this.#policy = circuitBreaker(handleAll, { halfOpenAfter: openMs, breaker: new ConsecutiveBreaker(failures) });
    this.#policy.onBreak(() => logger.warn({ breaker: name, failures, openMs }, 'breaker open: calls fail fast'));
    this.#policy.onHalfOpen(() => logger.info({ breaker: name }, 'breaker half-open: trying one call'));
    this.#policy.onReset(() => logger.info({ breaker: name }, 'breaker closed: the backend is back'));
    if (onStateChange) this.#policy.onStateChange(() => onStateChange(this.state));
  }

  get state(): BreakerState {
    const state = this.#policy.state;
    if (state === CircuitState.Closed) return 'closed';
    return state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  async execute<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(work);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new UnavailableError(this.name);
      throw error;
    }
  }
}

/** A call refused because the breaker is open; the API answers it as `UPSTREAM_UNAVAILABLE`. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(readonly backend: string) {
    super(`The ${backend} is unavailable; try again shortly`);
  }
}

/** `target` with every method call going through `breaker` (for a reader whose every method is one backend call). */
export function guarded<T extends object>(target: T, breaker: Breaker): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => breaker.execute(() => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args));
    },
  });
}
