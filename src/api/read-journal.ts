import type { CacheKind } from '../domain/cache-keys.js';

/** A request's loader as its journal knows it: what it answers for a key now, without a promise. */
export interface KeyedReader {
  peek(id: number | string): object | undefined;
}

/**
 * What a part of an answer read besides its source, as (kind, key, value) triples, flat: spliced execution
 * (src/api/spliced-execution.ts) reuses the part's JSON while every one of those reads, made again by the
 * request at hand, answers the same value. Values are held weakly: a part kept for an event must not keep the
 * event's replaced odds alive.
 */
export type Reads = readonly unknown[];

/**
 * The values a request's loaders answer at once, in order, while spliced execution records one part. One per
 * request (its loaders share it); parts are recorded one at a time, never nested, and reads that wait on a
 * batch are not recorded: a part that waits is not memoised.
 */
export class ReadJournal {
  /** This request's loader of each kind. */
  readonly #readers = new Map<CacheKind, KeyedReader>();
  // Flat (kind, key, value, ...): one array for the request, not an object per read.
  readonly #entries: unknown[] = [];
  #recording = false;

  /** A loader of this request, answering for its kind. */
  add(kind: CacheKind, reader: KeyedReader): void {
    this.#readers.set(kind, reader);
  }

  /** Called by loaders for every value they answer at once. */
  read(kind: CacheKind, id: number | string, value: object): void {
    if (this.#recording) this.#entries.push(kind, id, value);
  }

  /** True while every read of `reads` answers, in this request, the value it answered when the part was made. */
  unchanged(reads: Reads): boolean {
    for (let i = 0; i < reads.length; i += 3) {
      const now = this.#readers.get(reads[i] as CacheKind)?.peek(reads[i + 1] as number | string);
      if (now === undefined || now !== (reads[i + 2] as WeakRef<object>).deref()) return false;
    }
    return true;
  }

  begin(): void {
    this.#recording = true;
  }

  /** Stops recording; what was read since `begin`, each key once. */
  end(): Reads {
    this.#recording = false;
    const entries = this.#entries;
    const seen = new Map<unknown, Set<unknown>>();
    const reads: unknown[] = [];
    for (let i = 0; i < entries.length; i += 3) {
      const kind = entries[i];
      const id = entries[i + 1];
      let ids = seen.get(kind);
      if (!ids) seen.set(kind, (ids = new Set()));
      // One answer per key per request (src/api/loaders.ts): a key read again read the same value.
      if (ids.has(id)) continue;
      ids.add(id);
      reads.push(kind, id, new WeakRef(entries[i + 2] as object));
    }
    entries.length = 0;
    return reads;
  }

  /** Stops recording and forgets what was read (the part waited, or failed). */
  discard(): void {
    this.#recording = false;
    this.#entries.length = 0;
  }
}
