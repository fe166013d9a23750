import { isTaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';

/**
 * `/health`: one report per named part (database, Redis, cache, ingest...)
 * and readiness as their conjunction: the gateway is ready unless it is
 * draining or some part says it cannot serve (`ready: false`). A part is a
 * function, so another (a breaker) is one `addPart` away.
 */
export interface PartReport {
  /** What an operator reads first: `up`, `down`, `not configured`, ... */
  status: string;
  /** False when this part keeps the gateway from serving; absent means it does not decide readiness. */
  ready?: boolean;
  [detail: string]: unknown;
}

export type HealthPart = () => PartReport | Promise<PartReport>;

export interface HealthReport {
  /** 200 when ready, 503 otherwise (load balancers take the instance out). */
  httpStatus: 200 | 503;
  body: {
    status: 'ready' | 'draining' | 'unavailable';
    /** Parts that said they cannot serve. */
    notReady: string[];
    parts: Record<string, PartReport>;
  };
}

export class Health {
  readonly #parts = new Map<string, HealthPart>();
  #draining = false;

  addPart(name: string, part: HealthPart): void {
    if (this.#parts.has(name)) throw new Error(`Health: a part named ${JSON.stringify(name)} is already registered`);
    this.#parts.set(name, part);
  }

  /** For graceful shutdown: from now on `/health` answers 503, so balancers stop sending traffic while requests in flight finish. */
  setDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async report(): Promise<HealthReport> {
    const names = [...this.#parts.keys()];
    const reports = await Promise.all(
      [...this.#parts.values()].map(async (part): Promise<PartReport> => {
        try {
          return await part();
        } catch (error) {
          return { status: 'down', ready: false, error: (error as Error).message };
        }
      }),
    );
    const parts = Object.fromEntries(names.map((name, i) => [name, reports[i]!]));
    const notReady = names.filter((name) => parts[name]!.ready === false);
    const status = this.#draining ? 'draining' : notReady.length > 0 ? 'unavailable' : 'ready';
    return { httpStatus: status === 'ready' ? 200 : 503, body: { status, notReady, parts } };
  }
}

/** `work`, or an error after `ms` milliseconds, so a hung dependency makes `/health` say "down" instead of hanging it. */
export async function withTimeout<T>(work: () => Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await timeout(ms, TimeoutStrategy.Aggressive).execute(work);
  } catch (error) {
    throw isTaskCancelledError(error) ? new Error(`${what} did not answer within ${ms} ms`) : error;
  }
}

/** The `redis` part: up when every Redis connection the process has is; `not configured` without any. */
export function addRedisPart(health: Health, connections: () => ReadonlyArray<boolean | undefined>): void {
  health.addPart('redis', () => {
    const present = connections().filter((connected) => connected !== undefined);
    if (present.length === 0) return { status: 'not configured' };
    return { status: present.every(Boolean) ? 'up' : 'down' };
  });
}
