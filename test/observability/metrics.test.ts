import { describe, expect, it } from 'vitest';
import { checkFeedRecord } from '../../src/ingest/feed-record.js';
import { Metrics, rejectionCategory } from '../../src/ops/metrics.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const metrics = async (m: Metrics) => parsePrometheusText((await m.scrape()).body);

describe('metrics', () => {
  it('keeps each instance in its own registry, so two gateways in one process do not collide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.cacheRequest('Event', 'hit');
    a.cacheRequest('Event', 'hit');
    b.cacheRequest('Event', 'stale');
    const value = async (metrics: Metrics, result: string) =>
      sampleValue(parsePrometheusText((await metrics.scrape()).body), 'oddsgate_cache_requests_total', 'oddsgate_cache_requests_total', {
        kind: 'Event',
        result,
      });
    expect(await value(a, 'hit')).toBe(2);
    expect(await value(a, 'stale')).toBe(0);
    expect(await value(b, 'stale')).toBe(1);
    // Exported before the first increment, so dashboards see a series from the start.
    expect((await metrics(b)).get('oddsgate_cache_requests_total')!.samples).toHaveLength(6 * 3);
  });

  it('reports breaker states as 0 closed, 1 half-open, 2 open', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setBreakerState('database', 'open');
    metrics.setBreakerState('feed', 'half-open');
    const family = parsePrometheusText((await metrics.scrape()).body).get('oddsgate_breaker_state')!;
    expect(family.type).toBe('gauge');
    expect(family.samples).toEqual([
      { name: 'oddsgate_breaker_state', labels: { breaker: 'database' }, value: 2 },
      { name: 'oddsgate_breaker_state', labels: { breaker: 'feed' }, value: 1 },
    ]);
  });

  it('labels rejections by a fixed category, never by the values in the reason', () => {
    const bad = (raw: unknown) => {
      const checked = checkFeedRecord(raw);
      if (checked.ok) throw new Error('expected a rejection');
      return rejectionCategory(checked.reason);
    };
    const good = {
      event: 'sim-1',
      bookmaker: 'northbet',
      capturedAt: '2026-11-22T15:00:00.000Z',
      markets: [{ key: '1x2', name: 'Match result', outcomes: [{ key: 'home', name: 'Home', price: 2 }, { key: 'away', name: 'Away', price: 2 }] }],
    };
    expect(bad({ ...good, markets: [{ ...good.markets[0]!, outcomes: [good.markets[0]!.outcomes[0], { key: 'away', name: 'Away', price: 1 }] }] })).toBe(
      'markets.outcomes.price',
    );
    expect(bad({ ...good, markets: [{ ...good.markets[0]!, key: 'corners-over-9.5' }] })).toBe('markets.key');
    expect(bad({ ...good, capturedAt: 'yesterday' })).toBe('capturedAt');
    expect(bad('not an object')).toBe('record');
    expect(rejectionCategory('unknown event "sim-9999"')).toBe('unknown_event');
    expect(rejectionCategory('unknown bookmaker "nobody"')).toBe('unknown_bookmaker');
    expect(rejectionCategory('fixture.competition: unknown competition "xx"')).toBe('unknown_competition');
    expect(rejectionCategory('some.path.from.a.future.schema: bad')).toBe('other');
  });
});
