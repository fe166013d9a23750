import type { EventStatus } from '../generated/prisma/enums.js';

/** A filtered page of events in (kickoffAt, id) order, as both the board and the database answer it. */
export interface EventQuery {
  competitionId?: number | undefined;
  kickoffFrom?: Date | undefined;
  kickoffTo?: Date | undefined;
  statuses?: readonly EventStatus[] | undefined;
  hasOdds?: boolean | undefined;
  first: number;
  /** Start after this position (a decoded cursor). */
  after?: { kickoffAtMs: number; id: number } | undefined;
}
