/**
 * Whether a subscription is over, and the error its reader gets (once, at
 * its next read) when it failed while no read was waiting.
 */
export class SubscriptionEnd {
  #over = false;
  #failure: Error | undefined;

  get over(): boolean {
    return this.#over;
  }

  /** Marks it over; false when it already was. */
  close(): boolean {
    if (this.#over) return false;
    this.#over = true;
    return true;
  }

  /** The next read throws `error`, once. */
  failNextRead(error: Error): void {
    this.#failure = error;
  }

  /** What a read gets once it is over (its error, once); undefined while it goes on. */
  read(): Promise<IteratorResult<never>> | undefined {
    if (this.#failure) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#over) return Promise.resolve({ value: undefined, done: true });
    return undefined;
  }
}
