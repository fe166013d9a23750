import type { EventOddsRecord } from '../domain/records.js';
import type { OddsReader } from '../db/odds-reader.js';
import { storeSnapshots } from '../db/odds-store.js';
import type { EventStateInput, SnapshotInput } from '../domain/odds.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { OddsBus } from '../live/odds-bus.js';
import { Breaker, type BreakerOptions } from '../read/breaker.js';
import type { SharedTier } from '../read/read-through.js';
import { cacheKey } from '../domain/cache-keys.js';
import { checkFeedRecord, type FeedAdapter, type FeedRecord } from './feed-record.js';

export interface IngestWorkerOptions {
  prisma: PrismaClient;
  reader: OddsReader;
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
  /** The feed's circuit breaker: failures before it opens, and for how long (defaults 5 and 30 s). */
  feedBreaker?: Pick<BreakerOptions, 'failures' | 'openMs'>;
  /** Snapshots held for retry after failed commits, at most (default 10,000; the oldest go first). */
  maxPending?: number;
  now?: () => number;
  logger: Logger;
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
  /** Events whose status, score or clock moved. */
  eventsChanged: number;
  /** The commit failed: the batch waits for the next cycle. */
  failed: boolean;
  /** The feed could not be polled (or its breaker is open). */
  feedFailed: boolean;
}

interface Resolved {
  /** Events created from fixtures. */
  created: number;
  /** Why an event stayed unknown, when there is more to say than "unknown event". */
  whyUnknown: Map<string, string>;
}

/**
 * Pulls the feed, checks every record, writes each batch in one transaction,
 * and only after the commit publishes one change message naming every
 * (event, bookmaker) whose latest snapshot moved, with those events' current
 * odds, for gateways to cache and push. A batch whose commit fails publishes
 * nothing and is retried next cycle; the snapshots' unique key makes the
 * retry store each snapshot once. A change the bus would not take (Redis
 * away) is published again next cycle.
 */
export class IngestWorker {
  readonly totals = { received: 0, stored: 0, duplicates: 0, rejected: 0, published: 0, createdEvents: 0, failedCycles: 0 };
  readonly #options: IngestWorkerOptions;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #eventIds = new Map<string, number>();
  readonly #bookmakerIds = new Map<string, number>();
  #unresolved: FeedRecord[] = [];
  #pending: SnapshotInput[] = [];
  #pendingStates: EventStateInput[] = [];
  /** Committed changes not yet on the bus, keyed `eventId:bookmakerId`. */
  readonly #unpublished = new Map<string, { eventId: number; bookmakerId: number }>();
  /** Events whose committed state change is not yet on the bus. */
  readonly #unpublishedEvents = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  readonly feedBreaker: Breaker;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(options: IngestWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.feedBreaker = new Breaker(`${options.feed.name} feed`, {
      ...options.feedBreaker,
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

  async runCycle(): Promise<CycleResult> {
    const started = performance.now();
    const result = await this.#cycle();
    this.#options.metrics?.ingestBatch((performance.now() - started) / 1000);
    return result;
  }

