import { type CacheKind } from '../domain/cache-keys.js';
import type { BatchReader } from './shared-reads.js';

/** `reader`, with each batched read's duration reported by cache kind (whole-table reads as `List`). */
export function timedReader(reader: BatchReader, observe: (kind: CacheKind, seconds: number) => void): BatchReader {
  const timed = async <T>(kind: CacheKind, read: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await read();
    } finally {
      observe(kind, (performance.now() - started) / 1000);
    }
  };
  return {
    sports: (ids) => timed(ids ? 'Sport' : 'List', () => reader.sports(ids)),
    competitions: (ids) => timed(ids ? 'Competition' : 'List', () => reader.competitions(ids)),
    bookmakers: (ids) => timed(ids ? 'Bookmaker' : 'List', () => reader.bookmakers(ids)),
    events: (ids) => timed('Event', () => reader.events(ids)),
    eventOdds: (ids) => timed('EventOdds', () => reader.eventOdds(ids)),
  };
}
