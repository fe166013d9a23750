import { cachePolicy, type OddsCache } from './odds-cache.js';
import { cacheKey, type CacheKey, type CacheKind } from '../domain/cache-keys.js';

/** A second tier shared by a fleet (Redis), asked before the source. */
export interface SharedTier {
  getMany(keys: readonly CacheKey[]): Promise<Array<{ value: object; ageMs: number } | undefined>>;
  setMany(entries: ReadonlyArray<{ key: CacheKey; value: object; ageMs: number }>): Promise<void>;
}

export type Id = number | string;

export interface ReadThroughOptions<V> {
  cache: OddsCache;
  kind: CacheKind;
  /** One batched read of the source (the database) for ids the cache cannot serve. */
  fetchMany: (ids: Id[]) => Promise<Map<Id, V>>;
  /** The fleet's shared tier, between this cache and the source. */
  shared?: SharedTier | undefined;
  /** True while the source is known to be down (its breaker is open): cached values are served as stale. */
  degraded?: () => boolean;
  /** A background refresh failed: the stale values stay, their lives extended. */
  onRefreshFailed?: (kind: CacheKind, ids: readonly Id[], error: unknown) => void;
}

/**
 * Reads one kind of record through the shared cache, long-lived and shared
 * by every request's loaders:
 * - fresh: served from memory;
 * - stale (past the kind's fresh time): served, and refreshed in the
 *   background, once per key however many requests ask;
 * - missing (never loaded, or past its lifetime): loaded from the source in
 *   one batch, and concurrent requests for the same key share that load.
 * A load never overwrites a value stored after it started (an odds change
 * from the bus is newer than any read that was already under way).
 */
export class ReadThrough<V extends object> {
  readonly #options: ReadThroughOptions<V>;
  readonly #loading = new Map<Id, Promise<V | undefined>>();
  readonly #refreshing = new Set<Id>();

  constructor(options: ReadThroughOptions<V>) {
    this.#options = options;
  }

  /** Values in id order; `undefined` where the source has no such id. */
  async loadMany(ids: readonly Id[]): Promise<Array<V | undefined>> {
    const { cache, kind, degraded } = this.#options;
    const values: Array<V | undefined> = [];
    const stale: Id[] = [];
    const missing: Id[] = [];
    const down = degraded?.() ?? false;
    for (const id of ids) {
      const entry = cache.lookup<V>(cacheKey(kind, id), down);
      values.push(entry?.value);
      if (!entry) missing.push(id);
      else if (!entry.fresh) stale.push(id);
    }
    if (stale.length > 0) this.#refresh(stale);
    if (missing.length > 0) {
      const loaded = await this.#load(missing);
      ids.forEach((id, i) => {
        values[i] ??= loaded.get(id);
      });
    }
    return values;
  }

  /**
   * The cached value, served as `loadMany` would serve it (a stale one is refreshed in the background), without
   * a promise; undefined on a miss, which is not counted: the caller loads the id through `loadMany`.
   */
  cached(id: Id): V | undefined {
    const { cache, kind, degraded } = this.#options;
    const entry = cache.lookup<V>(cacheKey(kind, id), degraded?.() ?? false, false);
    if (entry && !entry.fresh) this.#refresh([id]);
    return entry?.value;
  }

  /** Loads ids nobody is loading yet in one batch; joins the loads already under way for the rest. */
  async #load(ids: readonly Id[]): Promise<Map<Id, V | undefined>> {
    const own = ids.filter((id) => !this.#loading.has(id));
    if (own.length > 0) {
      const batch = this.#fetch(own);
      for (const id of own) {
        const one = batch.then((values) => values.get(id));
        this.#loading.set(id, one);
        void one.then(
          () => this.#loading.delete(id),
          () => this.#loading.delete(id),
        );
      }
    }
    const values = await Promise.all(ids.map((id) => this.#loading.get(id)!));
    return new Map(ids.map((id, i) => [id, values[i]]));
  }

  #refresh(ids: readonly Id[]): void {
    const due = ids.filter((id) => !this.#refreshing.has(id) && !this.#loading.has(id));
    if (due.length === 0) return;
    for (const id of due) this.#refreshing.add(id);
    const { cache, kind, onRefreshFailed } = this.#options;
    this.#fetch(due)
      .catch((error: unknown) => {
        for (const id of due) cache.extend(cacheKey(kind, id));
        onRefreshFailed?.(kind, due, error);
      })
      .finally(() => {
        for (const id of due) this.#refreshing.delete(id);
      });
  }

  /** Fresh entries from the shared tier first; the rest from the source in one batch, then shared. */
  async #fetch(ids: Id[]): Promise<Map<Id, V | undefined>> {
    const { cache, kind, fetchMany, shared } = this.#options;
    const startedAt = cache.now();
    const storedAt = new Map<Id, number>();
    const found = new Map<Id, V>();
    if (shared) {
      const entries = await shared.getMany(ids.map((id) => cacheKey(kind, id)));
      entries.forEach((entry, i) => {
        if (entry && entry.ageMs < cachePolicy[kind].freshMs) {
          found.set(ids[i]!, entry.value as V);
          storedAt.set(ids[i]!, startedAt - entry.ageMs);
        }
      });
    }
    const rest = ids.filter((id) => !found.has(id));
    if (rest.length > 0) {
      const fetched = await fetchMany(rest);
      for (const [id, value] of fetched) found.set(id, value);
      void shared?.setMany([...fetched].map(([id, value]) => ({ key: cacheKey(kind, id), value, ageMs: cache.now() - startedAt })));
    }
    const values = new Map<Id, V | undefined>();
    for (const id of ids) {
      const key = cacheKey(kind, id);
      const newer = cache.peek<V>(key);
      const value = found.get(id);
      if (newer && newer.storedAt > startedAt) values.set(id, newer.value);
      else if (value === undefined) {
        cache.invalidate(key);
        values.set(id, undefined);
      } else {
        cache.set(key, value, storedAt.get(id) ?? startedAt);
        values.set(id, value);
      }
    }
    return values;
  }
}
