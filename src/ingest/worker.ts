import { OddsReader } from '../db/odds-reader.js';
import { readFeedCursor, type DeadLetter } from '../db/feed-commit.js';
import { storeSnapshots, trySnapshots, type StoreResult } from '../db/odds-store.js';
import { describeSqlError, isDataError } from '../db/sql-errors.js';
import type { EventStateInput, SnapshotInput } from '../domain/odds.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { PartReport } from '../ops/health.js';
import type { Logger } from '../ops/log.js';
import type { SharedTier } from '../read/read-through.js';
import { rejectionCategory, type Metrics } from '../ops/metrics.js';
import type { OddsBus } from '../live/odds-bus.js';
import { Breaker, guarded, type BreakerOptions } from '../read/breaker.js';
import { ChangePublisher } from './change-publisher.js';
import { FeedIds } from './feed-ids.js';
import { checkFeedRecord, recordKey, type FeedAdapter, type FeedRecord } from './feed-record.js';
import { findRefused } from './poison.js';
import { RateLimitedLog, type RateLimitedLogOptions } from './rate-limited-log.js';

export interface IngestWorkerOptions {
  /** Everything the worker asks the database goes through its own breaker, not the gateway's. */
  prisma: PrismaClient;
  feed: FeedAdapter;
  /** Where committed changes go: to the gateway in this process, or over Redis to every gateway. */
  bus: OddsBus;
  /**
   * The fleet's Redis cache tier: the changed odds are written there once, by the worker, before the
   * change is published, so a gateway that misses its own tier on hearing of it reads the new odds.
   */
  sharedTier?: Pick<SharedTier, 'setMany'> | undefined;
  /** Pause between cycles, in milliseconds (default 200). */
  intervalMs?: number;
  /** The feed's and the database's circuit breakers: failures before one opens, first trial and longest wait (defaults 5, 1 s, 30 s). */
  breakers?: Pick<BreakerOptions, 'failures' | 'firstProbeMs' | 'openMs'>;
  /** How far in the future a record's `capturedAt` may be, in milliseconds (default 5 minutes); a later one is rejected. */
  maxClockSkewMs?: number;
  /** `HISTORY_RETENTION_DAYS`: a record captured before the first day history keeps is rejected (default: none is). */
  historyRetentionDays?: number;
  /** Records written per cycle, at most (default 5,000); the rest of a feed's answer waits for the next cycles. */
  maxRecordsPerCycle?: number;
  /** `/health` says `stale` when delivered records have waited this long for a commit, in milliseconds (default 60 s). */
  staleAfterMs?: number;
  now?: () => number;
  logger: Logger;
  /** Lines about rejected or quarantined records: at most `maxLines` per `intervalMs` (defaults 20 per 10 s). */
  recordLog?: Pick<RateLimitedLogOptions, 'maxLines' | 'intervalMs'>;
  /** Snapshots written and rejected, cycle duration, capture-to-publish lag. */
  metrics?: Pick<Metrics, 'ingestSnapshots' | 'ingestRejected' | 'ingestQuarantined' | 'ingestBatch' | 'ingestLag' | 'setBreakerState'>;
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
  /** Events whose status, score or clock moved. */
  eventsChanged: number;
  /** Records the database refused, set aside in `quarantined_record` while the rest of their batch was committed. */
  quarantined: number;
  /** The commit failed: the records wait for the next cycle, and the feed is not polled until they are committed. */
  failed: boolean;
  /** The feed could not be polled (or its breaker is open). */
  feedFailed: boolean;
}

/** A checked record and what the feed sent, kept for the dead-letter table. */
interface Checked {
  record: FeedRecord;
  raw: unknown;
}

/** A record refused before the database saw it, named by its key. */
interface Rejection {
  key: string;
  reason: string;
}

/** One snapshot to write and the record it came from. */
interface Write {
  /** An odds record's snapshot. */
  snapshot?: SnapshotInput;
  /** The event's state, from a state record or an odds record that carries one. */
  state?: EventStateInput;
  source: Checked;
}

