interface Slot<T> {
  key: string;
  value: T;
  /** False once a newer value of its key took a later slot (or it was dropped). */
  live: boolean;
}

/**
 * A FIFO that holds one value per key, the newest, at the place it last
 * arrived (a newer value moves its key to the back). Shifting from the front
 * is O(1) amortized: replaced values stay as dead slots that the head passes
 * once, and the array is compacted when the dead front outweighs the rest.
 * (A `Map` used as a queue is not: V8 keeps deleted entries as holes that
 * every new iteration from the front walks again, until the table is rebuilt.)
 */
export class ConflatingQueue<T> {
  #slots: Array<Slot<T>> = [];
  #head = 0;
  readonly #byKey = new Map<string, Slot<T>>();

  get size(): number {
    return this.#byKey.size;
  }

  /** Adds `value` at the back; returns whether it replaced a value of the same key. */
  push(key: string, value: T): boolean {
    const previous = this.#byKey.get(key);
    if (previous) previous.live = false;
    const slot = { key, value, live: true };
    this.#slots.push(slot);
    this.#byKey.set(key, slot);
    return previous !== undefined;
  }

  /** The front value, removed; undefined when empty. */
  shift(): T | undefined {
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head++]!;
      if (!slot.live) continue;
      this.#byKey.delete(slot.key);
      this.#compact();
      return slot.value;
    }
    return undefined;
  }

  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#byKey.clear();
  }

  #compact(): void {
    if (this.#head >= 1024 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }
}
