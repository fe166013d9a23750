import type { FeedAdapter } from './feed-record.js';

export interface HttpFeedOptions {
  /** The feed's URL. Each poll GETs it, with `?since=<cursor>` once the feed has returned a cursor. */
  url: string;
  /** Give up on one poll after this long, in milliseconds (default 5 seconds). */
  timeoutMs?: number;
}

/**
 * Polls an HTTP JSON feed. The format (documented in the README):
 *
 *     GET <url>[?since=<cursor>]  ->  200 { "records": [<feed record>, ...], "cursor": "<opaque>" }
 *
 * `cursor` tells the feed where this poll stopped; the next poll sends it
 * back as `since`, so a feed can return only what is new. Records are
 * checked by the worker, not here. A failed poll throws: the worker logs it
 * and tries again next cycle, and the cursor stays where it was, so nothing
 * is skipped (re-delivered records are stored once).
 */
export class HttpJsonFeed implements FeedAdapter {
  readonly name: string;
  #cursor: string | undefined;

  constructor(private readonly options: HttpFeedOptions) {
    this.name = `http ${options.url}`;
  }

  async poll(): Promise<unknown[]> {
    const url = new URL(this.options.url);
    if (this.#cursor !== undefined) url.searchParams.set('since', this.#cursor);
    const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) });
    if (!response.ok) throw new Error(`feed ${this.options.url} answered ${response.status}`);
    const body = (await response.json()) as { records?: unknown; cursor?: unknown };
    if (!Array.isArray(body.records)) {
      throw new Error(`feed ${this.options.url} sent no "records" array; expected { "records": [...], "cursor": "..." }`);
    }
    if (typeof body.cursor === 'string') this.#cursor = body.cursor;
    return body.records;
  }
}
