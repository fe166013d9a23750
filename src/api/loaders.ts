import DataLoader from 'dataloader';
import { cacheKey, type CacheKey, type CacheKind } from '../domain/cache-keys.js';
import type { Id, ReadThrough } from '../read/read-through.js';
import type { SharedReads } from '../read/shared-reads.js';
import type {
  BookmakerRecord,
  CompetitionRecord,
  EventOddsRecord,
  EventRecord,
  SportRecord,
} from '../domain/records.js';
import { NotFoundError } from './errors.js';
import type { MaybePromise } from './maybe-promise.js';
import { ReadJournal } from './read-journal.js';

/**
 * Per-request loaders over the shared cache. Never share one between
 * requests: its memo would serve one request's batch to another.
 */
export interface Loaders {
  sport: RequestLoader<number, SportRecord>;
  competition: RequestLoader<number, CompetitionRecord>;
  bookmaker: RequestLoader<number, BookmakerRecord>;
  event: RequestLoader<number, EventRecord>;
  /** Every id resolves: an event without odds has an empty record. */
  eventOdds: RequestLoader<number, EventOddsRecord>;
  sports(): MaybePromise<readonly SportRecord[]>;
  competitions(): MaybePromise<readonly CompetitionRecord[]>;
  bookmakers(): MaybePromise<readonly BookmakerRecord[]>;
  /** Every value these loaders answer at once, while spliced execution records a part. */
  journal: ReadJournal;
}

export interface LoaderOptions {
  /**
   * False for subscriptions: their context lives as long as the subscription, and a memo would serve the
   * first odds it saw forever. Each read still goes through the shared cache, which the odds bus keeps current.
   */
  memoize?: boolean;
  /** Collects the cache keys read (the response cache's tags). */
  track?: Set<CacheKey> | undefined;
  journal?: ReadJournal | undefined;
}

export function createLoaders(reads: SharedReads, { memoize, track }: Omit<LoaderOptions, 'journal'> = {}): Loaders {
  const journal = new ReadJournal();
  const options = { memoize, track, journal };
  const lists = new RequestLoader<string, readonly object[]>(reads.lists, 'List', options);
  return {
    sport: new RequestLoader(reads.sport, 'Sport', options),
    competition: new RequestLoader(reads.competition, 'Competition', options),
    bookmaker: new RequestLoader(reads.bookmaker, 'Bookmaker', options),
    event: new RequestLoader(reads.event, 'Event', options),
    eventOdds: new RequestLoader(reads.eventOdds, 'EventOdds', options),
    sports: () => lists.get('sports') as MaybePromise<readonly SportRecord[]>,
    competitions: () => lists.get('competitions') as MaybePromise<readonly CompetitionRecord[]>,
    bookmakers: () => lists.get('bookmakers') as MaybePromise<readonly BookmakerRecord[]>,
    journal,
  };
}

/**
 * One kind's loader for one request. `get` answers without a promise when the request has read the key
 * already or the shared cache holds it (fresh, or stale and refreshing, as a batch would serve it): most
 * reads of a board page, whose promises were a quarter of its CPU in garbage collection. Anything else goes
 * through DataLoader: one batch per tick, only the cache's misses to the database, and in key order, a
 * missing key an Error in its own slot (DataLoader pairs results with keys by position).
 *
 * One answer per key per request: once a key is read, from the cache at once or by a batch, every later
 * read of it in the request gets that answer, so a write landing mid-request never shows in half an answer.
 */
export class RequestLoader<K extends Id, V extends object> {
  readonly #reads: ReadThrough<V>;
  readonly #kind: CacheKind;
  readonly #track: Set<CacheKey> | undefined;
  readonly #journal: ReadJournal | undefined;
  /** Values read at once or by a settled batch; undefined without a memo. */
  readonly #values: Map<K, V> | undefined;
  /** Keys handed to a batch: DataLoader's memo answers them from then on. */
  readonly #batched: Set<K> | undefined;
  readonly #batches: DataLoader<K, V>;

  constructor(reads: ReadThrough<V>, kind: CacheKind, { memoize = true, track, journal }: LoaderOptions = {}) {
    this.#reads = reads;
    this.#kind = kind;
    this.#track = track;
    this.#journal = journal;
    journal?.add(kind, this);
    if (memoize) {
      this.#values = new Map();
      this.#batched = new Set();
    }
    this.#batches = new DataLoader<K, V>(
      async (ids) => {
        if (track) for (const id of ids) track.add(cacheKey(kind, id));
        return (await reads.loadMany(ids)).map((value, i) => {
          if (value === undefined) return new NotFoundError(kind, ids[i]!);
          this.#values?.set(ids[i]!, value);
          return value;
        });
      },
      { cache: memoize },
    );
  }

  /** The value at once when this request or the shared cache has it; its load otherwise. */
  get(id: K): MaybePromise<V> {
    return this.peek(id) ?? this.load(id);
  }

  /** The value when this request or the shared cache has it (a miss is left to `load`, which counts it). */
  peek(id: K): V | undefined {
    const value = this.#answerNow(id);
    if (value !== undefined) this.#journal?.read(this.#kind, id, value);
    return value;
  }

  #answerNow(id: K): V | undefined {
    const values = this.#values;
    if (values) {
      const value = values.get(id);
      if (value !== undefined || this.#batched!.has(id)) return value;
    }
    const value = this.#reads.cached(id);
    if (value !== undefined) {
      this.#track?.add(cacheKey(this.#kind, id));
      values?.set(id, value);
    }
    return value;
  }

  /** The value, through a batch unless this request has read it already; rejects with NotFoundError when there is none. */
  load(id: K): Promise<V> {
    const value = this.#values?.get(id);
    if (value !== undefined) this.#batches.prime(id, value);
    else this.#batched?.add(id);
    return this.#batches.load(id);
  }

  /** Stores a value read otherwise (a page of events from the database), unless the request has read the key already. */
  prime(id: K, value: V): void {
    if (this.#values?.has(id) || this.#batched?.has(id)) return;
    this.#values?.set(id, value);
    this.#batches.prime(id, value);
  }
}
