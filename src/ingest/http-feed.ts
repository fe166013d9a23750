import type { FeedAdapter, FeedBatch } from './feed-record.js';
import { RetryAfter, type RetryAfterOptions } from './budget/retry-after.js';
import { TokenBucket } from './budget/token-bucket.js';
import { defaultMaxResponseBytes, fetchJsonWithin } from './feeds/bounded-json.js';

export interface HttpFeedOptions {
  /** The feed's URL. Each poll GETs it, with `?since=<cursor>` once a cursor was committed, and `limit`. */
  url: string;
  /** Give up on one poll after this long, in milliseconds (default 5 seconds). */
  timeoutMs?: number;
  /** Refuse an answer larger than this, in bytes, unparsed (default 10 MiB). */
  maxResponseBytes?: number;
  /** Polls per second on average, and at once after a quiet spell (default: as often as the worker asks). */
  rateLimit?: { perSecond: number; burst: number } | undefined;
  now?: () => number;
  /** Where a 429 storm's one warning goes, and what counts each 429. */
  logger?: RetryAfterOptions['logger'];
  onRateLimited?: () => void;
}

/**
 * Polls an HTTP JSON feed. The format (documented in the README):
 *
 *     GET <url>?[since=<cursor>&]limit=<n>  ->  200 { "records": [<feed record>, ...], "cursor": "<opaque>" }
 *
 * `cursor` tells the feed where this answer stopped; the worker commits it
 * with what the records produced and sends it back as `since` on the next
 * poll, so a feed returns only what is new, and a restarted worker asks
 * from the last commit. An answer without a cursor leaves it where it was.
 * Records are checked by the worker, not here. A failed poll throws: the
 * worker tries again with the same cursor, so nothing is skipped. A 429 is
 * not a failure: the feed answers nothing new until `Retry-After` has
 * passed, and so does a poll the rate limit holds back.
 */
export class HttpJsonFeed implements FeedAdapter {
  readonly name: string;
  readonly #now: () => number;
  readonly #bucket: TokenBucket | undefined;
  readonly #retry: RetryAfter;

  constructor(private readonly options: HttpFeedOptions) {
    this.name = `http ${options.url}`;
    this.#now = options.now ?? Date.now;
    this.#bucket = options.rateLimit && new TokenBucket({ ...options.rateLimit, now: this.#now() });
    this.#retry = new RetryAfter({ feed: `feed ${options.url}`, logger: options.logger, onRateLimited: options.onRateLimited });
  }

  async poll(cursor: string | null, maxRecords: number): Promise<FeedBatch> {
    const now = this.#now();
    if (this.#retry.waiting(now) || this.#bucket?.take(now) === false) return { records: [], cursor };
    const url = new URL(this.options.url);
    if (cursor !== null) url.searchParams.set('since', cursor);
    url.searchParams.set('limit', String(maxRecords));
    const answer = await fetchJsonWithin(url, {
      maxBytes: this.options.maxResponseBytes ?? defaultMaxResponseBytes,
      timeoutMs: this.options.timeoutMs ?? 5_000,
    });
    if (answer.status === 429) {
      this.#retry.tooManyRequests(now, answer.headers.get('retry-after'));
      return { records: [], cursor };
    }
    this.#retry.answered();
    if (answer.status !== 200) throw new Error(`feed ${this.options.url} answered ${answer.status}`);
    const body = (answer.body ?? {}) as { records?: unknown; cursor?: unknown };
    if (!Array.isArray(body.records)) {
      throw new Error(`feed ${this.options.url} sent no "records" array; expected { "records": [...], "cursor": "..." }`);
    }
    return { records: body.records, cursor: typeof body.cursor === 'string' ? body.cursor : cursor };
  }
}
