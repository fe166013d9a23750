import { LRUCache } from 'lru-cache';
import type { HistoryQuery, OddsReader } from '../db/odds-reader.js';
import type { SnapshotRecord } from '../domain/records.js';
import { estimateBytes } from './odds-cache.js';

export interface HistoryCacheOptions {
  reader: Pick<OddsReader, 'history'>;
  /** Upper bound of the windows held, in estimated bytes (HISTORY_CACHE_MAX_BYTES). */
  maxBytes: number;
  /** Snapshots read per event at least, whatever the first page asked (default 20: an event page's chart). */
  minWindow?: number;
  /** How long a window is kept, in ms (default 10 min): history days dropped by retention leave it within this. */
  ttlMs?: number;
}

export interface HistoryCacheStats {
  /** Pages answered from a window in memory. */
  hits: number;
  /** Pages the windows could not answer (read from the database, or a window loaded for them). */
  misses: number;
  entries: number;
  bytes: number;
}

/** The newest snapshots of one event, in the database's order (captured_at DESC, bookmaker_id). */
interface Window {
  snapshots: readonly SnapshotRecord[];
  /** The event has no snapshot beyond these. */
  complete: boolean;
}

/**
 * One event's odds history answered from memory. Each event's newest
 * snapshots (a window, at least `minWindow`) are read once; a page of them,
 * filtered by bookmaker, market or time, is an exact prefix of what the
 * database would return as long as the window holds `first` matches, is the
 * whole history, or reaches past `since`: then it is answered from the window.
 * A new snapshot of an event arrives with a write of its odds (EventOdds),
 * which drops that event's window only (`changed`); a window whose load began
 * before such a write is not kept.
 */
export class HistoryCache {
  readonly #reader: Pick<OddsReader, 'history'>;
  readonly #minWindow: number;
  readonly #windows: LRUCache<number, Window>;
  /** Loads in flight, and whether their event changed meanwhile. */
  readonly #loading = new Map<number, { size: number; window: Promise<Window>; changed: boolean }>();
  readonly #stats = { hits: 0, misses: 0 };

  constructor({ reader, maxBytes, minWindow = 20, ttlMs = 10 * 60_000 }: HistoryCacheOptions) {
    this.#reader = reader;
    this.#minWindow = minWindow;
    this.#windows = new LRUCache<number, Window>({ maxSize: maxBytes, sizeCalculation: (w) => estimateBytes(w.snapshots), ttl: ttlMs });
  }

  /** What `OddsReader.history` answers, from memory when a window can. */
  async history(query: HistoryQuery): Promise<SnapshotRecord[]> {
    const cached = this.#windows.get(query.eventId);
    const fromCache = cached && pageOf(cached, query);
    if (fromCache) {
      this.#stats.hits++;
      return fromCache;
    }
    this.#stats.misses++;
    // A window too short for this page: a longer one, if the page is the plain history (any page of it fits then).
    if (cached && !isPlain(query)) return this.#reader.history(query);
    const window = await this.#load(query.eventId, Math.max(query.first, this.#minWindow));
    return pageOf(window, query) ?? this.#reader.history(query);
  }

  /** The event's snapshots changed (a write of its odds): its window is outdated. */
  changed(eventId: number): void {
    this.#windows.delete(eventId);
    const loading = this.#loading.get(eventId);
    if (loading) loading.changed = true;
  }

  clear(): void {
    this.#windows.clear();
    for (const loading of this.#loading.values()) loading.changed = true;
  }

  stats(): HistoryCacheStats {
    return { ...this.#stats, entries: this.#windows.size, bytes: this.#windows.calculatedSize };
  }

  /** The event's newest `size` snapshots; one load per event at a time (a larger one waits for none). */
  #load(eventId: number, size: number): Promise<Window> {
    const inFlight = this.#loading.get(eventId);
    // Not one that began before a change: this request may have begun after it.
    if (inFlight && inFlight.size >= size && !inFlight.changed) return inFlight.window;
    const loading = {
      size,
      changed: false,
      window: this.#reader.history({ eventId, first: size }).then((snapshots) => ({ snapshots, complete: snapshots.length < size })),
    };
    this.#loading.set(eventId, loading);
    const settle = () => {
      if (this.#loading.get(eventId) === loading) this.#loading.delete(eventId);
    };
    loading.window.then((window) => {
      settle();
      // Read before a change landed: right for the requests that began before it, not for later ones.
      if (!loading.changed) this.#windows.set(eventId, window);
    }, settle);
    return loading.window;
  }
}

function isPlain(query: HistoryQuery): boolean {
  return query.bookmakerId === undefined && query.marketKey === undefined && !query.since && !query.until;
}

/** The page `query` asks for, if the window holds all of it; undefined if the database may know more. */
function pageOf(window: Window, query: HistoryQuery): SnapshotRecord[] | undefined {
  const since = query.since?.toISOString();
  const until = query.until?.toISOString();
  const page: SnapshotRecord[] = [];
  for (const snapshot of window.snapshots) {
    if (page.length >= query.first) return page;
    // Newest first: once past `since`, nothing older matches.
    if (since !== undefined && snapshot.capturedAt < since) return page;
    if (until !== undefined && snapshot.capturedAt > until) continue;
    if (query.bookmakerId !== undefined && snapshot.bookmakerId !== query.bookmakerId) continue;
    const kept = onlyMarket(snapshot, query.marketKey);
    if (kept) page.push(kept);
  }
  return page.length >= query.first || window.complete ? page : undefined;
}

/** With a market key: the snapshot with only that market, or undefined when it has none (as the database filters). */
function onlyMarket(snapshot: SnapshotRecord, marketKey: string | undefined): SnapshotRecord | undefined {
  if (marketKey === undefined) return snapshot;
  const markets = snapshot.markets.filter((market) => market.key === marketKey);
  if (markets.length === 0) return undefined;
  return markets.length === snapshot.markets.length ? snapshot : Object.freeze({ ...snapshot, markets: Object.freeze(markets) });
}
