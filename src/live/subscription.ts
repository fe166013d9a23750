/** What a subscriber reads its updates from: the pubsub's queues and the shared tape alike. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** Ends the subscription (what a client's `complete` or a closed socket does). */
  return(): Promise<IteratorResult<T>>;
  /**
   * The next updates, several at once (src/live/batches.ts): everything waiting, at most `max`, in
   * the order `next` would give them; when nothing waits, what the next burst of offers brings.
   */
  nextBatch(max: number): Promise<IteratorResult<T[]>>;
  /** Updates dropped because this subscriber had more than its queue's length of (event, bookmaker)s waiting. */
  readonly dropped: number;
  /** Updates replaced in the queue by a newer one of the same (event, bookmaker) before the subscriber read them. */
  readonly conflated: number;
}
