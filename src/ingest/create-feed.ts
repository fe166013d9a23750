import type { PrismaClient } from '../generated/prisma/client.js';
import type { FeedAdapter } from './feed-record.js';
import { HttpJsonFeed } from './http-feed.js';
import { SimulatedFeed } from './simulated-feed.js';

/** `FEED_URL` set: poll that HTTP JSON feed; unset: the simulated feed over the database's own events. */
export function createFeed(feedUrl: string | undefined, prisma: PrismaClient): FeedAdapter {
  return feedUrl ? new HttpJsonFeed({ url: feedUrl }) : new SimulatedFeed(prisma);
}
