import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventQuery } from '../domain/event-query.js';
import type { MovedMarket } from '../domain/movement.js';
import {
  deepFreeze,
  eventOddsRecord,
  eventRecord,
  marketRecords,
  type BookmakerRecord,
  type CompetitionRecord,
  type EventOddsRecord,
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

  /** One page of events by keyset on (kickoffAt, id), and how many match in all. */
  async eventPage(query: DatabaseEventQuery): Promise<{ events: EventRecord[]; hasNextPage: boolean; totalCount: number }> {
    const where = {
      ...(query.sportKey !== undefined && { sport: { key: query.sportKey } }),
      ...(query.competitionId !== undefined && { competitionId: query.competitionId }),
      ...(query.statuses && { status: { in: [...query.statuses] } }),
      ...(query.hasOdds !== undefined && { latestOdds: query.hasOdds ? { some: {} } : { none: {} } }),
      kickoffAt: {
        ...(query.kickoffFrom && { gte: query.kickoffFrom }),
        ...(query.kickoffTo && { lte: query.kickoffTo }),
      },
    };
    const after = query.after;
    const [rows, totalCount] = await Promise.all([
      this.prisma.event.findMany({
        where: after
          ? {
              AND: [
                where,
                {
                  OR: [
                    { kickoffAt: { gt: new Date(after.kickoffAtMs) } },
                    { kickoffAt: new Date(after.kickoffAtMs), id: { gt: after.id } },
                  ],
                },
              ],
            }
          : where,
        orderBy: [{ kickoffAt: 'asc' }, { id: 'asc' }],
        take: query.first + 1,
      }),
      this.prisma.event.count({ where }),
    ]);
    return {
      events: rows.slice(0, query.first).map(eventRecord),
      hasNextPage: rows.length > query.first,
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
    for (const row of rows) snapshotsByEvent.get(row.eventId)!.push(snapshotRecord(row));
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
    return rows.map((row) => snapshotRecord(row, marketKey === undefined ? undefined : (market) => market.key === marketKey));
  }

  async #historyRows(query: HistoryQuery & { before?: Date }): Promise<SnapshotRow[]> {
    // Only the filters given, so the planner prunes the days outside them and
    // walks each day's (event_id, captured_at) index backwards, stopping at the limit.
    const params: unknown[] = [query.eventId];
    const where = ['event_id = $1'];
    const filter = (sql: string, value: unknown) => {
      params.push(value);
      where.push(`${sql} $${params.length}`);
    };
    if (query.bookmakerId !== undefined) filter('bookmaker_id =', query.bookmakerId);
    if (query.since) filter('captured_at >=', query.since.toISOString());
    if (query.until) filter('captured_at <=', query.until.toISOString());
    if (query.before) filter('captured_at <', query.before.toISOString());
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

/** The database knows sports by key (a join). */
export interface DatabaseEventQuery extends EventQuery {
  sportKey?: string | undefined;
}

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

function snapshotRecord(row: SnapshotRow, keep?: (market: MovedMarket) => boolean): SnapshotRecord {
  const markets = JSON.parse(row.markets) as MovedMarket[];
  return deepFreeze({
    id: row.id,
    eventId: row.eventId,
    bookmakerId: row.bookmakerId,
    capturedAt: new Date(row.capturedAt).toISOString(),
    markets: marketRecords(keep ? markets.filter(keep) : markets),
  });
}

function byId<T extends { id: number }>(records: T[]): Map<number, T> {
  return new Map(records.map((record) => [record.id, record]));
}
