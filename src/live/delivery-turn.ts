/**
 * How many queued updates subscribers may take in one turn of the event
 * loop. Taking one resolves a promise, and the socket write that follows
 * runs in the same turn; a burst of hundreds of changes to hundreds of
 * subscribers would otherwise be written out in one turn of seconds, with
 * no I/O, no timers and no other request served meanwhile.
 */
export class DeliveryTurn {
  #taken = 0;
  #next: Promise<void> | undefined;

  constructor(private readonly perTurn: number) {}

  /** True while this turn has room for one more delivery (and counts it). */
  take(): boolean {
    if (this.#taken >= this.perTurn) return false;
    if (this.#taken++ === 0) void this.next();
    return true;
  }

  /** Counts deliveries beyond the one `take` counted (the weight of a batch). */
  spend(deliveries: number): void {
    this.#taken += deliveries;
  }

  /** Resolves at the next turn, when the count starts again. */
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
