import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventPosition, EventQuery } from '../domain/event-query.js';
import type { MovedMarket } from '../domain/movement.js';
import { historicSnapshotId, latestOddsId } from '../domain/odds-ids.js';
import {
  deepFreeze,
  eventOddsRecord,
  eventRecord,
  marketRecords,
  type BookmakerRecord,
  type CompetitionRecord,
  type EventOddsRecord,
  type EventPage,
  type EventRecord,
  type SnapshotRecord,
  type SportRecord,
} from '../domain/records.js';

/**
 * Batched reads: each function is one round of queries for any number of
 * ids, so a loader batch costs the same statements for 10 keys as for 500.
 * Results are maps by id; a missing id is simply absent.
 */
export class OddsReader {
  constructor(
    private readonly prisma: PrismaClient,
    /** The clock that says which history is recent (epoch ms). */
    private readonly now: () => number = Date.now,
  ) {}

  async sports(ids?: readonly number[]): Promise<Map<number, SportRecord>> {
    const rows = await this.prisma.sport.findMany({ where: ids && { id: { in: [...ids] } }, orderBy: { id: 'asc' } });
    return byId(rows.map((row) => deepFreeze({ id: row.id, key: row.key, name: row.name })));
  }

  async competitions(ids?: readonly number[]): Promise<Map<number, CompetitionRecord>> {
    const rows = await this.prisma.competition.findMany({
      where: ids && { id: { in: [...ids] } },
      orderBy: { id: 'asc' },
    });
    return byId(rows.map((row) => deepFreeze({ ...row })));
  }

  async bookmakers(ids?: readonly number[]): Promise<Map<number, BookmakerRecord>> {
    const rows = await this.prisma.bookmaker.findMany({ where: ids && { id: { in: [...ids] } }, orderBy: { id: 'asc' } });
    return byId(rows.map((row) => deepFreeze({ id: row.id, key: row.key, name: row.name })));
  }

  async events(ids: readonly number[]): Promise<Map<number, EventRecord>> {
    const rows = await this.prisma.event.findMany({ where: { id: { in: [...ids] } } });
    return byId(rows.map(eventRecord));
  }

  /** Events kicking off at or after `from`, in kick-off order: the board's warm-up. */
  async eventsFrom(from: Date): Promise<EventRecord[]> {
    const rows = await this.prisma.event.findMany({
      where: { kickoffAt: { gte: from } },
      orderBy: [{ kickoffAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(eventRecord);
  }

  /**
   * One page of events by keyset on (kickoffAt, id), and how many match in
   * all. A page from the end (`fromEnd`) reads the range backwards and turns
   * it round. Whether events lie beyond the cursor the page started from is
   * not read (a statement more per page): a cursor came from a matching
   * event, so the answer is "yes" when one was given.
   */
  async eventPage(query: EventQuery): Promise<EventPage> {
    const where = {
      ...(query.sportId !== undefined && { sportId: query.sportId }),
      ...(query.competitionId !== undefined && { competitionId: query.competitionId }),
      ...(query.statuses && { status: { in: [...query.statuses] } }),
      ...(query.hasOdds !== undefined && { latestOdds: query.hasOdds ? { some: {} } : { none: {} } }),
      kickoffAt: {
        ...(query.kickoffFrom && { gte: query.kickoffFrom }),
        ...(query.kickoffTo && { lte: query.kickoffTo }),
      },
    };
    const bounds = [
      ...(query.after ? [beyond(query.after, 'gt')] : []),
      ...(query.before ? [beyond(query.before, 'lt')] : []),
    ];
    const order = query.fromEnd ? 'desc' : 'asc';
    const [rows, totalCount] = await Promise.all([
      this.prisma.event.findMany({
        where: bounds.length > 0 ? { AND: [where, ...bounds] } : where,
        orderBy: [{ kickoffAt: order }, { id: order }],
        take: query.first + 1,
      }),
      this.prisma.event.count({ where }),
    ]);
    const page = rows.slice(0, query.first).map(eventRecord);
    const more = rows.length > query.first;
    if (query.fromEnd) page.reverse();
    return {
      events: page,
      hasNextPage: query.fromEnd ? query.before !== undefined : more,
      hasPreviousPage: query.fromEnd ? more : query.after !== undefined,
      totalCount,
    };
  }

  /** The latest snapshot of every bookmaker for each event; every id gets a record, empty if it has no odds. */
  async eventOdds(eventIds: readonly number[]): Promise<Map<number, EventOddsRecord>> {
    // One primary-key range per event: the latest odds hold their own document.
    const rows = await this.prisma.$queryRawUnsafe<SnapshotRow[]>(
      `SELECT snapshot_id AS id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${marketsAsText}
       FROM latest_odds WHERE event_id = ANY($1::int[])`,
      [...eventIds],
    );
    const snapshotsByEvent = new Map<number, SnapshotRecord[]>(eventIds.map((id) => [id, []]));
    for (const row of rows) snapshotsByEvent.get(row.eventId)!.push(snapshotRecord(row, latestOddsId(row.eventId, row.bookmakerId)));
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
    const onlyMarket = marketKey === undefined ? undefined : (market: MovedMarket) => market.key === marketKey;
    return rows.map((row) => snapshotRecord(row, historicSnapshotId(row.id), onlyMarket));
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
    if (query.marketKey !== undefined) filter('markets @>', JSON.stringify([{ key: query.marketKey }]), '::jsonb');
    params.push(query.first);
    return this.prisma.$queryRawUnsafe<SnapshotRow[]>(
      `SELECT id, event_id AS "eventId", bookmaker_id AS "bookmakerId", captured_at AS "capturedAt", ${marketsAsText}
       FROM odds_snapshot WHERE ${where.join(' AND ')}
       ORDER BY captured_at DESC, bookmaker_id
       LIMIT $${params.length}`,
      ...params,
    );
  }
}

// History asked for first: today's and yesterday's day partitions, and a little of the day before.
const recentHistoryMs = 2 * 86_400_000;

export interface HistoryQuery {
  eventId: number;
  bookmakerId?: number | undefined;
  marketKey?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  first: number;
}

interface SnapshotRow {
  id: number;
  eventId: number;
  bookmakerId: number;
  capturedAt: Date | string;
  /** The `MovedMarket[]` document as JSON text. */
  markets: string;
}

// Parsed here rather than by the driver adapter: a third faster for a board of documents.
const marketsAsText = 'markets::text AS markets';

/** `nodeId`: the client's id, the (event, bookmaker)'s for current odds, the snapshot's own in history. */
function snapshotRecord(row: SnapshotRow, nodeId: string, keep?: (market: MovedMarket) => boolean): SnapshotRecord {
  const markets = JSON.parse(row.markets) as MovedMarket[];
  return deepFreeze({
    id: row.id,
    nodeId,
    eventId: row.eventId,
    bookmakerId: row.bookmakerId,
    capturedAt: new Date(row.capturedAt).toISOString(),
    markets: marketRecords(nodeId, keep ? markets.filter(keep) : markets),
  });
}

/** Events after (`gt`) or before (`lt`) a position in (kickoffAt, id) order. */
function beyond(position: EventPosition, direction: 'gt' | 'lt') {
  const at = new Date(position.kickoffAtMs);
  return { OR: [{ kickoffAt: { [direction]: at } }, { kickoffAt: at, id: { [direction]: position.id } }] };
}

function byId<T extends { id: number }>(records: T[]): Map<number, T> {
  return new Map(records.map((record) => [record.id, record]));
}
