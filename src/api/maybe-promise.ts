/** A value now, or later: what a read answers when memory may or may not hold it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `next(value)`: at once when `value` is there, after it settles when it is a promise. Resolvers chain reads
 * with it instead of `await`, so a read the cache answers costs no promise (a board page makes thousands).
 */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
