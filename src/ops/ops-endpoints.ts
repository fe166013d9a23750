import type { Health } from './health.js';
import type { Metrics } from './metrics.js';

type Answer = { status: number; body: unknown } | { status: number; text: string; contentType: string };

/** The operations paths the gateway's HTTP server answers: `/health`, `/health/cache`, `/metrics`. */
export function opsEndpoints(health: Health, metrics: Metrics, cacheDetail: () => object): Record<string, () => Promise<Answer>> {
  return {
    '/health': async () => {
      const { httpStatus, body } = await health.report();
      return { status: httpStatus, body };
    },
    '/health/cache': async () => ({ status: 200, body: cacheDetail() }),
    '/metrics': async () => {
      const { contentType, body } = await metrics.scrape();
      return { status: 200, text: body, contentType };
    },
  };
}
