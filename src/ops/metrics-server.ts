import http from 'node:http';
import { listen } from './listen.js';
import type { Metrics } from './metrics.js';

/**
 * `/metrics` (and `/health`, given `health`) for a process without the
 * gateway's HTTP server (`npm run ingest` with `METRICS_PORT`): nothing else
 * is served.
 */
export async function startMetricsServer(
  metrics: Metrics,
  port: number,
  host: string,
  health?: () => object,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/health' && health) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(health()));
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only /metrics and /health are served here.\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(error as Error).message}\n`),
    );
  });
  const url = await listen(server, port, host);
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