/** A feed's answer that is polled but not yet (wholly) committed. */
interface Uncommitted {
  /** Checked records still to write, in the feed's order. */
  records: Checked[];
  /** The cursor after the whole answer: committed with its last records. */
  cursor: string | null;
  /** When it was polled, or when its last part was committed: `/health` calls ingest stale when this gets old. */
  progressAt: number;
}

const emptyResult = (): CycleResult => ({
  received: 0,
  stored: 0,
  duplicates: 0,
  rejected: {},
  published: 0,
  createdEvents: 0,
  eventsChanged: 0,
  quarantined: 0,
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
  readonly totals = { received: 0, stored: 0, duplicates: 0, rejected: 0, quarantined: 0, published: 0, createdEvents: 0, failedCycles: 0 };
  readonly #options: IngestWorkerOptions;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #ids: FeedIds;
  readonly #publisher: ChangePublisher;
  /** One line per rejected or quarantined record, at most 20 per 10 s, then a count of the rest. */
  readonly #recordLog: RateLimitedLog;
  /** Rejected records since start, by the metric's reason category (`capturedAt`, `unknown_event`...). */
  readonly rejectedByReason: Record<string, number> = {};
  /** The feed's cursor as last committed; undefined until read from the database. */
  #cursor: string | null | undefined;
  /** Rows in the dead-letter table: counted at the first cycle, then added to. */
  #deadLetters = 0;
  #uncommitted: Uncommitted | undefined;
  #lastCommitAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly feedBreaker: Breaker;
  /** Around the worker's own database work (cursor, ids, writes, the reads behind publishing): a data error the database refuses is not a failure. */
  readonly databaseBreaker: Breaker;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(options: IngestWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#ids = new FeedIds(options.prisma);
    this.#recordLog = new RateLimitedLog({ log: (message) => this.#logger.warn(message), now: this.#now, ...options.recordLog });
    this.databaseBreaker = new Breaker('ingest database', {
      ...options.breakers,
      isFailure: (error) => !isDataError(error),
      probe: () => options.prisma.$queryRawUnsafe('SELECT 1'),
      logger: this.#logger,
      onStateChange: (state) => options.metrics?.setBreakerState('ingest_database', state),
    });
    options.metrics?.setBreakerState('ingest_database', 'closed');
    const reader = guarded(new OddsReader(options.prisma), this.databaseBreaker);
    this.#publisher = new ChangePublisher({
      reader,
      bus: options.bus,
      sharedTier: options.sharedTier,
      now: this.#now,
      logger: this.#logger,
      metrics: options.metrics,
    });
    this.feedBreaker = new Breaker(`${options.feed.name} feed`, {
      ...options.breakers,
      logger: this.#logger,
      onStateChange: (state) => options.metrics?.setBreakerState('feed', state),
    });
    options.metrics?.setBreakerState('feed', 'closed');
  }

  start(): void {
    this.#stopped = false;
    const loop = () => {
      this.#running = this.runCycle()
        .catch((error: unknown) => this.#logger.error({ err: error }, 'ingest cycle failed'))
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

  /**
   * For `/health`: `stale` while records the feed delivered have waited
   * longer than `staleAfterMs` without a commit (the database refuses or is
   * away), `degraded` while the feed says it cannot deliver (its credits are
   * used up: the gateway serves the last prices, with their `capturedAt`),
   * else `running`; what it rejected and set aside; the feed's own report.
   */
  health(): PartReport {
    const waiting = this.#uncommitted;
    const waitedMs = waiting ? this.#now() - waiting.progressAt : 0;
    const stale = waitedMs > (this.#options.staleAfterMs ?? 60_000);
    const { degraded, ...feedReport } = this.#options.feed.report?.() ?? {};
    return {
      status: this.#stopped ? 'stopped' : stale ? 'stale' : degraded ? 'degraded' : 'running',
      ...(degraded ? { degraded } : {}),
      feed: this.#options.feed.name,
      ...feedReport,
      waitingRecords: waiting?.records.length ?? 0,
      secondsWaitingForCommit: waitedMs / 1000,
      secondsSinceLastCommit: this.#lastCommitAt === undefined ? null : (this.#now() - this.#lastCommitAt) / 1000,
      quarantined: this.#deadLetters,
      rejected: this.totals.rejected,
      rejectedByReason: this.rejectedByReason,
      breakers: { feed: this.feedBreaker.state, database: this.databaseBreaker.state },
    };
  }

  async runCycle(): Promise<CycleResult> {
    const started = performance.now();
    const result = emptyResult();
    await this.#cycle(result);
    result.published = await this.#publisher.publish();
    this.#recordLog.flush();
    this.totals.published += result.published;
    this.#options.metrics?.ingestBatch((performance.now() - started) / 1000);
    return result;
  }

  async #cycle(result: CycleResult): Promise<void> {
    if (this.#cursor === undefined) {
      try {
        const { prisma, feed } = this.#options;
        const [cursor, deadLetters] = await this.databaseBreaker.execute(() =>
          Promise.all([readFeedCursor(prisma, feed.name), prisma.quarantinedRecord.count()]),
        );
        this.#cursor = cursor ?? null;
        this.#deadLetters = deadLetters;
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
    this.#lastCommitAt = this.#now();
    if (last) this.#uncommitted = undefined;
    else {
      records.splice(0, chunk.length);
      this.#uncommitted.progressAt = this.#lastCommitAt;
    }
  }

  get #maxRecords(): number {
    return this.#options.maxRecordsPerCycle ?? 5_000;
  }

  /** One answer of the feed, its records checked; undefined when the feed could not be polled. */
  async #poll(result: CycleResult): Promise<Uncommitted | undefined> {
    const { feed } = this.#options;
    // An open breaker skips the feed's poll; committed-but-unpublished changes still go out.
    const answer = await this.feedBreaker.execute(() => feed.poll(this.#cursor ?? null, this.#maxRecords)).catch((error: unknown) => {
      if (this.feedBreaker.state === 'closed') this.#logger.warn({ feed: feed.name, err: error }, 'polling the feed failed');
      result.feedFailed = true;
      return undefined;
    });
    if (!answer) return undefined;
    result.received = answer.records.length;
    this.totals.received += answer.records.length;
    const records: Checked[] = [];
    for (const raw of answer.records) {
      const checked = checkFeedRecord(raw, { now: this.#now(), maxClockSkewMs: this.#options.maxClockSkewMs, retentionDays: this.#options.historyRetentionDays });
      if (checked.ok) records.push({ record: checked.record, raw });
      else this.#reject(result, { key: recordKey(raw), reason: checked.reason });
    }
    return { records, cursor: answer.cursor, progressAt: this.#now() };
  }

  /**
   * Writes the records' snapshots and the cursor in one transaction.
   * Returns false when that failed: nothing was written, and the records
   * wait for the next cycle.
   */
  async #commit(records: Checked[], cursor: string | null, result: CycleResult): Promise<boolean> {
    if (records.length === 0 && cursor === this.#cursor) return true;
    const rejections: Rejection[] = [];
    try {
      const stored = await this.databaseBreaker.execute(async () => {
        const resolved = await this.#ids.resolve(records.map((r) => r.record));
        result.createdEvents = resolved.created;
        this.totals.createdEvents += resolved.created;
        return this.#store(this.#writes(records, resolved.whyUnknown, rejections), cursor, result);
      });
      result.stored = stored.stored;
      result.duplicates = stored.duplicates;
      this.totals.stored += stored.stored;
      this.totals.duplicates += stored.duplicates;
      this.#options.metrics?.ingestSnapshots(stored.stored, stored.duplicates);
      result.eventsChanged = stored.eventsChanged.length;
      this.#publisher.add(stored.position);
    } catch (error) {
      this.#failed(result, `${records.length} records not stored, retrying next cycle`, error);
      return false;
    }
    // Counted once the outcome is final: a failed commit would see the same records again.
    for (const rejection of rejections) this.#reject(result, rejection);
    return true;
  }

  /**
   * Stores the writes with the cursor. When the database refuses the data
   * (not when it is away), the batch is split to find the records it
   * refuses; they go to the dead-letter table and the rest is committed in
   * the same cycle, with the cursor, in one transaction.
   */
  async #store(writes: Write[], cursor: string | null, result: CycleResult): Promise<StoreResult> {
    const { prisma, feed } = this.#options;
    const snapshots = (some: readonly Write[]) => some.flatMap((w) => (w.snapshot ? [w.snapshot] : []));
    const states = (some: readonly Write[]) => some.flatMap((w) => (w.state ? [w.state] : []));
    try {
      return await storeSnapshots(prisma, snapshots(writes), states(writes), { feed: feed.name, cursor });
    } catch (error) {
      if (!isDataError(error)) throw error;
      const refused = await findRefused(writes, error, (some) => trySnapshots(prisma, snapshots(some), states(some)));
      const quarantine: DeadLetter[] = refused.map(({ item, error }) => ({
        recordKey: recordKey(item.source.raw),
        reason: describeSqlError(error),
        raw: item.source.raw,
      }));
      const kept = writes.filter((w) => !refused.some((r) => r.item === w));
      const stored = await storeSnapshots(prisma, snapshots(kept), states(kept), { feed: feed.name, cursor, quarantine });
      this.#quarantined(result, quarantine);
      return stored;
    }
  }

  #quarantined(result: CycleResult, quarantine: DeadLetter[]): void {
    result.quarantined = quarantine.length;
    this.totals.quarantined += quarantine.length;
    this.#deadLetters += quarantine.length;
    this.#options.metrics?.ingestQuarantined(quarantine.length);
    for (const letter of quarantine) this.#recordLog.write(`ingest: quarantined ${letter.recordKey}: ${letter.reason}`);
  }

  /** One write per snapshot (event, bookmaker, capturedAt) or event state; records naming what the database lacks go to `rejections`. */
  #writes(records: Checked[], whyUnknown: Map<string, string>, rejections: Rejection[]): Write[] {
    const writes = new Map<string, Write>();
    records.forEach((source, i) => {
      const { record } = source;
      const key = recordKey(source.raw);
      const eventId = this.#ids.event(record.event);
      if (eventId === undefined) {
        rejections.push({ key, reason: whyUnknown.get(record.event) ?? `unknown event ${JSON.stringify(record.event)}` });
        return;
      }
      const state = record.state && { eventId, capturedAt: record.capturedAt, ...record.state };
      if (!('markets' in record)) {
        writes.set(`state:${i}`, { state, source });
        return;
      }
      const bookmakerId = this.#ids.bookmaker(record.bookmaker);
      if (bookmakerId === undefined) {
        rejections.push({ key, reason: `unknown bookmaker ${JSON.stringify(record.bookmaker)}` });
        return;
      }
      // The same snapshot twice in one answer is one snapshot (the first wins, as the store's unique key would say).
      const snapshotKey = `${eventId}:${bookmakerId}:${record.capturedAt.getTime()}`;
      const snapshot = { eventId, bookmakerId, capturedAt: record.capturedAt, markets: record.markets };
      if (!writes.has(snapshotKey)) writes.set(snapshotKey, { snapshot, state, source });
    });
    return [...writes.values()];
  }

  /** Counts a rejection by its reason and by its metric category, and logs it with the record's key (rate-limited). */
  #reject(result: CycleResult, { key, reason }: Rejection): void {
    result.rejected[reason] = (result.rejected[reason] ?? 0) + 1;
    this.totals.rejected++;
    const category = rejectionCategory(reason);
    this.rejectedByReason[category] = (this.rejectedByReason[category] ?? 0) + 1;
    this.#options.metrics?.ingestRejected(reason);
    this.#recordLog.write(`ingest: rejected ${key}: ${reason}`);
  }

  #failed(result: CycleResult, what: string, error: unknown): void {
    result.failed = true;
    this.totals.failedCycles++;
    // While the breaker is open every cycle fails at once; the breaker has said why.
    if (this.databaseBreaker.state === 'closed') this.#logger.warn({ err: error }, what);
  }
}
