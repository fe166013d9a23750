import type { FeedAdapter, FeedBatch } from './feed-record.js';
import { defaultMaxResponseBytes, fetchJsonWithin } from './feeds/bounded-json.js';

export interface HttpFeedOptions {
  /** The feed's URL. Each poll GETs it, with `?since=<cursor>` once a cursor was committed, and `limit`. */
  url: string;
  /** Give up on one poll after this long, in milliseconds (default 5 seconds). */
  timeoutMs?: number;
  /** Refuse an answer larger than this, in bytes, unparsed (default 10 MiB). */
  maxResponseBytes?: number;
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
 * worker tries again with the same cursor, so nothing is skipped.
 */
export class HttpJsonFeed implements FeedAdapter {
  readonly name: string;

  constructor(private readonly options: HttpFeedOptions) {
    this.name = `http ${options.url}`;
  }

  async poll(cursor: string | null, maxRecords: number): Promise<FeedBatch> {
    const url = new URL(this.options.url);
    if (cursor !== null) url.searchParams.set('since', cursor);
    url.searchParams.set('limit', String(maxRecords));
    const answer = await fetchJsonWithin(url, {
      maxBytes: this.options.maxResponseBytes ?? defaultMaxResponseBytes,
      timeoutMs: this.options.timeoutMs ?? 5_000,
    });
    if (answer.status !== 200) throw new Error(`feed ${this.options.url} answered ${answer.status}`);
    const body = (answer.body ?? {}) as { records?: unknown; cursor?: unknown };
    if (!Array.isArray(body.records)) {
      throw new Error(`feed ${this.options.url} sent no "records" array; expected { "records": [...], "cursor": "..." }`);
    }
    return { records: body.records, cursor: typeof body.cursor === 'string' ? body.cursor : cursor };
  }
}
