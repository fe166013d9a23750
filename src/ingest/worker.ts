import type { OddsReader } from '../db/odds-reader.js';
import { readFeedCursor, storeSnapshots } from '../db/odds-store.js';
import type { SnapshotInput } from '../domain/odds.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Metrics } from '../observability/metrics.js';
import type { OddsBus } from '../pubsub/odds-bus.js';
import { Breaker, type BreakerOptions } from '../resilience/breaker.js';
import { ChangePublisher } from './change-publisher.js';
import { FeedIds } from './feed-ids.js';
import { checkFeedRecord, type FeedAdapter, type FeedRecord } from './feed-record.js';

export interface IngestWorkerOptions {
  prisma: PrismaClient;
  reader: OddsReader;
  feed: FeedAdapter;
  /** Where committed changes go: to the gateway in this process, or over Redis to every gateway. */
  bus: OddsBus;
  /** Pause between cycles, in milliseconds (default 200). */
  intervalMs?: number;
  /** The feed's circuit breaker: failures before it opens, and for how long (defaults 5 and 30 s). */
  feedBreaker?: Pick<BreakerOptions, 'failures' | 'openMs'>;
  /** Records written per cycle, at most (default 5,000); the rest of a feed's answer waits for the next cycles. */
  maxRecordsPerCycle?: number;
  now?: () => number;
  log?: (message: string) => void;
  /** Snapshots written and rejected, cycle duration, capture-to-publish lag. */
  metrics?: Pick<Metrics, 'ingestSnapshots' | 'ingestRejected' | 'ingestBatch' | 'ingestLag' | 'setBreakerState'>;
}

export interface CycleResult {
  received: number;
  stored: number;
  duplicates: number;
  /** Rejected records by reason. */
  rejected: Record<string, number>;
  /** (event, bookmaker) pairs whose change was handed to the bus. */
  published: number;
  /** Events the feed announced that were not in the database yet. */
  createdEvents: number;
  /** The commit failed: the records wait for the next cycle, and the feed is not polled until they are committed. */
  failed: boolean;
  /** The feed could not be polled (or its breaker is open). */
  feedFailed: boolean;
}

/** A feed's answer that is polled but not yet (wholly) committed. */
interface Uncommitted {
  /** Checked records still to write, in the feed's order. */
  records: FeedRecord[];
  /** The cursor after the whole answer: committed with its last records. */
  cursor: string | null;
}

const emptyResult = (): CycleResult => ({
  received: 0,
  stored: 0,
  duplicates: 0,
  rejected: {},
  published: 0,
  createdEvents: 0,
  failed: false,
  feedFailed: false,
});

/**
 * Pulls the feed, checks every record, and writes what the records produced
 * together with the feed's cursor in one transaction, so a crash at any
 * moment resumes after exactly what was committed: nothing lost, nothing
 * stored twice, and nothing committed is asked for again. A polled answer
 * stays in memory until it is committed (the feed is not polled meanwhile),
 * and only after the commit is the change published, as one message naming
 * every (event, bookmaker) whose latest snapshot moved, for gateways to
 * cache and push. A change the bus would not take (Redis away) is
 * published again next cycle.
 */
