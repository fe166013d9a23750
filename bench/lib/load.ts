import { httpRequest } from './http.js';
import { runWrk } from './wrk.js';

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors, timeouts and non-2xx answers during the load, and the answer checked after it if it was not clean. */
  errors: number;
  /** That answer's start, when it was not a clean GraphQL answer. */
  firstBadBody: string | undefined;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  /** The JSON POST body. */
  body: string;
}

/**
 * Runs wrk against one URL (autocannon saturated a core of its own before the gateway did). wrk checks every
 * answer's status; checking each body in its Lua made it the bottleneck on a 600 KB board (bench/lib/wrk.ts),
 * so the bytes are checked on one answer to the same request right after the load: a GraphQL body must start
 * with `data` and hold no `errors` (a field so named exists nowhere in this schema). The ceiling's replayed
 * bytes pass the same check. The request also lets the next load start on an idle server.
 */
export async function runLoad({ url, connections, durationS, body }: LoadOptions): Promise<LoadResult> {
  const result = await runWrk({ url, connections, durationS, bodies: [body], check: 'status' });
  const { status, text } = await httpRequest(url, body);
  const clean = status === 200 && text.startsWith('{"data":') && !text.includes('"errors":');
  return { ...result, durationS, errors: result.errors + (clean ? 0 : 1), firstBadBody: clean ? undefined : text.slice(0, 500) };
}
