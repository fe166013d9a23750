export interface DeliveryTurnOptions {
  /** How long one turn may hand out deliveries, in milliseconds (default 10). */
  budgetMs?: number;
  /** The fewest deliveries a turn allows however slow they were seen to be (default 20), so every turn makes headway. */
  minPerTurn?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/**
 * How many queued updates subscribers may take in one turn of the event
 * loop, and for how long. Taking one resolves a promise, and the socket write
 * that follows runs in the same turn; a burst of hundreds of changes to
 * hundreds of subscribers would otherwise be written out in one turn of
 * seconds, with no I/O, no timers and no other request served meanwhile.
 *
 * The clock alone does not bound a turn: a burst's takes mostly come before
 * its writes (each take resolves a promise, and its write runs a few
 * microtasks later), so the clock has barely moved when the last is taken.
 * The turn therefore also learns what a delivery costs, from how long its
 * turns lasted (from the first take to the next turn) for the deliveries they
 * handed out, and allows as many as fit in the budget: with 20,000
 * subscribers a change's deliveries took 0.1 ms each, and the count of 500
 * let one turn hold the loop for 50 ms.
 */
export class DeliveryTurn {
  #taken = 0;
  #startedAt = 0;
  #next: Promise<void> | undefined;
  /** Milliseconds a delivery took lately (a moving average; 0 until a turn was seen). */
  #msPerDelivery = 0;
  #allowed: number;
  readonly #budgetMs: number;
  readonly #minPerTurn: number;
  readonly #now: () => number;

  constructor(
    private readonly perTurn: number,
    { budgetMs = 10, minPerTurn = 20, now = () => performance.now() }: DeliveryTurnOptions = {},
  ) {
    this.#budgetMs = budgetMs;
    this.#minPerTurn = Math.min(minPerTurn, perTurn);
    this.#allowed = perTurn;
    this.#now = now;
  }

  /** Deliveries a turn allows now: `perTurn` at most, fewer once deliveries were seen to be slow. */
  get allowed(): number {
    return this.#allowed;
  }

  /** True while this turn has room for one more delivery (and counts it). */
  take(): boolean {
    if (this.#taken === 0) {
      this.#startedAt = this.#now();
      void this.next();
    } else if (this.#taken >= this.#allowed || this.#now() - this.#startedAt >= this.#budgetMs) return false;
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
        if (this.#taken > 0) this.#learn((this.#now() - this.#startedAt) / this.#taken);
        this.#taken = 0;
        this.#next = undefined;
        resolve();
      }),
    );
    return this.#next;
  }

  #learn(msPerDelivery: number): void {
    this.#msPerDelivery = this.#msPerDelivery === 0 ? msPerDelivery : 0.8 * this.#msPerDelivery + 0.2 * msPerDelivery;
    const fit = this.#msPerDelivery > 0 ? Math.floor(this.#budgetMs / this.#msPerDelivery) : this.perTurn;
    this.#allowed = Math.max(this.#minPerTurn, Math.min(this.perTurn, fit));
  }
}
