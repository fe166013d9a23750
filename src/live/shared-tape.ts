import type { DeliveryTurn } from './delivery-turn.js';
import { SubscriptionEnd } from './subscription-end.js';
import type { Subscription } from './subscription.js';

interface Entry<T> {
  /** Publish order: only ever grows; entries removed by `#bound` leave gaps. */
  seq: number;
  /** The (event, bookmaker): what conflates. */
  key: string;
  value: T;
}

export interface SharedTapeOptions {
  /**
   * Newest states kept for the slowest reader; beyond it the oldest go
   * (counted as dropped by each reader that had not read them yet, which
   * then lacks that pair's newest state). Default 100,000: the tape is one
   * per gateway, not one per subscriber, so it can hold every (event,
   * bookmaker) of a large board (12,000 in the benchmark, more than the
   * per-subscriber queue's 10,000) for a few MB of references.
   */
  maxEntries?: number;
  /**
   * A reader that is behind (updates were waiting when it asked for its
   * next batch) reads at most once per this many milliseconds, all such
   * readers at the same tick (default 100): what a subscriber that cannot
   * keep up costs is bounded by the interval, not by the change rate, and
   * readers at the same place read the same batch (one execution, the same
   * bytes).
   */
  behindIntervalMs?: number;
}

/**
 * Updates for the batched subscribers on every event, kept once in publish
 * order instead of once in each subscriber's queue: publishing costs one
 * append, whatever the number of such subscribers (1,000 of them at 500
 * changes/s were half a million queue offers a second). Each reader keeps
 * its place on the tape; a read conflates as the per-subscriber queue does:
 * an entry that a newer entry of its (event, bookmaker) follows is skipped,
 * so a reader gets the newest state of each pair it has not read, in the
 * order of their newest updates (resuming after the last one received skips
 * nothing). Readers at the same place reading up to the same end get the
 * same array, which src/api/shared-execution.ts answers once for them all.
 */
export class SharedTape<T> {
  #entries: Array<Entry<T>> = [];
  /** Index in `#entries` of the first entry kept. */
  #head = 0;
  #nextSeq = 0;
  /** Per key, the seq of its newest entry on the tape. */
  readonly #newest = new Map<string, number>();
  readonly #readers = new Set<TapeReader<T>>();
  /** Readers waiting for the next append. */
  readonly #waiting = new Set<TapeReader<T>>();
  #wakeScheduled = false;
  /** Entries on the tape at which it next trims to what its readers still need. */
  #trimAt = 1024;
  /** The last read without a filter, handed to the next reader at the same place with the same end. */
  #lastRead: { from: number; end: number; max: number; read: TapeRead<T> } | undefined;
  #tick: Promise<void> | undefined;
  /** Ticks passed (counted while someone waits for one). */
  #ticks = 0;
  readonly #maxEntries: number;
  readonly #behindIntervalMs: number;

  constructor({ maxEntries = 100_000, behindIntervalMs = 100 }: SharedTapeOptions = {}) {
    this.#maxEntries = maxEntries;
    this.#behindIntervalMs = behindIntervalMs;
  }

  get readers(): number {
    return this.#readers.size;
  }

