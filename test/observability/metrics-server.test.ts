import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../src/ops/metrics-server.js';
import { Metrics } from '../../src/ops/metrics.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

describe('the ingest process metrics server', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('serves its registry at /metrics and nothing else', async () => {
    const metrics = new Metrics();
    metrics.ingestSnapshots(7, 2);
    const server = await startMetricsServer(metrics, 0, '127.0.0.1');
    close = server.close;
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
    const families = parsePrometheusText(await response.text());
    expect(sampleValue(families, 'oddsgate_ingest_snapshots_total', 'oddsgate_ingest_snapshots_total', { result: 'written' })).toBe(7);
    expect(sampleValue(families, 'oddsgate_ingest_snapshots_total', 'oddsgate_ingest_snapshots_total', { result: 'duplicate' })).toBe(2);
    expect((await fetch(`${server.url}/graphql`)).status).toBe(404);
  });
});
