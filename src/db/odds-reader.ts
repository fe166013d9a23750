import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventPosition, EventQuery } from '../domain/event-query.js';
import type { MarketStatus, OutcomeResult } from '../generated/prisma/enums.js';
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
import { historicSnapshotId, latestOddsId } from '../domain/odds-ids.js';

/**
 * Batched reads: each function is one round of queries for any number of
 * ids, so a loader batch costs the same statements for 10 keys as for 500.
 * Results are maps by id; a missing id is simply absent.
 */
export class OddsReader {
  constructor(private readonly prisma: PrismaClient) {}

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
    const latest = await this.prisma.$queryRawUnsafe<SnapshotRow[]>(
      `SELECT s.id, s.event_id AS "eventId", s.bookmaker_id AS "bookmakerId", s.captured_at AS "capturedAt",
              prev.id AS "previousId"
       FROM latest_odds l
       JOIN odds_snapshot s ON s.id = l.snapshot_id
       ${previousSnapshotJoin}
       WHERE l.event_id = ANY($1::int[])`,
      [...eventIds],
    );
    const snapshotsByEvent = new Map<number, SnapshotRecord[]>(eventIds.map((id) => [id, []]));
    for (const snapshot of await this.#withMarkets(latest, { latest: true })) snapshotsByEvent.get(snapshot.eventId)!.push(snapshot);
    return new Map([...snapshotsByEvent].map(([eventId, snapshots]) => [eventId, eventOddsRecord(eventId, snapshots)]));
  }

  /** One event's snapshots over time, newest first. */
  async history(query: HistoryQuery): Promise<SnapshotRecord[]> {
    const rows = await this.prisma.$queryRawUnsafe<SnapshotRow[]>(
      `SELECT s.id, s.event_id AS "eventId", s.bookmaker_id AS "bookmakerId", s.captured_at AS "capturedAt",
              prev.id AS "previousId"
       FROM odds_snapshot s
       ${previousSnapshotJoin}
       WHERE s.event_id = $1
         AND ($2::int IS NULL OR s.bookmaker_id = $2)
         AND ($3::timestamptz IS NULL OR s.captured_at >= $3)
         AND ($4::timestamptz IS NULL OR s.captured_at <= $4)
         -- With a market, only snapshots that hold it: a snapshot without it would come back with no markets.
         AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM market m WHERE m.snapshot_id = s.id AND m.key = $6))
       ORDER BY s.captured_at DESC, s.bookmaker_id
       LIMIT $5`,
      query.eventId,
      query.bookmakerId ?? null,
      query.since?.toISOString() ?? null,
      query.until?.toISOString() ?? null,
      query.first,
      query.marketKey ?? null,
    );
    return this.#withMarkets(rows, { latest: false, marketKey: query.marketKey });
  }

  /**
   * Fills snapshots with markets and outcomes (and previous prices) in one query.
   * `latest`: they are their (event, bookmaker)'s current odds, and take its client id.
   */
  async #withMarkets(rows: readonly SnapshotRow[], { latest, marketKey }: { latest: boolean; marketKey?: string | undefined }): Promise<SnapshotRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.flatMap((row) => (row.previousId === null ? [row.id] : [row.id, row.previousId]));
    // One joined statement with an array parameter: Prisma's `include` would
    // send one bind parameter per id and hit PostgreSQL's limit on a warm-up batch.
    const outcomeRows = await this.prisma.$queryRawUnsafe<OutcomeRow[]>(
      `SELECT m.snapshot_id AS "snapshotId", m.id AS "marketId", m.key AS "marketKey", m.name AS "marketName",
              m.line, m.status, o.key, o.name, o.price, o.result
       FROM market m JOIN outcome o ON o.market_id = m.id
       WHERE m.snapshot_id = ANY($1::int[]) AND ($2::text IS NULL OR m.key = $2)
       ORDER BY m.snapshot_id, m.id, o.id`,
      ids,
      marketKey ?? null,
    );
    const marketsBySnapshot = new Map<number, PlainMarket[]>();
    let market: PlainMarket | undefined;
    let marketId = -1;
    for (const row of outcomeRows) {
      if (row.marketId !== marketId) {
        marketId = row.marketId;
        const line = row.line === null ? null : Number(row.line);
        market = { key: row.marketKey, name: row.marketName, line, status: row.status, outcomes: [] };
        const list = marketsBySnapshot.get(row.snapshotId);
        if (list) list.push(market);
        else marketsBySnapshot.set(row.snapshotId, [market]);
      }
      market!.outcomes.push({ key: row.key, name: row.name, price: Number(row.price), result: row.result });
    }
    return rows.map((row) => {
      const nodeId = latest ? latestOddsId(row.eventId, row.bookmakerId) : historicSnapshotId(row.id);
      return deepFreeze({
        id: row.id,
        nodeId,
        eventId: row.eventId,
        bookmakerId: row.bookmakerId,
        capturedAt: new Date(row.capturedAt).toISOString(),
        markets: marketRecords(
          nodeId,
          marketsBySnapshot.get(row.id) ?? [],
          row.previousId === null ? undefined : marketsBySnapshot.get(row.previousId),
        ),
      });
    });
  }
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
  previousId: number | null;
}

interface OutcomeRow {
  snapshotId: number;
  marketId: number;
  marketKey: string;
  marketName: string;
  /** numeric: a string or Decimal, depending on the driver. */
  line: unknown;
  status: MarketStatus;
  key: string;
  name: string;
  price: unknown;
  result: OutcomeResult | null;
}

interface PlainMarket {
  key: string;
  name: string;
  line: number | null;
  status: MarketStatus;
  outcomes: Array<{ key: string; name: string; price: number; result: OutcomeResult | null }>;
}

// The same bookmaker's snapshot just before, for `previousPrice`: one probe of
// the (event, bookmaker, captured_at) unique index per snapshot.
const previousSnapshotJoin = `
  LEFT JOIN LATERAL (
    SELECT p.id FROM odds_snapshot p
    WHERE p.event_id = s.event_id AND p.bookmaker_id = s.bookmaker_id AND p.captured_at < s.captured_at
    ORDER BY p.captured_at DESC LIMIT 1
  ) prev ON true`;

/** Events after (`gt`) or before (`lt`) a position in (kickoffAt, id) order. */
function beyond(position: EventPosition, direction: 'gt' | 'lt') {
  const at = new Date(position.kickoffAtMs);
  return { OR: [{ kickoffAt: { [direction]: at } }, { kickoffAt: at, id: { [direction]: position.id } }] };
}

function byId<T extends { id: number }>(records: T[]): Map<number, T> {
  return new Map(records.map((record) => [record.id, record]));
}
