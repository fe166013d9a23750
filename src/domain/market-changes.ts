/** What telling two versions of a market apart needs: stored documents (MovedMarket) and read records (MarketRecord) both have it. */
export interface ComparableMarket {
  readonly key: string;
  readonly line: number | null;
  readonly status: string;
  readonly outcomes: ReadonlyArray<{ readonly key: string; readonly price: number; readonly result: string | null }>;
}

/**
 * The keys of the markets in a bookmaker's new snapshot of an event that
 * are new or whose prices, results or status moved since its previous one.
 * Without a previous snapshot every market counts as changed. A market the
 * new snapshot left out is not named: a subscriber to it would be sent an
 * update without it.
 */
export function changedMarketKeys(previous: readonly ComparableMarket[] | undefined, next: readonly ComparableMarket[]): string[] {
  if (!previous) return [...new Set(next.map((m) => m.key))];
  const before = new Map(previous.map((m) => [marketIdentity(m), m]));
  const changed = new Set<string>();
  for (const market of next) {
    const old = before.get(marketIdentity(market));
    if (!old || !sameMarket(old, market)) changed.add(market.key);
  }
  return [...changed];
}

function marketIdentity(market: ComparableMarket): string {
  return `${market.key}|${market.line ?? ''}`;
}

function sameMarket(a: ComparableMarket, b: ComparableMarket): boolean {
  if (a.status !== b.status || a.outcomes.length !== b.outcomes.length) return false;
  return a.outcomes.every((outcome, i) => {
    const other = b.outcomes[i]!;
    return outcome.key === other.key && outcome.price === other.price && outcome.result === other.result;
  });
}