  /** Entries held (for tests and metrics: bounded by `maxEntries` beyond what readers need). */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Appends an update for every reader (nothing when there is none). */
  append(key: string, value: T): void {
    if (this.#readers.size === 0) return;
    const seq = this.#nextSeq++;
    this.#entries.push({ seq, key, value });
    this.#newest.set(key, seq);
    if (this.length >= this.#trimAt) this.#trim();
    if (this.#waiting.size > 0 && !this.#wakeScheduled) {
      // After the burst being published (a microtask later): a waiting reader takes all of it at once.
      this.#wakeScheduled = true;
      queueMicrotask(() => this.#wake());
    }
  }

  /** A reader starting after everything appended so far. */
  reader(turn: DeliveryTurn, keep: ((value: T) => boolean) | undefined, onClose: () => void): TapeReader<T> {
    const reader = new TapeReader<T>(this, turn, keep, this.#nextSeq, () => {
      this.#readers.delete(reader);
      this.#waiting.delete(reader);
      onClose();
    });
    this.#readers.add(reader);
    return reader;
  }

  /** Whether anything was appended at or after `cursor`. */
  hasFrom(cursor: number): boolean {
    return cursor < this.#nextSeq;
  }

  /**
   * The newest entry of each key among those from `cursor` on, in tape order, at most `max`
   * (those `keep` refuses are passed over), and the place to read from next.
   */
  read(cursor: number, max: number, keep: ((value: T) => boolean) | undefined): TapeRead<T> {
    const end = this.#nextSeq;
    const last = this.#lastRead;
    if (!keep && last && last.from === cursor && last.end === end && last.max === max) return last.read;
    const values: T[] = [];
    let conflated = 0;
    let i = this.#indexOf(cursor);
    for (; i < this.#entries.length && values.length < max; i++) {
      const entry = this.#entries[i]!;
      if (keep && !keep(entry.value)) continue;
      if (this.#newest.get(entry.key) !== entry.seq) conflated++;
      else values.push(entry.value);
    }
    const read = { values, conflated, next: i < this.#entries.length ? this.#entries[i]!.seq : end };
    if (!keep) this.#lastRead = { from: cursor, end, max, read };
    return read;
  }

  /** Waits for the next append. */
  wait(reader: TapeReader<T>): void {
    this.#waiting.add(reader);
  }

  /** Resolves at the next tick of `behindIntervalMs`; `ticks` tells a reader whether one passed since it read. */
  tick(): Promise<void> {
    this.#tick ??= new Promise<void>((resolve) =>
      setTimeout(() => {
        this.#tick = undefined;
        this.#ticks++;
        resolve();
      }, this.#behindIntervalMs),
    );
    return this.#tick;
  }

  get ticks(): number {
    return this.#ticks;
  }

  #wake(): void {
    this.#wakeScheduled = false;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const reader of waiting) reader.wake();
  }

  /** Index of the first entry at or after `cursor` (binary search: `#bound` leaves gaps in the seqs). */
  #indexOf(cursor: number): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#entries[middle]!.seq < cursor) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Drops what every reader has read; when most of the rest is superseded (a
   * reader far behind walks past each dead entry), or beyond `maxEntries`,
   * what is superseded, and then the oldest.
   */
  #trim(): void {
    let slowest = this.#nextSeq;
    for (const reader of this.#readers) slowest = Math.min(slowest, reader.cursor);
    const from = this.#indexOf(slowest);
    for (let i = this.#head; i < from; i++) this.#forget(this.#entries[i]!);
    this.#head = from;
    if (this.length > this.#maxEntries || this.length > 2 * this.#newest.size) this.#bound();
    if (this.#head > 0) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#lastRead = undefined;
    this.#trimAt = Math.max(1024, 2 * this.length);
  }

  #bound(): void {
    const all = this.#entries.slice(this.#head);
    this.#passOver(all.filter((entry) => this.#newest.get(entry.key) !== entry.seq));
    const kept = all.filter((entry) => this.#newest.get(entry.key) === entry.seq);
    const over = kept.length - this.#maxEntries;
    if (over > 0) {
      // The oldest newest states go: each reader that had not read them counts them as dropped.
      const firstKept = kept[over]!.seq;
      for (const reader of this.#readers) {
        if (reader.cursor >= firstKept) continue;
        reader.dropped += kept.slice(0, over).filter((entry) => entry.seq >= reader.cursor && reader.keeps(entry.value)).length;
        reader.cursor = firstKept;
      }
      for (const entry of kept.splice(0, over)) this.#forget(entry);
    }
    this.#entries = kept;
    this.#head = 0;
  }

  /**
   * Superseded entries (in tape order) leave the tape: each reader that had not read up to them counts
   * those it follows as conflated, as its read would have.
   */
  #passOver(superseded: ReadonlyArray<Entry<T>>): void {
    const last = superseded.at(-1);
    if (!last) return;
    for (const reader of this.#readers) {
      if (reader.cursor > last.seq) continue;
      let first = 0;
      for (let high = superseded.length; first < high; ) {
        const middle = (first + high) >>> 1;
        if (superseded[middle]!.seq < reader.cursor) first = middle + 1;
        else high = middle;
      }
      reader.conflated += reader.filtered
        ? superseded.slice(first).filter((entry) => reader.keeps(entry.value)).length
        : superseded.length - first;
    }
  }

  /** An entry leaves the tape: its key's newest state is gone with it when it was that. */
  #forget(entry: Entry<T>): void {
    if (this.#newest.get(entry.key) === entry.seq) this.#newest.delete(entry.key);
  }
}

export interface TapeRead<T> {
  values: T[];
  /** Entries passed over because a newer one of their key follows. */
  conflated: number;
  next: number;
}

/** One batched subscriber on a shared tape: its place, its filter and its counts. */
export class TapeReader<T> implements Subscription<T> {
  dropped = 0;
  conflated = 0;
  delivered = 0;
  #waitingBatch: { max: number; resolve: (result: Promise<IteratorResult<T[]>> | IteratorResult<T[]>) => void; reject: (error: Error) => void } | undefined;
  readonly #end = new SubscriptionEnd();
  /** The tape's tick count when this reader last read. */
  #readAtTick = -1;

  constructor(
    private readonly tape: SharedTape<T>,
    private readonly turn: DeliveryTurn,
    private readonly keep: ((value: T) => boolean) | undefined,
    /** The seq to read from next. */
    public cursor: number,
    private readonly onClose: () => void,
  ) {}

  /** Whether it follows only some updates. */
  get filtered(): boolean {
    return this.keep !== undefined;
  }

  keeps(value: T): boolean {
    return !this.keep || this.keep(value);
  }

  async next(): Promise<IteratorResult<T>> {
    const batch = await this.nextBatch(1);
    return batch.done ? batch : { value: batch.value[0]!, done: false };
  }

  /**
   * What waits, conflated, at most `max`. A reader that finds updates waiting
   * when it asks (they came while its previous batch was written) is behind:
   * it reads at most once per tick of the tape, with everyone else behind.
   */
  nextBatch(max: number): Promise<IteratorResult<T[]>> {
    if (!this.#end.over && this.tape.hasFrom(this.cursor) && this.#readAtTick === this.tape.ticks) {
      return this.tape.tick().then(() => this.#take(max));
    }
    return this.#take(max);
  }

  /** Woken by an append while waiting: a reader that keeps up reads each burst at once. */
  wake(): void {
    const waiting = this.#waitingBatch;
    if (!waiting) return;
    this.#waitingBatch = undefined;
    waiting.resolve(this.#take(waiting.max));
  }

  #take(max: number): Promise<IteratorResult<T[]>> {
    const ended = this.#end.read();
    if (ended) return ended;
    if (this.tape.hasFrom(this.cursor)) {
      // A batch counts as one delivery of the turn's share plus one per 50 updates it holds (each socket writes them all).
      if (!this.turn.take()) return this.turn.next().then(() => this.#take(max));
      const read = this.tape.read(this.cursor, max, this.keep);
      this.cursor = read.next;
      this.conflated += read.conflated;
      this.#readAtTick = this.tape.ticks;
      if (read.values.length > 0) {
        this.turn.spend(Math.floor(read.values.length / 50));
        this.delivered += read.values.length;
        return Promise.resolve({ value: read.values, done: false });
      }
    }
    return new Promise((resolve, reject) => {
      this.#waitingBatch = { max, resolve, reject };
      this.tape.wait(this);
    });
  }

  /** Ends the subscription with an error its reader gets at its next read. */
  fail(error: Error): void {
    if (!this.#end.close()) return;
    const waiting = this.#waitingBatch;
    this.#waitingBatch = undefined;
    this.onClose();
    if (waiting) waiting.reject(error);
    else this.#end.failNextRead(error);
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#end.close()) {
      this.#waitingBatch?.resolve({ value: undefined, done: true });
      this.#waitingBatch = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
