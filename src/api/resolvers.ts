import { boardWindowMs } from '../read/board-index.js';
import type { EventQuery } from '../domain/event-query.js';
import type { EventPage, EventRecord } from '../domain/records.js';
import type { EventFilter, Resolvers, SubscriptionEventUpdatesArgs, SubscriptionOddsUpdatedArgs } from '../generated/graphql.js';
import type { EventUpdateMessage, OddsSubscription, OddsUpdateMessage } from '../live/pubsub.js';
import type { Subscription } from '../live/subscription.js';
import type { GraphQLContext } from './context.js';
import { inBatches } from '../live/batches.js';
import type { LogReader } from '../live/recent-changes.js';
import { CursorExpiredError, resumeEvents, resumeOdds } from '../live/resume.js';
import { decodeCursor, decodeLogCursor, encodeCursor, encodeLogCursor } from './cursor.js';
import { apiError, badUserInput, ErrorCode, nullIfNotFound } from './errors.js';
import { andThen, type MaybePromise } from './maybe-promise.js';
import { DateTime } from './scalars.js';

/** A subscription that cannot go on (src/live/resume.ts) as the API's `CURSOR_EXPIRED`; anything else as it is. */
function throwAsApiError(error: unknown): never {
  throw error instanceof CursorExpiredError ? apiError(ErrorCode.CURSOR_EXPIRED, error.message) : error;
}

