import { LRUCache } from 'lru-cache';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { RowQuery } from './database.js';
import { readShapes, shapeOf, storedColumns, type StoredRow } from './market-shapes.js';
import type { LogBatch, LogEntry, LoggedOddsChange, LogPlace } from '../domain/change-log.js';
import { seenBy } from '../domain/change-log.js';
import type { EventQuery } from '../domain/event-query.js';
import type { ShapeMarket, StoredPrices } from '../domain/stored-odds.js';
import { historicSnapshotId, latestOddsId } from '../domain/odds-ids.js';
import {
  deepFreeze,
  eventOddsRecord,
  eventRecord,
  recordShape,
  storedSnapshotRecord,
  type BookmakerRecord,
  type CompetitionRecord,
  type EventOddsRecord,
  type EventPage,
  type EventRecord,
  type RecordShape,
  type SnapshotRecord,
  type SportRecord,
} from '../domain/records.js';

/**
 * Batched reads: each function is one round of queries for any number of
 * ids, so a loader batch costs the same statements for 10 keys as for 500.
 * Results are maps by id; a missing id is simply absent.
 */
export class OddsReader {
  /** Market shapes by digest, prepared for records: a digest names one content for good, so they are kept, not refreshed. */
  readonly #shapes = new LRUCache<string, RecordShape>({ max: 10_000 });

  constructor(
    private readonly prisma: PrismaClient,
    /** The clock that says which history is recent (epoch ms). */
    private readonly now: () => number = Date.now,
    /**
     * Runs the statements that return odds documents: the database's own driver (`Database.query`) decodes
     * their rows for about half the CPU of Prisma's raw queries; by default Prisma's.
     */
    private readonly documents: RowQuery = (sql, params = []) => prisma.$queryRawUnsafe(sql, ...params),
  ) {}

  // Reference data and events are read with the driver, as documents are: a Prisma findMany cost the gateway
  // about 0.5 ms of CPU against 0.1 ms, and without the shared cache (CACHE=off) every answer reads them.

  async sports(ids?: readonly number[]): Promise<Map<number, SportRecord>> {
    const rows = await this.#byIds<SportRecord>('id, key, name FROM sport', ids);
    return byId(rows.map((row) => deepFreeze({ id: row.id, key: row.key, name: row.name })));
  }

  async competitions(ids?: readonly number[]): Promise<Map<number, CompetitionRecord>> {
    const rows = await this.#byIds<CompetitionRecord>('id, sport_id AS "sportId", key, name, country FROM competition', ids);
    return byId(rows.map((row) => deepFreeze({ ...row })));
  }

  async bookmakers(ids?: readonly number[]): Promise<Map<number, BookmakerRecord>> {
    const rows = await this.#byIds<BookmakerRecord>('id, key, name FROM bookmaker', ids);
    return byId(rows.map((row) => deepFreeze({ id: row.id, key: row.key, name: row.name })));
  }

  async events(ids: readonly number[]): Promise<Map<number, EventRecord>> {
    const rows = await this.documents<EventRow>(`SELECT ${eventColumns} FROM event WHERE id = ANY($1::int[])`, [[...ids]]);
    return byId(rows.map(eventRecord));
  }

  /** Events kicking off at or after `from`, in kick-off order: the board's warm-up. */
  async eventsFrom(from: Date): Promise<EventRecord[]> {
    const rows = await this.documents<EventRow>(`SELECT ${eventColumns} FROM event WHERE kickoff_at >= $1::timestamptz ORDER BY kickoff_at, id`, [
      from.toISOString(),
    ]);
    return rows.map(eventRecord);
  }

