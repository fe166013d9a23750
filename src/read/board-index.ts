import type { EventPage, EventRecord } from '../domain/records.js';
import { comparePositions as compareKickoff, type EventQuery } from '../domain/event-query.js';

/** How far back the board reaches: events that kicked off up to two hours ago are still on it. */
export const boardWindowMs = 2 * 3_600_000;


/**
 * The upcoming board in memory: every event kicking off after now - 2 h, in
 * (kickoffAt, id) order, so a filtered, paged `events` query is a scan of a
 * few thousand records and no SQL. Whoever changes events (warm-up, the
 * ingest worker) keeps it current through `replaceAll`, `upsert` and `evictBefore`.
 */
export class BoardIndex {
  #events: EventRecord[] = [];
  readonly #withOdds = new Set<number>();
  readonly #ids = new Set<number>();
  #version = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#events.length;
  }

  /** Changes whenever an event joins or leaves, or gains odds: what a cached page depends on besides the events' own records. */
  get version(): number {
    return this.#version;
  }

  has(eventId: number): boolean {
    return this.#ids.has(eventId);
  }

  /** The earliest kick-off the board answers for: now - 2 h. */
  windowStart(): number {
    return this.now() - boardWindowMs;
  }

  /**
   * How long, in milliseconds from now, the board's membership stays as it is by the clock alone: until the
   * earliest event still in the window kicks off more than 2 h ago (Infinity on an empty board). What
   * changes it otherwise (joins, leaves, odds) changes `version`.
   */
  stableForMs(): number {
    const windowStart = this.windowStart();
    const first = this.#events.find((e) => e.kickoffAtMs >= windowStart);
    return first ? first.kickoffAtMs - windowStart + 1 : Infinity;
  }

  /** Whether a query starting at `kickoffFrom` (or at the window, when unset) can be answered from the board. */
  covers(kickoffFrom: Date | undefined): boolean {
    return kickoffFrom === undefined || kickoffFrom.getTime() >= this.windowStart();
  }

  replaceAll(events: readonly EventRecord[], withOdds: Iterable<number>): void {
    this.#events = [...events].sort(compareKickoff);
    this.#ids.clear();
    for (const event of events) this.#ids.add(event.id);
    this.#withOdds.clear();
    for (const id of withOdds) this.#withOdds.add(id);
    this.#version++;
  }

  upsert(event: EventRecord, hasOdds: boolean): void {
    if (this.#ids.has(event.id)) this.#events.splice(this.#events.findIndex((e) => e.id === event.id), 1);
    this.#ids.add(event.id);
    const at = this.#insertionPoint(event);
    this.#events.splice(at, 0, event);
    if (hasOdds) this.#withOdds.add(event.id);
    else this.#withOdds.delete(event.id);
    this.#version++;
  }

  /**
   * A new record of an event already on the board (its status, score or
   * clock moved). A status change can move it in or out of a filtered page,
   * so it counts as a change of the board.
   */
  replace(event: EventRecord): void {
    if (!this.#ids.has(event.id)) return;
    const at = this.#events.findIndex((e) => e.id === event.id);
    const before = this.#events[at]!;
    if (before.kickoffAtMs !== event.kickoffAtMs) {
      this.upsert(event, this.#withOdds.has(event.id));
      return;
    }
    this.#events[at] = event;
    if (before.status !== event.status) this.#version++;
  }

  /** An event already on the board now has odds. */
  markWithOdds(eventId: number): void {
    if (this.#ids.has(eventId) && !this.#withOdds.has(eventId)) {
      this.#withOdds.add(eventId);
      this.#version++;
    }
  }

  /** Drops events that kicked off before `kickoffBeforeMs`; returns their ids. */
  evictBefore(kickoffBeforeMs: number): number[] {
    const keepFrom = this.#events.findIndex((e) => e.kickoffAtMs >= kickoffBeforeMs);
    const evicted = this.#events.splice(0, keepFrom < 0 ? this.#events.length : keepFrom);
    for (const event of evicted) {
      this.#withOdds.delete(event.id);
      this.#ids.delete(event.id);
    }
    if (evicted.length > 0) this.#version++;
    return evicted.map((e) => e.id);
  }

  /**
   * One scan in kick-off order: the matching events between the cursors,
   * the first (or, `fromEnd`, the last) `first` of them, and whether
   * matching events lie before and after the page.
   */
  page(query: EventQuery): EventPage {
    const from = Math.max(query.kickoffFrom?.getTime() ?? -Infinity, this.windowStart());
    const to = query.kickoffTo?.getTime() ?? Infinity;
    const statuses = query.statuses && new Set(query.statuses);
    const { after, before } = query;
    let inRange: EventRecord[] = [];
    let totalCount = 0;
    let earlier = 0;
    let later = 0;
    for (const event of this.#events) {
      if (event.kickoffAtMs < from) continue;
      if (event.kickoffAtMs > to) break;
      if (query.sportId !== undefined && event.sportId !== query.sportId) continue;
      if (query.competitionId !== undefined && event.competitionId !== query.competitionId) continue;
      if (statuses && !statuses.has(event.status)) continue;
      if (query.hasOdds !== undefined && this.#withOdds.has(event.id) !== query.hasOdds) continue;
      totalCount++;
      if (after && compareKickoff(event, after) <= 0) earlier++;
      else if (before && compareKickoff(event, before) >= 0) later++;
      // Forward pages stop collecting once full; a page from the end needs the whole range.
      else if (query.fromEnd || inRange.length < query.first) inRange.push(event);
      else later++;
    }
    if (query.fromEnd && inRange.length > query.first) {
      earlier += inRange.length - query.first;
      inRange = inRange.slice(inRange.length - query.first);
    }
    return { events: inRange, hasNextPage: later > 0, hasPreviousPage: earlier > 0, totalCount };
  }

  #insertionPoint(event: EventRecord): number {
    let low = 0;
    let high = this.#events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKickoff(this.#events[mid]!, event) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