/** The subscription, its errors as the API's. */
function withApiErrors<T>(subscription: AsyncIterableIterator<T> & { return(): Promise<IteratorResult<T>> }): AsyncIterableIterator<T> {
  return {
    next: () => subscription.next().catch(throwAsApiError),
    return: () => subscription.return(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** `oddsUpdated`'s and `oddsUpdatedBatch`'s subscription: live, or resumed after `after`. */
async function subscribeOdds(
  { eventIds, bookmakers, markets, after }: SubscriptionOddsUpdatedArgs,
  context: GraphQLContext,
  batched: boolean,
): Promise<OddsSubscription> {
  const { pubsub, loaders } = context;
  const place = after == null ? undefined : decodeLogCursor(after);
  const bookmakerIds = bookmakers == null ? undefined : await bookmakerIdsByKeys(loaders, bookmakers);
  const options = { eventIds: eventIdSet(eventIds), bookmakerIds, marketKeys: markets == null ? undefined : new Set(markets), batched };
  return place ? await resumeOdds(pubsub, replayReader(context), { ...options, after: place }).catch(throwAsApiError) : pubsub.subscribe(options);
}

/** `eventUpdates`' and `eventUpdated`'s subscription: live, or resumed after `after`. */
async function subscribeEvents({ eventIds, after }: SubscriptionEventUpdatesArgs, context: GraphQLContext): Promise<Subscription<EventUpdateMessage>> {
  const place = after == null ? undefined : decodeLogCursor(after);
  const options = { eventIds: eventIdSet(eventIds) };
  return place ? await resumeEvents(context.pubsub, replayReader(context), { ...options, after: place }).catch(throwAsApiError) : context.pubsub.subscribeEvents(options);
}

/** Where a resumed subscription replays from: the gateway's window of recent changes where it holds the place, else the database. */
function replayReader({ reader, recentChanges }: GraphQLContext): LogReader {
  return recentChanges?.over(reader) ?? reader;
}

/** The largest page `events` and `oddsHistory` return. */
export const maxPageSize = 200;

/**
 * Types whose resolvers read nothing but their parent, their arguments and the request's loaders, through
 * `get` or `peek` (which the loaders' journal sees): spliced execution reuses such a part's JSON while every
 * record it read is still the one the request reads (src/api/spliced-execution.ts). A field of these types
 * that read anything else (the context's board, reader or log position, the clock) would be answered stale.
 */
export const typesResolvedFromLoaders: ReadonlySet<string> = new Set(['Event', 'Competition', 'OddsSnapshot', 'BestPrice']);

// Resolvers stay thin: arguments are checked here, data comes through the loaders.
export const resolvers: Resolvers = {
  DateTime,
  Query: {
    events: (_, { filter, ...page }, context) => eventsPage(context, filter ?? {}, pageRequest(page)),
    event: (_, { id }, { loaders }) => {
      const eventId = parseId(id);
      return eventId === undefined ? null : (loaders.event.peek(eventId) ?? nullIfNotFound(loaders.event.load(eventId)));
    },
    sports: (_, __, { loaders }) => loaders.sports(),
    bookmakers: (_, __, { loaders }) => loaders.bookmakers(),
    competitions: async (_, { sport }, { loaders }) => {
      const competitions = await loaders.competitions();
      if (sport == null) return competitions;
      const sportRecord = byKeyOrId(await loaders.sports(), sport);
      return sportRecord ? competitions.filter((c) => c.sportId === sportRecord.id) : [];
    },
    oddsCursor: (_, __, { logPosition, reads }) => {
      // The answer names the moment it was computed: not one to serve again from the response cache.
      if (reads) reads.uncacheable = true;
      return encodeLogCursor({ position: logPosition });
    },
    oddsHistory: async (_, args, { loaders, reader }) => {
      const first = checkPageSize('first', args.first ?? 100);
      checkRange('since', args.since, 'until', args.until);
      const eventId = parseId(args.eventId);
      if (eventId === undefined) return [];
      let bookmakerId: number | undefined;
      if (args.bookmaker != null) {
        bookmakerId = (await loaders.bookmakers()).find((b) => b.key === args.bookmaker)?.id;
        if (bookmakerId === undefined) return [];
      }
      return reader.history({
        eventId,
        bookmakerId,
        marketKey: args.market ?? undefined,
        since: args.since ?? undefined,
        until: args.until ?? undefined,
        first,
      });
    },
  },
  Subscription: {
    oddsUpdated: {
      subscribe: async (_, args, context) => withApiErrors(await subscribeOdds(args, context, false)),
      resolve: (message: OddsUpdateMessage) => message,
    },
    oddsUpdatedBatch: {
      subscribe: async (_, args, context) => withApiErrors(inBatches(await subscribeOdds(args, context, true))),
      resolve: (batch: OddsUpdateMessage[]) => batch,
    },
    eventUpdates: {
      subscribe: async (_, args, context) => withApiErrors(await subscribeEvents(args, context)),
      resolve: (message: EventUpdateMessage) => message,
    },
    eventUpdated: {
      subscribe: async (_, { eventIds }, context) => withApiErrors(await subscribeEvents({ eventIds }, context)),
      resolve: (message: EventUpdateMessage) => message.event,
    },
  },
  OddsUpdate: {
    event: (update, _, { loaders }) => loaders.event.get(update.eventId),
    snapshot: (update) => update.snapshot,
    cursor: (update) => encodeLogCursor(update.place),
  },
  EventUpdate: {
    event: (update) => update.event,
    cursor: (update) => encodeLogCursor(update.place),
  },
  EventConnection: {
    edges: (page) => page.events.map((node) => ({ cursor: encodeCursor(node), node })),
    nodes: (page) => page.events,
    pageInfo: (page) => ({
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.events.length > 0 ? encodeCursor(page.events[0]!) : null,
      endCursor: page.events.length > 0 ? encodeCursor(page.events[page.events.length - 1]!) : null,
    }),
    totalCount: (page) => page.totalCount,
  },
  Competition: {
    sport: (competition, _, { loaders }) => loaders.sport.get(competition.sportId),
  },
  Event: {
    // Reads chained with `andThen`, not awaited: what the cache holds is answered without a promise.
    sport: (event, _, { loaders }) => loaders.sport.get(event.sportId),
    competition: (event, _, { loaders }) => loaders.competition.get(event.competitionId),
    odds: (event, { bookmakers }, { loaders }) =>
      andThen(loaders.eventOdds.get(event.id), ({ snapshots }) =>
        bookmakers == null ? snapshots : andThen(bookmakerIdsByKeys(loaders, bookmakers), (ids) => snapshots.filter((s) => ids.has(s.bookmakerId))),
      ),
    bestPrices: (event, { market }, { loaders }) =>
      andThen(loaders.eventOdds.get(event.id), ({ bestPrices }) => (market == null ? bestPrices : bestPrices.filter((best) => best.market === market))),
  },
  OddsSnapshot: {
    id: (snapshot) => snapshot.nodeId,
    snapshotId: (snapshot) => String(snapshot.id),
    bookmaker: (snapshot, _, { loaders }) => loaders.bookmaker.get(snapshot.bookmakerId),
    markets: (snapshot, { keys }) => (keys == null ? snapshot.markets : snapshot.markets.filter((m) => keys.includes(m.key))),
  },
  BestPrice: {
    bookmaker: (best, _, { loaders }) => loaders.bookmaker.get(best.bookmakerId),
  },
};

/** Ids that name no event are dropped: they would match nothing anyway. */
function eventIdSet(eventIds: readonly string[] | null | undefined): Set<number> | undefined {
  return eventIds == null ? undefined : new Set(eventIds.map(parseId).filter((id) => id !== undefined));
}

function bookmakerIdsByKeys(loaders: GraphQLContext['loaders'], keys: readonly string[]): MaybePromise<Set<number>> {
  return andThen(loaders.bookmakers(), (bookmakers) => new Set(bookmakers.filter((b) => keys.includes(b.key)).map((b) => b.id)));
}

/** Where a page starts and how long it is, from `first`/`after` or `last`/`before` (Relay's connection arguments). */
type PageRequest = Pick<EventQuery, 'first' | 'fromEnd' | 'after' | 'before'>;

function pageRequest(args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null }): PageRequest {
  if (args.first != null && args.last != null) {
    throw badUserInput('last', 'cannot be given with first: page forward with first and after, or backward with last and before');
  }
  const fromEnd = args.last != null;
  return {
    first: fromEnd ? checkPageSize('last', args.last!) : checkPageSize('first', args.first ?? 50),
    fromEnd,
    after: args.after == null ? undefined : decodeCursor(args.after, 'after'),
    before: args.before == null ? undefined : decodeCursor(args.before, 'before'),
  };
}

async function eventsPage({ board, reader, loaders }: GraphQLContext, filter: EventFilter, request: PageRequest): Promise<EventPage> {
  checkRange('filter.kickoffFrom', filter.kickoffFrom, 'filter.kickoffTo', filter.kickoffTo);
  const empty: EventPage = { events: [], hasNextPage: false, hasPreviousPage: false, totalCount: 0 };
  let sportId: number | undefined;
  if (filter.sport != null) {
    sportId = byKeyOrId(await loaders.sports(), filter.sport)?.id;
    if (sportId === undefined) return empty;
  }
  let competitionId: number | undefined;
  if (filter.competition != null) {
    competitionId = byKeyOrId(await loaders.competitions(), filter.competition)?.id;
    if (competitionId === undefined) return empty;
  }
  const query = {
    sportId,
    competitionId,
    kickoffFrom: filter.kickoffFrom ?? undefined,
    kickoffTo: filter.kickoffTo ?? undefined,
    statuses: filter.status ?? undefined,
    hasOdds: filter.hasOdds ?? undefined,
    ...request,
  };
  if (board?.covers(query.kickoffFrom)) return board.page(query);
  // Outside the board's window, or CACHE=off: the database pages; the board's
  // default window still applies when no kickoffFrom is given.
  const page = await reader.eventPage({ ...query, kickoffFrom: query.kickoffFrom ?? new Date(Date.now() - boardWindowMs) });
  primeEvents(loaders, page.events);
  return page;
}

/** Events read by a page query are already loaded: later `event` lookups in the request need no SQL. */
function primeEvents(loaders: GraphQLContext['loaders'], events: readonly EventRecord[]): void {
  for (const event of events) loaders.event.prime(event.id, event);
}

function checkPageSize(argumentName: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > maxPageSize) {
    throw badUserInput(argumentName, `must be from 0 to ${maxPageSize}, got ${value}`);
  }
  return value;
}

function checkRange(fromName: string, from: Date | null | undefined, toName: string, to: Date | null | undefined): void {
  if (from && to && from.getTime() > to.getTime()) {
    throw badUserInput(toName, `must not be before ${fromName} (${from.toISOString()}), got ${to.toISOString()}`);
  }
}

/**
 * Filters name sports and competitions by key (`football`, `eng-premier`);
 * an id (all digits) is still taken, as `filter.competition` took one before keys.
 */
function byKeyOrId<T extends { id: number; key: string }>(records: readonly T[], reference: string): T | undefined {
  const id = parseId(reference);
  return records.find((record) => record.key === reference) ?? (id === undefined ? undefined : records.find((record) => record.id === id));
}

/** Ids are integers; anything else names no row, so lookups answer null or empty instead of failing. */
function parseId(id: string): number | undefined {
  return /^\d{1,9}$/.test(id) ? Number(id) : undefined;
}