  /** `SELECT <selection>` of these ids (all rows without), in id order. */
  #byIds<Row>(selection: string, ids: readonly number[] | undefined): Promise<Row[]> {
    return ids === undefined
      ? this.documents<Row>(`SELECT ${selection} ORDER BY id`)
      : this.documents<Row>(`SELECT ${selection} WHERE id = ANY($1::int[]) ORDER BY id`, [[...ids]]);
  }

  /**
   * One page of events by keyset on (kickoffAt, id), and how many match in
   * all. A page from the end (`fromEnd`) reads the range backwards and turns
   * it round. Whether events lie beyond the cursor the page started from is
   * not read (a statement more per page): a cursor came from a matching
   * event, so the answer is "yes" when one was given.
   */
  async eventPage(query: EventQuery): Promise<EventPage> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where: string[] = [];
    if (query.sportId !== undefined) where.push(`sport_id = ${param(query.sportId)}`);
    if (query.competitionId !== undefined) where.push(`competition_id = ${param(query.competitionId)}`);
    if (query.statuses) where.push(`status = ANY(${param([...query.statuses])}::"EventStatus"[])`);
    if (query.hasOdds !== undefined) where.push(`${query.hasOdds ? '' : 'NOT '}EXISTS (SELECT 1 FROM latest_odds l WHERE l.event_id = event.id)`);
    if (query.kickoffFrom) where.push(`kickoff_at >= ${param(query.kickoffFrom.toISOString())}::timestamptz`);
    if (query.kickoffTo) where.push(`kickoff_at <= ${param(query.kickoffTo.toISOString())}::timestamptz`);
    const whereClause = (conditions: readonly string[]) => (conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '');
    const countParams = [...params];
    // Keyset bounds on (kickoff_at, id), the index's order.
    const bounds = [
      ...(query.after ? [`(kickoff_at, id) > (${param(new Date(query.after.kickoffAtMs).toISOString())}::timestamptz, ${param(query.after.id)}::int)`] : []),
      ...(query.before ? [`(kickoff_at, id) < (${param(new Date(query.before.kickoffAtMs).toISOString())}::timestamptz, ${param(query.before.id)}::int)`] : []),
    ];
    const order = query.fromEnd ? 'DESC' : 'ASC';
    const [rows, [count]] = await Promise.all([
      this.documents<EventRow>(
        `SELECT ${eventColumns} FROM event ${whereClause([...where, ...bounds])}
         ORDER BY kickoff_at ${order}, id ${order} LIMIT ${param(query.first + 1)}`,
        params,
      ),
      this.documents<{ n: number }>(`SELECT count(*)::int AS n FROM event ${whereClause(where)}`, countParams),
    ]);
    const page = rows.slice(0, query.first).map(eventRecord);
    const more = rows.length > query.first;
    if (query.fromEnd) page.reverse();
    return {
      events: page,
      hasNextPage: query.fromEnd ? query.before !== undefined : more,
      hasPreviousPage: query.fromEnd ? more : query.after !== undefined,
      totalCount: count!.n,
    };
  }

  /** The latest snapshot of every bookmaker for each event; every id gets a record, empty if it has no odds. */
  async eventOdds(eventIds: readonly number[]): Promise<Map<number, EventOddsRecord>> {
    // One primary-key range per event: the latest odds hold their own document.
    const rows = await this.documents<SnapshotRow>(
      `SELECT snapshot_id AS id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${storedColumns}
       FROM latest_odds WHERE event_id = ANY($1::int[])`,
      [[...eventIds]],
    );
    const shapes = await this.#shapesOf(rows);
    const snapshotsByEvent = new Map<number, SnapshotRecord[]>(eventIds.map((id) => [id, []]));
    for (const row of rows) snapshotsByEvent.get(row.eventId)!.push(snapshotRecord(row, shapes, latestOddsId(row.eventId, row.bookmakerId)));
    return new Map([...snapshotsByEvent].map(([eventId, snapshots]) => [eventId, eventOddsRecord(eventId, snapshots)]));
  }

  /**
   * One event's snapshots over time, newest first. Most pages lie in the last
   * days, so those are asked first and the planner touches only their day
   * partitions; the older days (a Merge Append over every one of them) only
   * when the page is not full yet.
   */
  async history(query: HistoryQuery): Promise<SnapshotRecord[]> {
    const recentFrom = new Date(this.now() - recentHistoryMs);
    const spansBoth = (!query.since || query.since < recentFrom) && (!query.until || query.until >= recentFrom);
    let rows: SnapshotRow[];
    if (!spansBoth) {
      rows = await this.#historyRows(query);
    } else {
      rows = await this.#historyRows({ ...query, since: recentFrom });
      if (rows.length < query.first) {
        rows = rows.concat(await this.#historyRows({ ...query, before: recentFrom, first: query.first - rows.length }));
      }
    }
    const marketKey = query.marketKey;
    const onlyMarket = marketKey === undefined ? undefined : (market: ShapeMarket) => market.key === marketKey;
    const shapes = await this.#shapesOf(rows);
    return rows.map((row) => snapshotRecord(row, shapes, historicSnapshotId(row.id), onlyMarket));
  }

  /**
   * The change log after a place, in position order: at most `limit`
   * positions, each with its moved odds' snapshots (only those `keep`
   * accepts), and the current records of the events they touch. `more`: the
   * log goes on beyond them.
   */
  async changesAfter(place: LogPlace, { limit = 1_000, keep, keepEvent }: LogReadOptions = {}): Promise<LogBatch & { more: boolean }> {
    const rows = await this.prisma.changeLog.findMany({
      where: { position: place.index === undefined ? { gt: place.position } : { gte: place.position } },
      orderBy: { position: 'asc' },
      take: limit + 1,
      select: { position: true, changes: true, eventIds: true },
    });
    const page = rows.slice(0, limit).map((row) => (keepEvent ? { ...row, eventIds: row.eventIds.filter(keepEvent) } : row));
    const batch = await this.#logBatch(page, (change, position, index) => !seenBy(place, position, index) && (!keep || keep(change)));
    return { ...batch, more: rows.length > limit };
  }

  /** The log's entries at these positions (absent positions are skipped), in position order. */
  async changesAt(positions: readonly bigint[]): Promise<LogBatch> {
    const rows = await this.prisma.changeLog.findMany({
      where: { position: { in: [...positions] } },
      orderBy: { position: 'asc' },
      select: { position: true, changes: true, eventIds: true },
    });
    return this.#logBatch(rows, () => true);
  }

  /** The first and last positions the log holds (both null while it is empty). */
  async logBounds(): Promise<{ oldest: bigint | null; newest: bigint | null }> {
    const { _min, _max } = await this.prisma.changeLog.aggregate({ _min: { position: true }, _max: { position: true } });
    return { oldest: _min.position, newest: _max.position };
  }

  async #logBatch(
    rows: Array<{ position: bigint; changes: unknown; eventIds: number[] }>,
    keep: (change: LoggedOddsChange, position: bigint, index: number) => boolean,
  ): Promise<LogBatch> {
    const logged = rows.map((row) => ({
      position: row.position,
      changes: (row.changes as LoggedOddsChange[]).flatMap((change, index) => (keep(change, row.position, index) ? [{ ...change, index }] : [])),
      eventIds: row.eventIds,
    }));
    const changes = logged.flatMap((row) => row.changes);
    const eventIds = new Set([...changes.map((c) => c.eventId), ...logged.flatMap((row) => row.eventIds)]);
    const [snapshots, events] = await Promise.all([this.#snapshotsLogged(changes), this.events([...eventIds])]);
    const entries = logged.map(
      (row): LogEntry => ({
        position: String(row.position),
        odds: row.changes.flatMap(({ index, eventId, bookmakerId, snapshotId, changedMarkets }) => {
          const snapshot = snapshots.get(snapshotId);
          return snapshot ? [{ index, eventId, bookmakerId, snapshot, changedMarkets }] : [];
        }),
        eventsChanged: row.eventIds,
      }),
    );
    return deepFreeze({ entries, events: [...events.values()] });
  }

  /** The snapshots logged changes name, as current odds carry them; one history dropped by retention is absent. */
  async #snapshotsLogged(changes: readonly LoggedOddsChange[]): Promise<Map<number, SnapshotRecord>> {
    if (changes.length === 0) return new Map();
    const times = changes.map((c) => Date.parse(c.capturedAt));
    const [from, to] = times.reduce(([min, max], t) => [Math.min(min, t), Math.max(max, t)], [Infinity, -Infinity]);
    // The capture times bound the scan to their day partitions.
    const rows = await this.documents<SnapshotRow>(
      `SELECT id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${storedColumns}
       FROM odds_snapshot WHERE id = ANY($1::int[]) AND captured_at BETWEEN $2::timestamptz AND $3::timestamptz`,
      [changes.map((c) => c.snapshotId), new Date(from).toISOString(), new Date(to).toISOString()],
    );
    const shapes = await this.#shapesOf(rows);
    return new Map(rows.map((row) => [row.id, snapshotRecord(row, shapes, latestOddsId(row.eventId, row.bookmakerId))]));
  }

  /** The shapes these rows name: from memory, the ones not seen yet in one statement. */
  async #shapesOf(rows: readonly SnapshotRow[]): Promise<Map<string, RecordShape>> {
    const shapes = new Map<string, RecordShape>();
    const missing = new Set<string>();
    for (const { shape } of rows) {
      const known = this.#shapes.get(shape);
      if (known) shapes.set(shape, known);
      else missing.add(shape);
    }
    if (missing.size > 0) {
      for (const [digest, markets] of await readShapes(this.documents, missing)) {
        const shape = recordShape(deepFreeze(markets));
        this.#shapes.set(digest, shape);
        shapes.set(digest, shape);
      }
    }
    return shapes;
  }

  async #historyRows(query: HistoryQuery & { before?: Date }): Promise<SnapshotRow[]> {
    // Only the filters given, so the planner prunes the days outside them and
    // walks each day's (event_id, captured_at) index backwards, stopping at the limit.
    const params: unknown[] = [query.eventId];
    const where = ['event_id = $1'];
    const filter = (sql: string, value: unknown, cast = '') => {
      params.push(value);
      where.push(`${sql} $${params.length}${cast}`);
    };
    if (query.bookmakerId !== undefined) filter('bookmaker_id =', query.bookmakerId);
    if (query.since) filter('captured_at >=', query.since.toISOString());
    if (query.until) filter('captured_at <=', query.until.toISOString());
    if (query.before) filter('captured_at <', query.before.toISOString());
    // With a market, only snapshots that hold it: a snapshot without it would come back with no markets.
    if (query.marketKey !== undefined) {
      filter('shape IN (SELECT digest FROM market_shape WHERE markets @>', JSON.stringify([{ key: query.marketKey }]), '::jsonb)');
    }
    params.push(query.first);
    return this.documents<SnapshotRow>(
      `SELECT id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${storedColumns}
       FROM odds_snapshot WHERE ${where.join(' AND ')}
       ORDER BY captured_at DESC, bookmaker_id
       LIMIT $${params.length}`,
      params,
    );
  }
}

