import type { Logger } from '../../ops/log.js';
import { RetryAfter } from '../budget/retry-after.js';
import { TokenBucket } from '../budget/token-bucket.js';
import { fetchJsonWithin } from './bounded-json.js';

/** What The Odds API says about the key's credits on every answer. */
export interface Quota {
  /** `x-requests-remaining`: credits left until the service's quota resets. */
  remaining?: number;
  /** `x-requests-used`: credits used since that reset. */
  used?: number;
  /** `x-requests-last`: what this request cost. */
  last?: number;
}

export type Answer =
  | { kind: 'ok'; body: unknown; quota: Quota }
  /** A 429: the service paces us; nothing was spent, and nothing is asked until `Retry-After` has passed. */
  | { kind: 'rate-limited'; quota: Quota }
  /** The service says the key has no credits left. */
  | { kind: 'exhausted'; quota: Quota };

export interface OddsApiClientOptions {
  apiKey: string;
  baseUrl: string;
  /** Requests per second on average, and at once after a quiet spell. */
  rateLimit: { perSecond: number; burst: number };
  timeoutMs: number;
  maxResponseBytes: number;
  now: () => number;
  logger?: Pick<Logger, 'warn'> | undefined;
  /** Counts each 429. */
  onRateLimited?: () => void;
}

/**
 * The Odds API's HTTP side: every request, free or paid, passes the rate
 * limit and any `Retry-After` first (`admit`), then `get` sends it and reads
 * the quota headers. A 429 is an answer, not an error: the caller does not
 * count it as a breaker failure; one warning is logged per storm of them.
 */
export class OddsApiClient {
  readonly retry: RetryAfter;
  /** The quota as the last answer that carried the headers said. */
  quota: Quota = {};
  readonly #options: OddsApiClientOptions;
  readonly #bucket: TokenBucket;

  constructor(options: OddsApiClientOptions) {
    this.#options = options;
    this.retry = new RetryAfter({ feed: 'The Odds API', logger: options.logger, onRateLimited: options.onRateLimited });
    this.#bucket = new TokenBucket({ ...options.rateLimit, now: options.now() });
  }

  /** Whether one request may go now (takes its token); false: try again at the next poll. */
  admit(): boolean {
    const now = this.#options.now();
    return !this.retry.waiting(now) && this.#bucket.take(now);
  }

  /**
   * GETs `path` with `query` and the key; throws on a refused key, another
   * status or a body that is not JSON. `credits` is what the request may
   * cost: a refusal while fewer remain means the credits are used up.
   */
  async get(path: string, query: Record<string, string>, credits = 1): Promise<Answer> {
    const { apiKey, baseUrl, maxResponseBytes, timeoutMs } = this.#options;
    const url = new URL(path, baseUrl);
    for (const [name, value] of Object.entries({ apiKey, ...query })) url.searchParams.set(name, value);
    const answer = await fetchJsonWithin(url, { maxBytes: maxResponseBytes, timeoutMs });
    const quota = readQuota(answer.headers);
    if (Object.keys(quota).length > 0) this.quota = { ...this.quota, ...quota };
    // The service refuses a key out of credits (401 or 429) with x-requests-remaining too low; a key it does not know gets 401 alone.
    const refused = answer.status === 429 || answer.status === 401;
    if (refused && quota.remaining !== undefined && quota.remaining < Math.max(credits, 1)) return { kind: 'exhausted', quota };
    if (answer.status === 429) {
      this.retry.tooManyRequests(this.#options.now(), answer.headers.get('retry-after'));
      return { kind: 'rate-limited', quota };
    }
    this.retry.answered();
    if (answer.status === 401) throw new Error('The Odds API refused the key (401): check ODDS_API_KEY');
    if (answer.status !== 200) throw new Error(`The Odds API answered ${answer.status} for ${url.pathname}`);
    return { kind: 'ok', body: answer.body, quota };
  }
}

function readQuota(headers: Headers): Quota {
  const quota: Quota = {};
  for (const [field, header] of [
    ['remaining', 'x-requests-remaining'],
    ['used', 'x-requests-used'],
    ['last', 'x-requests-last'],
  ] as const) {
    const value = headers.get(header)?.trim();
    if (value !== undefined && /^\d+(\.\d+)?$/.test(value)) quota[field] = Number(value);
  }
  return quota;
}
