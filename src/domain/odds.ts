/** The odds domain as the rest of the code sees it: plain data, no Prisma types. */

export interface OutcomeInput {
  key: string;
  name: string;
  /** Decimal odds, > 1. */
  price: number;
}

export interface MarketInput {
  /** Market kind: `1x2`, `over_under`, `handicap`, `btts`, `moneyline`. */
  key: string;
  name: string;
  /** Goals/points line for over/under and handicap markets; null otherwise. */
  line: number | null;
  outcomes: OutcomeInput[];
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
