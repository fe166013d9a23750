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
import type { Logger } from '../ops/log.js';

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
  /**
   * A cheap check of the backend (`SELECT 1`). While the breaker is open, a
   * call runs it in the background at most every `firstProbeMs`; when it
   * answers, the breaker closes at once instead of waiting out a backoff
   * that may have grown to `openMs`. Without it, only trial calls close it.
   */
  probe?: () => Promise<unknown>;
  logger: Logger;
  /** Told of every change of state (for the breaker-state metric). */
  onStateChange?: (state: BreakerState) => void;
}

/**
 * A circuit breaker around one backend (the database, a feed), on
 * cockatiel: after `failures` consecutive failures it stops calling, lets
 * one trial through after `firstProbeMs`, and after each failed trial
 * waits twice as long, up to `openMs` (1, 2, 4, 8, 16, 30, 30... s by
 * default); a success closes it. So real work is not retried more than
 * every `openMs` during a long outage. With a `probe`, a cheap check every
 * `firstProbeMs` closes it as soon as the backend answers again, however
 * long the outage was. While open, calls fail at once with an
 * `UnavailableError` instead of waiting on a backend that is down.
 */
export class Breaker {
  readonly #policy: CircuitBreakerPolicy;
  readonly #probe: (() => Promise<unknown>) | undefined;
  readonly #probeEveryMs: number;
  readonly #logger: Logger;
  #probing = false;
  #lastProbeAt = -Infinity;

  constructor(
    readonly name: string,
    { failures = 5, firstProbeMs = 1_000, openMs = 30_000, isFailure, probe, logger, onStateChange }: BreakerOptions,
  ) {
    const initialDelay = Math.min(firstProbeMs, openMs);
    this.#probe = probe;
    this.#probeEveryMs = initialDelay;
    this.#logger = logger;
    this.#policy = circuitBreaker(isFailure ? handleWhen(isFailure) : handleAll, {
      halfOpenAfter: new ExponentialBackoff({ initialDelay, maxDelay: openMs, generator: noJitterGenerator }),
      breaker: new ConsecutiveBreaker(failures),
    });
    this.#policy.onBreak((reason) => {
      // A probe that answered closes the breaker through cockatiel's isolate/dispose, which reports a break first.
      if ('isolated' in reason) return;
      logger.warn({ breaker: name, failures, firstProbeMs: initialDelay, openMs }, 'breaker open: calls fail fast, trial calls back off');
    });
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
    if (this.#policy.state === CircuitState.Open) this.#maybeProbe();
    try {
      return await this.#policy.execute(work);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new UnavailableError(this.name);
      throw error;
    }
  }

  /** Runs the probe unless one is running or ran less than `firstProbeMs` ago; closes the breaker when it answers. */
  #maybeProbe(): void {
    const now = Date.now();
    if (!this.#probe || this.#probing || now - this.#lastProbeAt < this.#probeEveryMs) return;
    this.#probing = true;
    this.#lastProbeAt = now;
    this.#probe()
      .then(
        () => {
          if (this.#policy.state !== CircuitState.Open) return;
          this.#logger.info({ breaker: this.name }, 'breaker probe answered');
          this.#policy.isolate().dispose();
        },
        () => {},
      )
      .finally(() => (this.#probing = false));
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
