import type { EventStatus } from '../generated/prisma/enums.js';

/** A filtered page of events in (kickoffAt, id) order, as both the board and the database answer it. */
export interface EventQuery {
  sportId?: number | undefined;
  competitionId?: number | undefined;
  kickoffFrom?: Date | undefined;
  kickoffTo?: Date | undefined;
  statuses?: readonly EventStatus[] | undefined;
  hasOdds?: boolean | undefined;
  /** Page size. */
  first: number;
  /** Take the page from the end of the range (`last`) instead of its start (`first`). */
  fromEnd?: boolean | undefined;
  /** The range starts after this position (a decoded cursor). */
  after?: EventPosition | undefined;
  /** The range ends before this position. */
  before?: EventPosition | undefined;
}

/** An event's place in (kickoffAt, id) order. */
export interface EventPosition {
  kickoffAtMs: number;
  id: number;
}

export function comparePositions(a: EventPosition, b: EventPosition): number {
  return a.kickoffAtMs - b.kickoffAtMs || a.id - b.id;
}
