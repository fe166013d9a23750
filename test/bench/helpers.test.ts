import { describe, expect, it } from 'vitest';
import { barChartSvg } from '../../bench/lib/chart.js';
import { summariseDeliveries, type Delivery } from '../../bench/lib/deliveries.js';
import { topSelfTimes } from '../../bench/lib/profile.js';
import { keptSections, keptSectionsMarker } from '../../bench/lib/report.js';
import { formatBytes, formatNumber, percentile, ratio } from '../../bench/lib/stats.js';

describe('benchmark helpers', () => {
  it('takes percentiles by nearest rank, whatever the input order', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(values, 101)).toThrow(/from 0 to 100, got 101/);
  });

  it('keeps the hand-recorded sections of an earlier report, and nothing without the marker', () => {
    const earlier = `# Benchmarks\n\nold figures\n\n${keptSectionsMarker}\n\n## Storage\n\nnumbers\n`;
    expect(keptSections(earlier)).toBe(`\n${keptSectionsMarker}\n\n## Storage\n\nnumbers\n`);
    expect(keptSections('# Benchmarks\n\nold figures\n')).toBe('');
  });

  it('gives no ratio to a zero reference and formats what it cannot show as n/a', () => {
    expect(ratio(50, 200)).toBe(0.25);
    expect(ratio(50, 0)).toBeNaN();
    expect(formatNumber(Number.NaN)).toBe('n/a');
    expect(formatNumber(12345.678, 1)).toBe('12,345.7');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });

  it('draws one bar per value, scaled to the largest, with labels escaped', () => {
    const svg = barChartSvg(
      [
        { label: 'ceiling <bare>', value: 1000, highlight: true },
        { label: 'hot board', value: 500 },
      ],
      { title: 'req/s', unit: 'requests per second', width: 900 },
    );
    const widths = [...svg.matchAll(/<rect x="300" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([450, 225]);
    expect(svg).toContain('ceiling &lt;bare&gt;');
    expect(() => barChartSvg([], { title: 't', unit: 'u' })).toThrow(/at least one bar/);
  });

  it('counts an update published for a subscriber\'s events but never received as lost, and one outside its filter as unexpected', () => {
    const d = (subscriber: number, eventId: string, capturedAtMs: number, receivedAtMs: number): Delivery => ({
      subscriber,
      key: `${eventId}|b|${capturedAtMs}`,
      eventId,
      capturedAtMs,
      publishedAtMs: capturedAtMs + 5,
      receivedAtMs,
    });
    const deliveries = [
      d(-1, '1', 100, 110),
      d(-1, '2', 200, 230),
      d(-1, '1', 5000, 5010), // captured after the window: ignored
      d(0, '1', 100, 120),
      d(1, '1', 100, 140),
      // subscriber 1 (events 1, 2) never got event 2's update; subscriber 2 (event 3) got event 2's
      d(2, '2', 200, 260),
    ];
    const summary = summariseDeliveries(deliveries, [['1'], ['1', '2'], ['3']], 0, 1000);
    expect(summary).toMatchObject({ published: 2, expected: 3, received: 3, lost: 1, unexpected: 1 });
    expect(summary.captureToReceiveMs).toEqual({ p50: 40, p99: 60, max: 60 });
    expect(summary.publishToReceiveMs).toEqual({ p50: 35, p99: 55, max: 55 });
    expect(summary.fanOutSpreadMs).toEqual({ p50: 30, p99: 30, max: 30 });
  });

  it('ranks functions by self time summed over their samples', () => {
    const frame = (functionName: string) => ({ functionName, url: 'file:///x/node_modules/graphql/execution/execute.js', lineNumber: 9 });
    const ranked = topSelfTimes({
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('executeFields') },
        { id: 3, callFrame: frame('completeValue') },
      ],
      samples: [2, 3, 2, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    });
    expect(ranked.map((r) => [r.name, r.selfMs, r.share])).toEqual([
      ['executeFields (graphql/execution/execute.js:10)', 3, 0.75],
      ['completeValue (graphql/execution/execute.js:10)', 1, 0.25],
    ]);
  });
});
