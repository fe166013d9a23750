import { isDataError } from '../db/sql-errors.js';

export interface Refused<T> {
  item: T;
  /** What the database said about it alone. */
  error: unknown;
}

/**
 * The items of a batch that failed with a data error (`error`) that the
 * database refuses on their own: the batch is halved, each half tried
 * (`trial` rejects with the database's error and changes nothing), and a
 * failing half halved again, so one bad record among n costs about
 * 2 log2(n) trials. Throws the first failure that is not a data error (the
 * database went away mid-search): the caller keeps the whole batch.
 */
export async function findRefused<T>(
  failed: readonly T[],
  error: unknown,
  trial: (items: readonly T[]) => Promise<void>,
): Promise<Array<Refused<T>>> {
  if (failed.length === 1) return [{ item: failed[0]!, error }];
  const middle = Math.ceil(failed.length / 2);
  const refused: Array<Refused<T>> = [];
  for (const half of [failed.slice(0, middle), failed.slice(middle)]) {
    const halfError = await trial(half).then(
      () => undefined,
      (e: unknown) => e ?? new Error('trial failed'),
    );
    if (halfError === undefined) continue;
    if (!isDataError(halfError)) throw halfError;
    refused.push(...(await findRefused(half, halfError, trial)));
  }
  return refused;
}
