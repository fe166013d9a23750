import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.js';
import { type OddsCache } from './odds-cache.js';
import { cacheKey, cacheKinds, type CacheKey, type CacheKind } from '../domain/cache-keys.js';

const id = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);

/** What an operator can drop: one event, a competition (and its events), a bookmaker (and all odds), or a whole kind. */
export const invalidationTarget = z.union([
  z.object({ event: id }).strict(),
  z.object({ competition: id }).strict(),
  z.object({ bookmaker: z.string().min(1) }).strict(),
  z.object({ kind: z.enum(cacheKinds) }).strict(),
]);

export type InvalidationTarget = z.output<typeof invalidationTarget>;

/** What to drop on every instance: exact keys, and every entry of some kinds (as the fleet's channel carries it). */
export const invalidationMessage = z.object({
  keys: z.array(z.custom<CacheKey>((key) => typeof key === 'string' && cacheKinds.some((kind) => key.startsWith(`${kind}:`)))),
  kinds: z.array(z.enum(cacheKinds)),
});

export type Invalidation = z.output<typeof invalidationMessage>;

/** The keys and kinds a target covers; a bookmaker's prices are in every event's odds, so it drops all odds. */
export async function resolveInvalidation(target: InvalidationTarget, prisma: PrismaClient): Promise<Invalidation> {
  if ('kind' in target) return { keys: [], kinds: [target.kind] };
  if ('event' in target) return { keys: eventKeys(target.event), kinds: [] };
  if ('competition' in target) {
    const events = await prisma.event.findMany({ where: { competitionId: target.competition }, select: { id: true } });
    return {
      keys: [cacheKey('Competition', target.competition), cacheKey('List', 'competitions'), ...events.flatMap((e) => eventKeys(e.id))],
      kinds: [],
    };
  }
  const bookmaker = await prisma.bookmaker.findUnique({ where: { key: target.bookmaker }, select: { id: true } });
  const keys: CacheKey[] = [cacheKey('List', 'bookmakers')];
  if (bookmaker) keys.push(cacheKey('Bookmaker', bookmaker.id));
  return { keys, kinds: ['EventOdds'] satisfies CacheKind[] };
}

/** Drops what an invalidation names from one instance's own tier; returns how many entries went. */
export function applyInvalidation(invalidation: Invalidation, cache: OddsCache): number {
  let dropped = 0;
  for (const key of invalidation.keys) {
    if (cache.peek(key)) dropped++;
    cache.invalidate(key);
  }
  for (const kind of invalidation.kinds) dropped += cache.invalidateKind(kind);
  return dropped;
}

function eventKeys(eventId: number): CacheKey[] {
  return [cacheKey('Event', eventId), cacheKey('EventOdds', eventId)];
}
