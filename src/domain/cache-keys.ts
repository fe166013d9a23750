/**
 * What the caches hold, by kind of record, each keyed `Kind:id` so a writer
 * can replace or drop exactly what changed (the odds cache, the fleet's
 * tier, the response cache's tags and admin invalidation all use these keys).
 */
export const cacheKinds = ['Sport', 'Competition', 'Bookmaker', 'Event', 'EventOdds', 'List'] as const;
export type CacheKind = (typeof cacheKinds)[number];
export type CacheKey = `${CacheKind}:${string}`;

export function cacheKey(kind: CacheKind, id: string | number): CacheKey {
  return `${kind}:${id}`;
}
