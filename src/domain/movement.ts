import type { MarketInput } from './odds.js';
import type { MarketStatus, OutcomeResult } from '../generated/prisma/enums.js';

/**
 * Price movement per outcome, derived once when a snapshot is stored so no
 * read has to look backwards: the price before the outcome's last change
 * and when that change happened, whatever else changed in the snapshot.
 */
export interface MovedOutcome {
  key: string;
  name: string;
  price: number;
  /** The price before the last change; null until the price has changed once. */
  previousPrice: number | null;
  /** When the price last changed (epoch ms); when the outcome was first offered, until then. */
  changedAtMs: number;
  result: OutcomeResult | null;
}

export interface MovedMarket {
  key: string;
  name: string;
  line: number | null;
  status: MarketStatus;
  outcomes: MovedOutcome[];
}

/**
 * The markets of a snapshot captured at `capturedAtMs`, each outcome's
 * movement carried forward from `before` (the same bookmaker's snapshot of
 * the event just before it, undefined for its first): a changed price
 * records the old one and the time; an unchanged one keeps what it had. An
 * outcome `before` does not offer (a new market, a new line) starts afresh.
 */
export function withMovement(markets: readonly MarketInput[], capturedAtMs: number, before: readonly MovedMarket[] | undefined): MovedMarket[] {
  const earlier = new Map<string, MovedOutcome>();
  for (const market of before ?? []) {
    for (const outcome of market.outcomes) earlier.set(outcomeKey(market, outcome.key), outcome);
  }
  return markets.map((market) => ({
    key: market.key,
    name: market.name,
    line: market.line,
    status: market.status ?? 'OPEN',
    outcomes: market.outcomes.map((outcome) => {
      const last = earlier.get(outcomeKey(market, outcome.key));
      const unchanged = last !== undefined && last.price === outcome.price;
      return {
        key: outcome.key,
        name: outcome.name,
        price: outcome.price,
        previousPrice: unchanged ? last.previousPrice : (last?.price ?? null),
        changedAtMs: unchanged ? last.changedAtMs : capturedAtMs,
        result: outcome.result ?? null,
      };
    }),
  }));
}

/** One outcome of one market (and line) of a bookmaker's snapshot. */
export function outcomeKey(market: { key: string; line: number | null }, outcome: string): string {
  return `${market.key}|${market.line ?? ''}|${outcome}`;
}