export class IngestWorker {
  readonly totals = { received: 0, stored: 0, duplicates: 0, rejected: 0, published: 0, createdEvents: 0, failedCycles: 0 };
  readonly #options: IngestWorkerOptions;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #ids: FeedIds;
  readonly #publisher: ChangePublisher;
  /** The feed's cursor as last committed; undefined until read from the database. */
  #cursor: string | null | undefined;
  #uncommitted: Uncommitted | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly feedBreaker: Breaker;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(options: IngestWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? console.log;
    this.#ids = new FeedIds(options.prisma);
    this.#publisher = new ChangePublisher({ reader: options.reader, bus: options.bus, now: this.#now, log: this.#log, metrics: options.metrics });
    this.feedBreaker = new Breaker(`${options.feed.name} feed`, {
      ...options.feedBreaker,
      log: this.#log,
      onStateChange: (state) => options.metrics?.setBreakerState('feed', state),
    });
    options.metrics?.setBreakerState('feed', 'closed');
  }

  start(): void {
    this.#stopped = false;
    const loop = () => {
      this.#running = this.runCycle()
        .catch((error: unknown) => this.#log(`ingest cycle failed: ${(error as Error).message}`))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#options.intervalMs ?? 200);
        });
    };
    loop();
  }

  /** Stops pulling; resolves once the batch in flight has committed (or failed). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async runCycle(): Promise<CycleResult> {
    const started = performance.now();
    const result = emptyResult();
    await this.#cycle(result);
    result.published = await this.#publisher.publish();
    this.totals.published += result.published;
    this.#options.metrics?.ingestBatch((performance.now() - started) / 1000);
    return result;
  }

  async #cycle(result: CycleResult): Promise<void> {
    if (this.#cursor === undefined) {
      try {
        this.#cursor = (await readFeedCursor(this.#options.prisma, this.#options.feed.name)) ?? null;
      } catch (error) {
        this.#failed(result, `reading the ${this.#options.feed.name} feed's cursor failed`, error);
        return;
      }
    }
    this.#uncommitted ??= await this.#poll(result);
    if (!this.#uncommitted) return;
    const { records, cursor } = this.#uncommitted;
    const chunk = records.slice(0, this.#maxRecords);
    const last = chunk.length === records.length;
    // Only the answer's last records carry its cursor: a crash before them resumes at its start.
    const committed = await this.#commit(chunk, last ? cursor : this.#cursor, result);
    if (!committed) return;
    this.#cursor = last ? cursor : this.#cursor;
    if (last) this.#uncommitted = undefined;
    else records.splice(0, chunk.length);
  }

  get #maxRecords(): number {
    return this.#options.maxRecordsPerCycle ?? 5_000;
  }

  /** One answer of the feed, its records checked; undefined when the feed could not be polled. */
  async #poll(result: CycleResult): Promise<Uncommitted | undefined> {
    const { feed } = this.#options;
    // An open breaker skips the feed's poll; committed-but-unpublished changes still go out.
    const answer = await this.feedBreaker.execute(() => feed.poll(this.#cursor ?? null, this.#maxRecords)).catch((error: unknown) => {
      if (this.feedBreaker.state === 'closed') this.#log(`ingest: polling the ${feed.name} feed failed: ${(error as Error).message}`);
      result.feedFailed = true;
      return undefined;
    });
    if (!answer) return undefined;
    result.received = answer.records.length;
    this.totals.received += answer.records.length;
    const records: FeedRecord[] = [];
    for (const raw of answer.records) {
      const checked = checkFeedRecord(raw);
      if (checked.ok) records.push(checked.record);
      else this.#reject(result, checked.reason);
    }
    return { records, cursor: answer.cursor };
  }

  /**
   * Writes the records' snapshots and the cursor in one transaction.
   * Returns false when that failed: nothing was written, and the records
   * wait for the next cycle.
   */
  async #commit(records: FeedRecord[], cursor: string | null, result: CycleResult): Promise<boolean> {
    if (records.length === 0 && cursor === this.#cursor) return true;
    const rejections: string[] = [];
    let snapshots: SnapshotInput[];
    try {
      const resolved = await this.#ids.resolve(records);
      result.createdEvents = resolved.created;
      this.totals.createdEvents += resolved.created;
      snapshots = this.#snapshots(records, resolved.whyUnknown, rejections);
      const stored = await storeSnapshots(this.#options.prisma, snapshots, { feed: this.#options.feed.name, cursor });
      result.stored = stored.stored;
      result.duplicates = stored.duplicates;
      this.totals.stored += stored.stored;
      this.totals.duplicates += stored.duplicates;
      this.#options.metrics?.ingestSnapshots(stored.stored, stored.duplicates);
      this.#publisher.add(stored.latestChanged);
    } catch (error) {
      this.#failed(result, `${records.length} records not stored, retrying next cycle`, error);
      return false;
    }
    // Counted once the outcome is final: a failed commit would see the same records again.
    for (const reason of rejections) this.#reject(result, reason);
    return true;
  }

  /** The records' snapshots, one per (event, bookmaker, capturedAt); records naming what the database lacks go to `rejections`. */
  #snapshots(records: FeedRecord[], whyUnknown: Map<string, string>, rejections: string[]): SnapshotInput[] {
    const snapshots = new Map<string, SnapshotInput>();
    for (const record of records) {
      const eventId = this.#ids.event(record.event);
      const bookmakerId = this.#ids.bookmaker(record.bookmaker);
      if (eventId === undefined) rejections.push(whyUnknown.get(record.event) ?? `unknown event ${JSON.stringify(record.event)}`);
      else if (bookmakerId === undefined) rejections.push(`unknown bookmaker ${JSON.stringify(record.bookmaker)}`);
      else {
        // The same snapshot twice in one answer is one snapshot (the first wins, as the store's unique key would say).
        const key = `${eventId}:${bookmakerId}:${record.capturedAt.getTime()}`;
        if (!snapshots.has(key)) snapshots.set(key, { eventId, bookmakerId, capturedAt: record.capturedAt, markets: record.markets });
      }
    }
    return [...snapshots.values()];
  }

  #reject(result: CycleResult, reason: string): void {
    result.rejected[reason] = (result.rejected[reason] ?? 0) + 1;
    this.totals.rejected++;
    this.#options.metrics?.ingestRejected(reason);
  }

  #failed(result: CycleResult, what: string, error: unknown): void {
    result.failed = true;
    this.totals.failedCycles++;
    this.#log(`ingest: ${what}: ${(error as Error).message}`);
  }
}
