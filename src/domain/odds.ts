/** The odds domain as the rest of the code sees it: plain data, no Prisma types. */

import type { EventStatus, MarketStatus, OutcomeResult } from '../generated/prisma/enums.js';

export interface OutcomeInput {
  key: string;
  name: string;
  /** Decimal odds, > 1. */
  price: number;
  /** Set when the market is settled: won, lost, or void (stakes returned). */
  result?: OutcomeResult | null;
}

export interface MarketInput {
  /** Market kind: `1x2`, `over_under`, `handicap`, `btts`, `moneyline`. */
  key: string;
  name: string;
  /** Goals/points line for over/under and handicap markets; null otherwise. */
  line: number | null;
  /** Open for betting (default), suspended (last prices shown, no bets), or settled. */
  status?: MarketStatus;
  outcomes: OutcomeInput[];
}

/** Where an event stands: status, and from kick-off on its score and (while live) the match clock. */
export interface EventState {
  status: EventStatus;
  score: { home: number; away: number } | null;
  clock: { period: string; minute: number } | null;
}

/** An event's state as the feed captured it at one moment. */
export interface EventStateInput extends EventState {
  eventId: number;
  capturedAt: Date;
}

/** What one bookmaker offered for one event at one moment. */
export interface SnapshotInput {
  eventId: number;
  bookmakerId: number;
  capturedAt: Date;
  markets: MarketInput[];
}

/** The bookmaker's margin (overround): the sum of implied probabilities minus 1. */
export function overround(prices: readonly number[]): number {
  return prices.reduce((sum, price) => sum + 1 / price, 0) - 1;
}
