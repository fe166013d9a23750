export interface DeliveryTurnOptions {
  /** How long one turn may hand out deliveries, in milliseconds (default 10). */
  budgetMs?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/**
 * How many queued updates subscribers may take in one turn of the event
 * loop, and for how long. Taking one resolves a promise, and the socket write
 * that follows runs in the same turn; a burst of hundreds of changes to
 * hundreds of subscribers would otherwise be written out in one turn of
 * seconds, with no I/O, no timers and no other request served meanwhile. The
 * count alone does not bound the turn: a delivery's cost varies with its
 * batch, its selection and the sockets sharing it, so past the time budget the
 * rest waits for the next turn too.
 */
export class DeliveryTurn {
  #taken = 0;
  #startedAt = 0;
  #next: Promise<void> | undefined;
  readonly #budgetMs: number;
  readonly #now: () => number;

  constructor(
    private readonly perTurn: number,
    { budgetMs = 10, now = () => performance.now() }: DeliveryTurnOptions = {},
  ) {
    this.#budgetMs = budgetMs;
    this.#now = now;
  }

  /** True while this turn has room for one more delivery (and counts it). */
  take(): boolean {
    if (this.#taken === 0) {
      this.#startedAt = this.#now();
      void this.next();
    } else if (this.#taken >= this.perTurn || this.#now() - this.#startedAt >= this.#budgetMs) return false;
    this.#taken++;
    return true;
  }

  /** Counts deliveries beyond the one `take` counted (the weight of a batch). */
  spend(deliveries: number): void {
    this.#taken += deliveries;
  }

  /** Resolves at the next turn, when the count and the clock start again. */
  next(): Promise<void> {
    this.#next ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#taken = 0;
        this.#next = undefined;
        resolve();
      }),
    );
    return this.#next;
  }
}
