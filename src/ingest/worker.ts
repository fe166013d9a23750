import type { BoardIndex } from '../board/board-index.js';
import { boardWindowMs } from '../board/board-index.js';
import { cacheKey, DisabledCache, type OddsCache } from '../cache/odds-cache.js';
import type { OddsReader } from '../db/odds-reader.js';
import { storeSnapshots } from '../db/odds-store.js';
import type { SnapshotInput } from '../domain/odds.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { cachedLoader } from '../graphql/loaders.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { checkFeedRecord, type FeedAdapter, type FeedRecord } from './feed-record.js';

export interface IngestWorkerOptions {
  prisma: PrismaClient;
  reader: OddsReader;
  feed: FeedAdapter;
  pubsub: PubSub;
  /** The gateway's cache and board in the same process; absent for a worker running alone. */
  cache?: OddsCache | undefined;
  board?: BoardIndex | null | undefined;
  /** Pause between cycles, in milliseconds (default 200). */
  intervalMs?: number;
  /** Snapshots held for retry after failed commits, at most (default 10,000; the oldest go first). */
  maxPending?: number;
  now?: () => number;
  log?: (message: string) => void;
}

export interface CycleResult {
  received: number;
  stored: number;
  duplicates: number;
  /** Rejected records by reason. */
  rejected: Record<string, number>;
  published: number;
  /** Events that left the board this cycle. */
  evicted: number;
  /** The commit failed: the batch waits for the next cycle. */
  failed: boolean;
}

/**
 * Pulls the feed, checks every record, writes each batch in one transaction,
 * and only after the commit refreshes the cache and board and publishes one
 * update per (event, bookmaker) whose latest snapshot moved. A batch whose
 * commit fails changes nothing and is retried next cycle; the snapshots'
 * unique key makes the retry store each snapshot once.
 */
export class IngestWorker {
  readonly totals = { received: 0, stored: 0, duplicates: 0, rejected: 0, published: 0, failedCycles: 0 };
  readonly #options: IngestWorkerOptions;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #eventIds = new Map<string, number>();
  readonly #bookmakerIds = new Map<string, number>();
  #pending: SnapshotInput[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(options: IngestWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? console.log;
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
    const result: CycleResult = { received: 0, stored: 0, duplicates: 0, rejected: {}, published: 0, evicted: 0, failed: false };
    const reject = (reason: string) => {
      result.rejected[reason] = (result.rejected[reason] ?? 0) + 1;
      this.totals.rejected++;
    };
    const raw = await this.#options.feed.poll();
    result.received = raw.length;
    this.totals.received += raw.length;

    const records: FeedRecord[] = [];
    for (const item of raw) {
      const checked = checkFeedRecord(item);
      if (checked.ok) records.push(checked.record);
      else reject(checked.reason);
    }
    await this.#resolveIds(records);
    const batch = [...this.#pending];
    for (const record of records) {
      const eventId = this.#eventIds.get(record.event);
      const bookmakerId = this.#bookmakerIds.get(record.bookmaker);
      if (eventId === undefined) reject(`unknown event ${JSON.stringify(record.event)}`);
      else if (bookmakerId === undefined) reject(`unknown bookmaker ${JSON.stringify(record.bookmaker)}`);
      else batch.push({ eventId, bookmakerId, capturedAt: record.capturedAt, markets: record.markets });
    }
    if (batch.length > 0) {
      try {
        const stored = await storeSnapshots(this.#options.prisma, batch);
        this.#pending = [];
        result.stored = stored.stored;
        result.duplicates = stored.duplicates;
        result.published = await this.#afterCommit(stored.latestChanged);
      } catch (error) {
        // Nothing was written: keep the batch for the next cycle, bounded.
        this.#pending = batch.slice(-(this.#options.maxPending ?? 10_000));
        result.failed = true;
        this.totals.failedCycles++;
        this.#log(`ingest batch of ${batch.length} not stored, retrying next cycle: ${(error as Error).message}`);
      }
    }
    result.evicted = this.#evictPastEvents();
    this.totals.stored += result.stored;
    this.totals.duplicates += result.duplicates;
    this.totals.published += result.published;
    return result;
  }

  /** Refreshes the cache and board from the database, then tells subscribers. */
  async #afterCommit(changed: ReadonlyArray<{ eventId: number; bookmakerId: number }>): Promise<number> {
    if (changed.length === 0) return 0;
    const { reader, cache, board, pubsub } = this.#options;
    const eventIds = [...new Set(changed.map((c) => c.eventId))];
    const odds = await reader.eventOdds(eventIds);
    for (const eventId of eventIds) cache?.set(cacheKey('EventOdds', eventId), odds.get(eventId)!);
    if (board) await this.#addToBoard(board, eventIds);
    let published = 0;
    for (const { eventId, bookmakerId } of changed) {
      const snapshot = odds.get(eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      if (!snapshot) continue;
      pubsub.publish({ eventId, bookmakerId, snapshot });
      published++;
    }
    return published;
  }

  /** Events that now have odds and kick off within the window join (or stay on) the board. */
  async #addToBoard(board: BoardIndex, eventIds: number[]): Promise<void> {
    for (const id of eventIds) if (board.has(id)) board.markWithOdds(id);
    const newIds = eventIds.filter((id) => !board.has(id));
    if (newIds.length === 0) return;
    const { cache = new DisabledCache(), reader } = this.#options;
    const events = await cachedLoader(cache, 'Event', (ids) => reader.events(ids), false).loadMany(newIds);
    for (const event of events) {
      if (!(event instanceof Error) && event.kickoffAtMs >= board.windowStart()) board.upsert(event, true);
    }
  }

  #evictPastEvents(): number {
    const { board, cache } = this.#options;
    if (!board) return 0;
    const evicted = board.evictBefore(this.#now() - boardWindowMs);
    for (const id of evicted) {
      cache?.invalidate(cacheKey('Event', id));
      cache?.invalidate(cacheKey('EventOdds', id));
    }
    return evicted.length;
  }

  async #resolveIds(records: FeedRecord[]): Promise<void> {
    const prisma = this.#options.prisma;
    const events = [...new Set(records.map((r) => r.event))].filter((id) => !this.#eventIds.has(id));
    const bookmakers = [...new Set(records.map((r) => r.bookmaker))].filter((key) => !this.#bookmakerIds.has(key));
    if (events.length > 0) {
      const rows = await prisma.event.findMany({ where: { externalId: { in: events } }, select: { id: true, externalId: true } });
      for (const row of rows) this.#eventIds.set(row.externalId, row.id);
    }
    if (bookmakers.length > 0) {
      const rows = await prisma.bookmaker.findMany({ where: { key: { in: bookmakers } }, select: { id: true, key: true } });
      for (const row of rows) this.#bookmakerIds.set(row.key, row.id);
    }
  }
}
