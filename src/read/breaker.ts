import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  noJitterGenerator,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { GraphQLError } from 'graphql';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  failures?: number;
  /** How long it stays open before the first trial call, in milliseconds (default 1 s). */
  firstProbeMs?: number;
  /** The longest it stays open between trial calls, in milliseconds (default 30 s): each failed trial doubles the wait up to this. */
  openMs?: number;
  /** Which errors count as the backend failing (default: all). Others pass through and leave the breaker as it was. */
  isFailure?: (error: unknown) => boolean;
  log?: (message: string) => void;
  /** Told of every change of state (for the breaker-state metric). */
  onStateChange?: (state: BreakerState) => void;
}

/**
 * A circuit breaker around one backend (the database, a feed), on
 * cockatiel: after `failures` consecutive failures it stops calling, lets
 * one trial through after `firstProbeMs`, and after each failed trial
 * waits twice as long, up to `openMs` (1, 2, 4, 8, 16, 30, 30... s by
 * default); a success closes it. So a short outage is noticed over within
 * about a second, and a long one is not probed more than every `openMs`.
 * While open, calls fail at once with an `UPSTREAM_UNAVAILABLE` error
 * instead of waiting on a backend that is down.
 */
export class Breaker {
  readonly #policy: CircuitBreakerPolicy;

  constructor(
    readonly name: string,
    { failures = 5, firstProbeMs = 1_000, openMs = 30_000, isFailure, log = console.log, onStateChange }: BreakerOptions = {},
  ) {
    const initialDelay = Math.min(firstProbeMs, openMs);
    this.#policy = circuitBreaker(isFailure ? handleWhen(isFailure) : handleAll, {
      halfOpenAfter: new ExponentialBackoff({ initialDelay, maxDelay: openMs, generator: noJitterGenerator }),
      breaker: new ConsecutiveBreaker(failures),
    });
    this.#policy.onBreak(() =>
      log(`breaker ${name}: open after ${failures} consecutive failures; calls fail fast, trial calls after ${initialDelay} ms doubling up to ${openMs} ms`),
    );
    this.#policy.onHalfOpen(() => log(`breaker ${name}: half-open, trying one call`));
    this.#policy.onReset(() => log(`breaker ${name}: closed, ${name} is back`));
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
      if (error instanceof BrokenCircuitError) throw upstreamUnavailable(this.name);
      throw error;
    }
  }
}

export function upstreamUnavailable(name: string): GraphQLError {
  return new GraphQLError(`The ${name} is unavailable; try again shortly`, { extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
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
