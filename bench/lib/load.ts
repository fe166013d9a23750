import autocannon from 'autocannon';

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Every response that was not a clean answer: socket errors, timeouts, non-2xx, bodies with GraphQL errors. */
  errors: number;
  /** `graphqlErrors` counts every completed response whose body failed the check (non-2xx ones included). */
  errorDetail: { socket: number; timeouts: number; non2xx: number; graphqlErrors: number };
  /** The first failing body seen, to show what went wrong. */
  firstBadBody: string | undefined;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  /** A JSON POST body; without it, GET. */
  body?: string;
}

/**
 * Runs autocannon against one URL and checks every response body: a GraphQL
 * body must carry `data` and no `errors` (autocannon counts a failed check as
 * a mismatch). The ceiling server's replayed bytes pass the same check.
 */
export async function runLoad({ url, connections, durationS, body }: LoadOptions): Promise<LoadResult> {
  let firstBadBody: string | undefined;
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    verifyBody: (raw) => {
      const text = String(raw);
      // A GraphQL response is an object whose first key is `data` (or `errors`); a field
      // named "errors" exists nowhere in this schema, so the substring means an error.
      const ok = text.startsWith('{"data":') && !text.includes('"errors":');
      if (!ok) firstBadBody ??= text.slice(0, 500);
      return ok;
    },
  });
  const errorDetail = {
    socket: result.errors - result.timeouts,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
  };
  return {
    connections,
    durationS,
    requests: result.requests.total,
    reqPerSec: result.requests.total / durationS,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // A non-2xx response also fails the body check, so it is counted once, as a mismatch.
    errors: result.errors + result.mismatches,
    errorDetail,
    firstBadBody,
  };
}
