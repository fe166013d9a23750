import { describe, expect, it } from 'vitest';
import { checkFeedRecord, recordKey } from '../../src/ingest/feed-record.js';

describe('the feed record check', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const record = (fields: Record<string, unknown> = {}) => ({
    event: 'sim-1',
    bookmaker: 'northbet',
    capturedAt: '2026-12-01T12:00:00.000Z',
    markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price: 1.8 }, { key: 'no', name: 'No', price: 2 }] }],
    ...fields,
  });

  it('refuses a capturedAt further in the future than the allowed clock skew (default 5 minutes)', () => {
    expect(checkFeedRecord(record({ capturedAt: '2100-01-01T00:00:00Z' }), { now })).toEqual({
      ok: false,
      reason: 'capturedAt: more than 300 s in the future',
    });
    expect(checkFeedRecord(record({ capturedAt: '2026-12-01T12:05:00Z' }), { now }).ok).toBe(true);
    expect(checkFeedRecord(record({ capturedAt: '2026-12-01T12:05:01Z' }), { now }).ok).toBe(false);
    expect(checkFeedRecord(record({ capturedAt: '2026-12-01T12:05:01Z' }), { now, maxClockSkewMs: 60 * 60_000 }).ok).toBe(true);
  });

  it('refuses a capturedAt before the first day history keeps, when given the retention', () => {
    // 2026-12-01T12:00 less 30 days is 2026-11-01T12:00: history keeps 2026-11-01 (in part) and after.
    expect(checkFeedRecord(record({ capturedAt: '2026-10-31T23:59:59.999Z' }), { now, retentionDays: 30 })).toEqual({
      ok: false,
      reason: 'capturedAt: older than the 30 days of history kept (HISTORY_RETENTION_DAYS)',
    });
    expect(checkFeedRecord(record({ capturedAt: '2026-11-01T00:00:00Z' }), { now, retentionDays: 30 }).ok).toBe(true);
    expect(checkFeedRecord(record({ capturedAt: '2000-01-01T00:00:00Z' }), { now }).ok).toBe(true);
  });

  it('refuses text the store cannot index or hold: over-long keys and names, NUL characters', () => {
    expect(checkFeedRecord(record({ event: 'e'.repeat(101) }), { now })).toEqual({
      ok: false,
      reason: 'event: event (the external id) must be at most 100 characters',
    });
    const longName = record();
    longName.markets[0]!.outcomes[0]!.name = 'n'.repeat(201);
    expect(checkFeedRecord(longName, { now })).toEqual({ ok: false, reason: 'markets.0.outcomes.0.name: name must be at most 200 characters' });
    expect(checkFeedRecord(record({ bookmaker: 'north\u0000bet' }), { now })).toEqual({
      ok: false,
      reason: 'bookmaker: bookmaker (its key) must not contain NUL characters',
    });
  });

  it('names any record by event, bookmaker and capturedAt, cut short', () => {
    expect(recordKey(record())).toBe('sim-1|northbet|2026-12-01T12:00:00.000Z');
    expect(recordKey({ event: 'x'.repeat(5_000), bookmaker: 7 })).toBe(`${'x'.repeat(100)}|7|?`);
    expect(recordKey('not an object')).toBe('?|?|?');
  });
});
