import { openPersistedQueryStore } from '../../src/api/persisted-queries.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { SimulatedFeed, type SimulatedFeedOptions } from '../../src/ingest/simulated-feed.js';
import { IngestWorker, type IngestWorkerOptions } from '../../src/ingest/worker.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import type { InProcessPubSub } from '../../src/live/pubsub.js';
import { createTestDatabase, type DatabaseKind, type SeededShape, type TestDatabase } from './databases.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/ops/log.js';

export interface TestGateway {
  gateway: Gateway;
  /** The bus a worker in the test publishes to; the gateway listens on it. */
  bus: InProcessOddsBus;
  /** The gateway's own subscribers. */
  pubsub: InProcessPubSub;
  test: TestDatabase;
  /** Statements PostgreSQL received since the last `resetStatements` (PostgreSQL only). */
  statements: string[];
  resetStatements(): void;
  /** POSTs a GraphQL operation and returns the parsed JSON body. */
  query<T = { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<T>;
  /**
   * An ingest worker on the simulated feed, writing to this gateway's database and publishing on its bus (not started);
   * a feed on a fake clock (`now`) gives the worker the same clock, so its records are not from the future.
   */
  simulatedWorker(feed?: SimulatedFeedOptions, options?: Pick<IngestWorkerOptions, 'intervalMs'>): IngestWorker;
  close(): Promise<void>;
}

/** A gateway on a new copy of a seeded database (`seededShapes`), listening on a free loopback port. */
export async function startTestGateway(options: {
  kind: DatabaseKind;
  cache: boolean;
  /** The data set (default `seeded`: the board of 80 events x 6 bookmakers). */
  shape?: SeededShape;
  /** Settings beyond the cache's (limits, breakers, WebSocket guard, masking...); the rest keep their defaults. */
  config?: Omit<Partial<GatewayOptions['config']>, 'cache'>;
  /** Receives each log line's message and the whole line (default: nothing is logged). */
  log?: (message: string, line: LogLine) => void;
  /** Keeps automatic persisted queries in this Redis, as `REDIS_URL` does (default: Apollo's in-memory store). */
  redisUrl?: string;
}): Promise<TestGateway> {
  const statements: string[] = [];
  const test = await createTestDatabase(options.kind, options.shape ?? 'seeded', { onStatement: (sql) => statements.push(sql) });
  const bus = new InProcessOddsBus();
  const logger = options.log ? messagesTo(options.log) : silentLogger();
  const persistedQueries = openPersistedQueryStore(options.redisUrl, { logger });
  const gateway = await startGateway({
    bus,
    persistedQueries: persistedQueries.cache,
    config: { host: '127.0.0.1', port: 0, cacheMaxBytes: 256 * 1024 * 1024, ...options.config, cache: options.cache },
    db: test.db,
    logger,
  });
  statements.length = 0;
  return {
    gateway,
    bus,
    pubsub: gateway.pubsub,
    test,
    statements,
    resetStatements: () => {
      statements.length = 0;
    },
    async query(query, variables) {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    simulatedWorker(feed = {}, options = {}) {
      return new IngestWorker({
        prisma: test.db.prisma,
        feed: new SimulatedFeed(test.db.prisma, feed),
        bus,
        logger: silentLogger(),
        ...(feed.now && { now: feed.now }),
        ...options,
      });
    },
    async close() {
      await gateway.close();
      await persistedQueries.close();
      await test.drop();
    },
  };
}

/** One pino line as JSON: its message, the fields bound to the logger (`reqId`, `connId`...) and those logged with it. */
export type LogLine = { msg: string; level: number; err?: { message: string; stack: string } } & Record<string, unknown>;

/** A logger that hands each line's message (and the line) to `log`, for tests that check what was logged. */
export function messagesTo(log: (message: string, line: LogLine) => void): Logger {
  return pino({ level: 'debug' }, {
    write: (text: string) => {
      const line = JSON.parse(text) as LogLine;
      log(line.msg, line);
    },
  });
}