  async #cycle(): Promise<CycleResult> {
    const result: CycleResult = { received: 0, stored: 0, duplicates: 0, rejected: {}, published: 0, createdEvents: 0, eventsChanged: 0, failed: false, feedFailed: false };
    const reject = (reason: string) => {
      result.rejected[reason] = (result.rejected[reason] ?? 0) + 1;
      this.totals.rejected++;
      this.#options.metrics?.ingestRejected(reason);
    };
    // Records from a cycle whose id lookup failed (database away) come first, so nothing polled is lost.
    const records: FeedRecord[] = this.#unresolved;
    this.#unresolved = [];
    for (const item of await this.#poll(result)) {
      const checked = checkFeedRecord(item);
      if (checked.ok) records.push(checked.record);
      else reject(checked.reason);
    }
    let resolved: Resolved;
    try {
      resolved = await this.#resolveIds(records);
    } catch (error) {
      this.#unresolved = records.slice(-(this.#options.maxPending ?? 10_000));
      this.totals.failedCycles++;
      this.#logger.warn({ records: records.length, err: error }, 'records wait for the database');
      return { ...result, failed: true };
    }
    result.createdEvents = resolved.created;
    await this.#store(this.#batch(records, resolved, reject), result);
    result.published = await this.#publish();
    this.totals.createdEvents += result.createdEvents;
    this.totals.stored += result.stored;
    this.totals.duplicates += result.duplicates;
    this.totals.published += result.published;
    return result;
  }

  /** The feed's records; none when it fails or its breaker is open (committed-but-unpublished changes still go out). */
  async #poll(result: CycleResult): Promise<unknown[]> {
    const raw = await this.feedBreaker.execute(() => this.#options.feed.poll()).catch((error: unknown) => {
      if (this.feedBreaker.state === 'closed') this.#logger.warn({ feed: this.#options.feed.name, err: error }, 'polling the feed failed');
      result.feedFailed = true;
      return [] as unknown[];
    });
    result.received = raw.length;
    this.totals.received += raw.length;
    return raw;
  }

  /** What to write: what a failed commit kept, then this cycle's records whose event (and bookmaker) are known. */
  #batch(records: FeedRecord[], resolved: Resolved, reject: (reason: string) => void): { batch: SnapshotInput[]; states: EventStateInput[] } {
    const batch = [...this.#pending];
    const states = [...this.#pendingStates];
    for (const record of records) {
      const eventId = this.#eventIds.get(record.event);
      if (eventId === undefined) {
        reject(resolved.whyUnknown.get(record.event) ?? `unknown event ${JSON.stringify(record.event)}`);
        continue;
      }
      if (!('markets' in record)) {
        states.push({ eventId, capturedAt: record.capturedAt, ...record.state });
        continue;
      }
      const bookmakerId = this.#bookmakerIds.get(record.bookmaker);
      if (bookmakerId === undefined) {
        reject(`unknown bookmaker ${JSON.stringify(record.bookmaker)}`);
        continue;
      }
      if (record.state) states.push({ eventId, capturedAt: record.capturedAt, ...record.state });
      batch.push({ eventId, bookmakerId, capturedAt: record.capturedAt, markets: record.markets });
    }
    return { batch, states };
  }

  /** Writes the batch in one transaction; on failure nothing was written, and the batch waits for the next cycle, bounded. */
  async #store({ batch, states }: { batch: SnapshotInput[]; states: EventStateInput[] }, result: CycleResult): Promise<void> {
    if (batch.length === 0 && states.length === 0) return;
    try {
      const stored = await storeSnapshots(this.#options.prisma, batch, states);
      this.#pending = [];
      this.#pendingStates = [];
      result.stored = stored.stored;
      result.duplicates = stored.duplicates;
      result.eventsChanged = stored.eventsChanged.length;
      this.#options.metrics?.ingestSnapshots(stored.stored, stored.duplicates);
      for (const pair of stored.latestChanged) this.#unpublished.set(`${pair.eventId}:${pair.bookmakerId}`, pair);
      for (const eventId of stored.eventsChanged) this.#unpublishedEvents.add(eventId);
    } catch (error) {
      const maxPending = this.#options.maxPending ?? 10_000;
      this.#pending = batch.slice(-maxPending);
      this.#pendingStates = states.slice(-maxPending);
      result.failed = true;
      this.totals.failedCycles++;
      this.#logger.warn({ snapshots: batch.length, eventStates: states.length, err: error }, 'batch not stored, retrying next cycle');
    }
  }

  /**
   * Publishes every committed change not yet published as one message,
   * with the changed events and their whole current odds read after the
   * commit. If the read or the bus fails, the changes wait for the next cycle.
   */
  async #publish(): Promise<number> {
    if (this.#unpublished.size === 0 && this.#unpublishedEvents.size === 0) return 0;
    const changed = [...this.#unpublished.values()];
    const eventsChanged = [...this.#unpublishedEvents];
    const eventIds = [...new Set([...changed.map((c) => c.eventId), ...eventsChanged])];
    try {
      const { reader, bus, sharedTier } = this.#options;
      const [events, odds] = await Promise.all([reader.events(eventIds), reader.eventOdds(eventIds)]);
      // Never fails: with Redis away the write is skipped, and gateways read the odds from the database.
      await sharedTier?.setMany([...odds.values()].map((value) => ({ key: cacheKey('EventOdds', value.eventId), value, ageMs: 0 })));
      const publishedAt = this.#now();
      await bus.publish({ publishedAt, events: [...events.values()], odds: [...odds.values()], changed, eventsChanged });
      this.#observeLag(publishedAt, odds, changed);
    } catch (error) {
      this.#logger.warn({ changes: changed.length, err: error }, 'committed changes not published yet, retrying next cycle');
      return 0;
    }
    this.#unpublished.clear();
    this.#unpublishedEvents.clear();
    return changed.length;
  }

  /** Capture-to-publish lag of each changed (event, bookmaker)'s published snapshot. */
  #observeLag(publishedAt: number, odds: Map<number, EventOddsRecord>, changed: Array<{ eventId: number; bookmakerId: number }>): void {
    const metrics = this.#options.metrics;
    if (!metrics) return;
    for (const { eventId, bookmakerId } of changed) {
      const snapshot = odds.get(eventId)?.snapshots.find((s) => s.bookmakerId === bookmakerId);
      if (snapshot) metrics.ingestLag(Math.max(0, publishedAt - Date.parse(snapshot.capturedAt)) / 1000);
    }
  }

  /**
   * Learns the database ids of the records' events and bookmakers. An
   * event the database does not know is created when its record carries a
   * fixture (a feed announcing a new event).
   */
  async #resolveIds(records: FeedRecord[]): Promise<Resolved> {
    const whyUnknown = new Map<string, string>();
    const prisma = this.#options.prisma;
    const events = [...new Set(records.map((r) => r.event))].filter((id) => !this.#eventIds.has(id));
    const bookmakers = [...new Set(records.flatMap((r) => ('bookmaker' in r ? [r.bookmaker] : [])))].filter(
      (key) => !this.#bookmakerIds.has(key),
    );
    if (bookmakers.length > 0) {
      const rows = await prisma.bookmaker.findMany({ where: { key: { in: bookmakers } }, select: { id: true, key: true } });
      for (const row of rows) this.#bookmakerIds.set(row.key, row.id);
    }
    if (events.length === 0) return { created: 0, whyUnknown };
    const findEvents = async (externalIds: string[]) => {
      const rows = await prisma.event.findMany({ where: { externalId: { in: externalIds } }, select: { id: true, externalId: true } });
      for (const row of rows) this.#eventIds.set(row.externalId, row.id);
    };
    await findEvents(events);
    const fixtures = new Map<string, NonNullable<FeedRecord['fixture']>>();
    for (const record of records) {
      if (record.fixture && !this.#eventIds.has(record.event)) fixtures.set(record.event, record.fixture);
    }
    if (fixtures.size === 0) return { created: 0, whyUnknown };
    const competitionKeys = [...new Set([...fixtures.values()].map((f) => f.competition))];
    const competitions = new Map(
      (await prisma.competition.findMany({ where: { key: { in: competitionKeys } }, select: { id: true, key: true, sportId: true } })).map(
        (c) => [c.key, c],
      ),
    );
    const data = [];
    for (const [externalId, fixture] of fixtures) {
      const competition = competitions.get(fixture.competition);
      if (!competition) {
        whyUnknown.set(externalId, `fixture.competition: unknown competition ${JSON.stringify(fixture.competition)}`);
        continue;
      }
      const { home, away, kickoffAt } = fixture;
      data.push({ externalId, sportId: competition.sportId, competitionId: competition.id, home, away, kickoffAt });
    }
    // Another worker may create the same event at the same moment: the unique external id keeps one.
    const created = await prisma.event.createMany({ data, skipDuplicates: true });
    await findEvents(data.map((d) => d.externalId));
    return { created: created.count, whyUnknown };
  }
}
