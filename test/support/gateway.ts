import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { InProcessPubSub } from '../../src/pubsub/pubsub.js';
import { seedDatabase } from '../../src/seed/seed.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

export interface TestGateway {
  gateway: Gateway;
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
  close(): Promise<void>;
}

/** A gateway on a new, seeded database, listening on a free loopback port. */
export async function startTestGateway(options: {
  kind: DatabaseKind;
  cache: boolean;
  events?: number;
  bookmakers?: number;
  now?: Date;
  /** Settings beyond the cache's (limits, WebSocket guard, masking...); the rest keep their defaults. */
  config?: Omit<Partial<GatewayOptions['config']>, 'cache'>;
  log?: (message: string) => void;
}): Promise<TestGateway> {
  const statements: string[] = [];
  const test = await createTestDatabase(options.kind, { onStatement: (sql) => statements.push(sql) });
  await seedDatabase(test.db, { events: options.events ?? 60, bookmakers: options.bookmakers ?? 6, now: options.now });
  const pubsub = new InProcessPubSub();
  const gateway = await startGateway({
    pubsub,
    config: { host: '127.0.0.1', port: 0, cacheMaxBytes: 256 * 1024 * 1024, ...options.config, cache: options.cache },
    db: test.db,
    log: options.log ?? (() => {}),
  });
  statements.length = 0;
  return {
    gateway,
    pubsub,
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
    async close() {
      await gateway.close();
      await test.drop();
    },
  };
}
