import type { Subscription } from './subscription.js';

/** Updates in one batch at most (default of `inBatches`): about 200 KB of the README's trader selection. */
export const maxBatchSize = 500;

/**
 * A subscription read as batches: each batch is every update waiting (at
 * most `max`), in the order they would have come one by one, or when none
 * waits, the next burst of them. A subscriber that keeps up gets each burst
 * of changes (everything one log batch published, synchronously) as one batch;
 * one that fell behind gets everything it missed, conflated to the newest
 * update per (event, bookmaker), in one batch instead of one message per
 * pair, so a client that cannot take a message per change still ends up
 * with the current price of everything it follows. graphql-ws asks for the
 * next batch only once the previous one is written to its socket, so what
 * arrives meanwhile waits (and conflates) in the subscriber's queue.
 */
export function inBatches<T>(subscription: Subscription<T>, max = maxBatchSize): AsyncIterableIterator<T[]> & { return(): Promise<IteratorResult<T[]>> } {
  return {
    next: () => subscription.nextBatch(max),
    async return() {
      await subscription.return();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
