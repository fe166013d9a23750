import { describe, expect, it } from 'vitest';
import { cacheKey, cacheKinds, type CacheKey, type CacheKind } from '../../src/domain/cache-keys.js';
import { createRandom } from '../../src/domain/pricing.js';
import { estimateBytes, LruOddsCache } from '../../src/read/odds-cache.js';

const minute = 60_000;

describe('odds cache: sizes by kind', () => {
  it('match a count of what it holds through sets, replacements, deletions, evictions, expiry and extension', () => {
    let now = 0;
    const removed = { evict: 0, expire: 0, delete: 0, set: 0, fetch: 0 };
    const observer = { request: () => {}, set: () => {}, removed: (_kind: CacheKind, reason: keyof typeof removed) => void removed[reason]++ };
    const cache = new LruOddsCache({ maxBytes: 40_000, now: () => now, observer });
    const random = createRandom(20261203);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const keys = new Set<CacheKey>();
    const recount = () => {
      const byKind = Object.fromEntries(cacheKinds.map((kind) => [kind, { entries: 0, bytes: 0 }])) as Record<CacheKind, { entries: number; bytes: number }>;
      for (const key of keys) {
        const entry = cache.peek<object>(key);
        if (!entry) continue;
        const size = byKind[key.slice(0, key.indexOf(':')) as CacheKind];
        size.entries++;
        size.bytes += estimateBytes(entry.value);
      }
      return byKind;
    };
    for (let step = 0; step < 3_000; step++) {
      const key = cacheKey(pick(cacheKinds), Math.floor(random() * 40));
      const roll = random();
      if (roll < 0.6) {
        keys.add(key);
        // Now and then one larger than the whole budget, which lru-cache refuses (dropping the key's old value).
        cache.set(key, { id: key, note: 'x'.repeat(random() < 0.01 ? 30_000 : Math.floor(random() * 3_000)) });
      } else if (roll < 0.7) cache.invalidate(key);
      else if (roll < 0.75) cache.extend(key);
      else if (roll < 0.77) cache.invalidateKind(pick(cacheKinds));
      else if (roll < 0.8) {
        // Odds live 10 minutes, events hours, reference data days: the odds pass their lifetime and go on their next lookup.
        now += 11 * minute;
        for (const known of keys) cache.lookup(known, false, false);
      }
      const sizes = cache.sizeByKind();
      expect(sizes).toEqual(recount());
      const { entries, bytes } = cache.stats();
      expect(cacheKinds.reduce((n, kind) => n + sizes[kind].entries, 0)).toBe(entries);
      expect(cacheKinds.reduce((n, kind) => n + sizes[kind].bytes, 0)).toBe(bytes);
    }
    // The walk did reach every path it is about.
    for (const reason of ['evict', 'expire', 'delete', 'set'] as const) expect(removed[reason], reason).toBeGreaterThan(20);
  });
});