// History asked for first: today's and yesterday's day partitions, and a little of the day before.
const recentHistoryMs = 2 * 86_400_000;

export interface LogReadOptions {
  /** Positions read at most (default 1,000). */
  limit?: number;
  /** Only the changes this accepts get their snapshots read and returned. */
  keep?: (change: LoggedOddsChange) => boolean;
  /** Only the events this accepts are read and named as changed (default: all). */
  keepEvent?: (eventId: number) => boolean;
}

export interface HistoryQuery {
  eventId: number;
  bookmakerId?: number | undefined;
  marketKey?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  first: number;
}

interface SnapshotRow extends StoredRow {
  id: number;
  eventId: number;
  bookmakerId: number;
}

/** `nodeId`: the client's id, the (event, bookmaker)'s for current odds, the snapshot's own in history. */
function snapshotRecord(
  row: SnapshotRow,
  shapes: ReadonlyMap<string, RecordShape>,
  nodeId: string,
  keep?: (market: ShapeMarket) => boolean,
): SnapshotRecord {
  return storedSnapshotRecord(row, nodeId, shapeOf(shapes, row.shape, `snapshot ${row.id}`), JSON.parse(row.prices) as StoredPrices, keep);
}

const eventColumns = `id, external_id AS "externalId", sport_id AS "sportId", competition_id AS "competitionId", home, away,
  kickoff_at AS "kickoffAt", status::text AS status, score_home AS "scoreHome", score_away AS "scoreAway",
  clock_period AS "clockPeriod", clock_minute AS "clockMinute"`;

type EventRow = Parameters<typeof eventRecord>[0];

function byId<T extends { id: number }>(records: T[]): Map<number, T> {
  return new Map(records.map((record) => [record.id, record]));
}
