/**
 * The ids clients normalise odds by (Apollo Client's InMemoryCache, urql's
 * graphcache: `__typename` + `id`). An id names what a component shows, not
 * a row: the current odds of one bookmaker for one event keep one id while
 * their snapshots come and go, so an `oddsUpdated` message replaces the
 * prices a cached board already holds. Markets and outcomes are named by
 * path below their snapshot, so a history snapshot's markets never share an
 * id (and overwrite) the current ones.
 */

/** The current odds of an (event, bookmaker), whichever snapshot holds them: `<event id>:<bookmaker id>`. */
export function latestOddsId(eventId: number, bookmakerId: number): string {
  return `${eventId}:${bookmakerId}`;
}

/** A snapshot in history keeps the stored snapshot's own id. */
export function historicSnapshotId(snapshotId: number): string {
  return String(snapshotId);
}

/** `<snapshot's id>/<market key>`, then `/<line>` for markets with a line: `42:3/over_under/2.5`. */
export function marketId(ownerId: string, market: { key: string; line: number | null }): string {
  return market.line === null ? `${ownerId}/${market.key}` : `${ownerId}/${market.key}/${market.line}`;
}

/** `<market id>/<outcome key>`: `42:3/over_under/2.5/over`. */
export function outcomeId(ownerMarketId: string, outcomeKey: string): string {
  return `${ownerMarketId}/${outcomeKey}`;
}
