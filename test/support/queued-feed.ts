import type { FeedAdapter, FeedBatch } from '../../src/ingest/feed-record.js';

/** A feed that delivers whatever the test queued: the worker is under test, not the feed. */
export class QueuedFeed implements FeedAdapter {
  readonly name = 'queued';
  queue: unknown[] = [];
  /** The cursor the next answer returns; unset: the cursor it was asked from. */
  cursor: string | undefined;
  async poll(cursor: string | null): Promise<FeedBatch> {
    const records = this.queue;
    this.queue = [];
    return { records, cursor: this.cursor ?? cursor };
  }
}
