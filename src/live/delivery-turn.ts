export interface DeliveryTurnOptions {
  /** How long one turn may hand out deliveries, in milliseconds (default 10). */
  budgetMs?: number;
  /** Updates handed straight to readers that were waiting for one, per turn, at most (default 100). */
  handOversPerTurn?: number;
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
 *
 * An update offered to a reader that waits for one (`takeHandOver`) is
 * counted against a smaller share, and not timed: its take comes before the
 * write it causes, so the clock has seen none of the burst's writes yet, only
 * whatever else ran in this turn (a PGlite transaction of a worker in the same
 * process, which would defer updates to idle readers). With 20,000 filtered
 * subscribers a change's hand-overs cost about 0.1 ms each, and the count of
 * 500 let one turn hold the loop for 40-50 ms.
 */
export class DeliveryTurn {
  #taken = 0;
  #startedAt = 0;
  #next: Promise<void> | undefined;
  readonly #budgetMs: number;
  readonly #handOversPerTurn: number;
  readonly #now: () => number;

  constructor(
    private readonly perTurn: number,
    { budgetMs = 10, handOversPerTurn = 100, now = () => performance.now() }: DeliveryTurnOptions = {},
  ) {
    this.#budgetMs = budgetMs;
    this.#handOversPerTurn = Math.min(handOversPerTurn, perTurn);
    this.#now = now;
  }

  /** True while this turn has room for one more delivery (and counts it). */
  take(): boolean {
    if (this.#taken > 0 && (this.#taken >= this.perTurn || this.#now() - this.#startedAt >= this.#budgetMs)) return false;
    this.#count();
    return true;
  }

  /** The same for an update handed straight to a waiting reader: by the smaller count alone. */
  takeHandOver(): boolean {
    if (this.#taken >= this.#handOversPerTurn) return false;
    this.#count();
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

  #count(): void {
    if (this.#taken === 0) {
      this.#startedAt = this.#now();
      void this.next();
    }
    this.#taken++;
  }
}
