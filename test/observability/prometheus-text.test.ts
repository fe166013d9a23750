import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../support/prometheus-text.js';

// The test parser must itself fail on what Prometheus would reject, or the /metrics tests prove nothing.
describe('the strict Prometheus text parser used by the tests', () => {
  const valid = [
    '# HELP jobs_total Jobs done, "quoted" \\\\ and \\n escaped.',
    '# TYPE jobs_total counter',
    'jobs_total{queue="a\\"b",kind="x"} 3',
    '# TYPE wait_seconds histogram',
    'wait_seconds_bucket{le="0.1",q="a"} 1',
    'wait_seconds_bucket{le="+Inf",q="a"} 2',
    'wait_seconds_sum{q="a"} 0.3',
    'wait_seconds_count{q="a"} 2',
  ].join('\n');

  it('reads families, labels, escapes and histograms', () => {
    const families = parsePrometheusText(valid);
    expect(families.get('jobs_total')).toEqual({
      name: 'jobs_total',
      type: 'counter',
      help: 'Jobs done, "quoted" \\ and \n escaped.',
      samples: [{ name: 'jobs_total', labels: { queue: 'a"b', kind: 'x' }, value: 3 }],
    });
    expect(families.get('wait_seconds')!.samples).toHaveLength(4);
  });

  it('reads NaN and infinities in any case, as Prometheus does (prom-client writes "Nan")', () => {
    const values = parsePrometheusText('# TYPE m gauge\nm{a="1"} Nan\nm{a="2"} +Inf\nm{a="3"} -inf').get('m')!.samples.map((s) => s.value);
    expect(values).toEqual([NaN, Infinity, -Infinity]);
  });

  it.each([
    ['a sample with no TYPE before it', 'orphan 1'],
    ['a bad label name', '# TYPE m gauge\nm{1x="a"} 1'],
    ['a bad escape', '# TYPE m gauge\nm{a="\\t"} 1'],
    ['a value that is not a number', '# TYPE m gauge\nm 1,5'],
    ['a duplicate series', '# TYPE m gauge\nm{a="1"} 1\nm{a="1"} 2'],
    ['a second TYPE', '# TYPE m gauge\n# TYPE m gauge'],
    ['buckets that shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1'],
    ['a +Inf bucket that differs from the count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3'],
  ])('rejects %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
