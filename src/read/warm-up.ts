import { type OddsCache } from './odds-cache.js';
import { cacheKey } from '../domain/cache-keys.js';
import type { OddsReader } from '../db/odds-reader.js';
import type { BookmakerRecord, CompetitionRecord, SportRecord } from '../domain/records.js';
import type { SharedReads } from './shared-reads.js';
import type { BoardIndex } from './board-index.js';

export interface WarmUpResult {
  events: number;
  eventsWithOdds: number;
  durationMs: number;
  cacheBytes: number;
}

// Events per eventOdds read during warm-up: bounds one query's result size.
const eventsPerRead = 250;

/**
 * Loads the board (events kicking off after now - 2 h), their odds and the
 * reference data into the cache, so the first board request is already hot.
 */
export async function warmUp(reads: SharedReads, reader: OddsReader, cache: OddsCache, board: BoardIndex): Promise<WarmUpResult> {
  const started = performance.now();
  // Reading the lists caches them; their entries are cached one by one too.
  const [sports, competitions, bookmakers] = (await reads.lists.loadMany(['sports', 'competitions', 'bookmakers'])) as [
    readonly SportRecord[],
    readonly CompetitionRecord[],
    readonly BookmakerRecord[],
  ];
  for (const sport of sports) cache.set(cacheKey('Sport', sport.id), sport);
  for (const competition of competitions) cache.set(cacheKey('Competition', competition.id), competition);
  for (const bookmaker of bookmakers) cache.set(cacheKey('Bookmaker', bookmaker.id), bookmaker);

  const events = await reader.eventsFrom(new Date(board.windowStart()));
  const withOdds: number[] = [];
  const read = (from: number) => reader.eventOdds(events.slice(from, from + eventsPerRead).map((e) => e.id));
  // The next chunk is read while this one is cached: the database and this process work at the same time.
  let next = events.length > 0 ? read(0) : undefined;
  for (let i = 0; i < events.length; i += eventsPerRead) {
    const chunk = events.slice(i, i + eventsPerRead);
    const odds = await next!;
    next = i + eventsPerRead < events.length ? read(i + eventsPerRead) : undefined;
    for (const event of chunk) {
      const eventOdds = odds.get(event.id)!;
      cache.set(cacheKey('Event', event.id), event);
      cache.set(cacheKey('EventOdds', event.id), eventOdds);
      if (eventOdds.snapshots.length > 0) withOdds.push(event.id);
    }
  }
  board.replaceAll(events, withOdds);
  return {
    events: events.length,
    eventsWithOdds: withOdds.length,
    durationMs: Math.round(performance.now() - started),
    cacheBytes: cache.stats().bytes,
  };
}
