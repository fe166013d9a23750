import { execute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLContext } from '../../src/api/context.js';
import { createLoaders } from '../../src/api/loaders.js';
import { buildSchema } from '../../src/api/schema.js';
import { OddsReader } from '../../src/db/odds-reader.js';
import { InProcessPubSub } from '../../src/live/pubsub.js';
import { silentLogger } from '../../src/ops/log.js';
import { DisabledCache } from '../../src/read/odds-cache.js';
import { createSharedReads } from '../../src/read/shared-reads.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';

// The resolvers on the real schema and a seeded database, without the cache or a server in between.
describe('the resolvers', () => {
  let test: TestDatabase;
  const schema = buildSchema();
  let context: () => GraphQLContext;
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded-small');
    const reader = new OddsReader(test.db.prisma);
    const reads = createSharedReads(new DisabledCache(), reader);
    context = () => ({ loaders: createLoaders(reads), reader, board: null, pubsub: new InProcessPubSub(), log: silentLogger(), logPosition: 0n });
  });
  afterAll(() => test?.drop());

  const run = (query: string, variables?: Record<string, unknown>) =>
    execute({ schema, document: parse(query), variableValues: variables, contextValue: context() }) as Promise<{
      data?: Record<string, unknown> | null;
      errors?: ReadonlyArray<{ message: string; extensions: Record<string, unknown> }>;
    }>;

  it('answers null, not an error, for an event id that names no event', async () => {
    for (const id of ['999999', 'abc', '-1', '12345678901']) {
      expect(await run('query ($id: ID!) { event(id: $id) { id } }', { id })).toEqual({ data: { event: null } });
    }
  });

  it('refuses a page size out of range, naming the argument', async () => {
    const { data, errors } = await run('{ events(first: 201) { totalCount } }');
    expect(data).toBeNull();
    expect(errors).toEqual([expect.objectContaining({ message: 'first must be from 0 to 200, got 201', extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' } })]);
  });

  it('refuses a history range that ends before it starts, naming its end', async () => {
    const event = await test.db.prisma.event.findFirstOrThrow();
    const { errors } = await run(`{ oddsHistory(eventId: "${event.id}", since: "2026-11-22T12:00:00Z", until: "2026-11-22T11:00:00Z") { id } }`);
    expect(errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'until' });
  });

  it('answers an unknown bookmaker’s history with an empty list, and a known one’s newest first', async () => {
    const event = await test.db.prisma.event.findFirstOrThrow();
    const bookmaker = await test.db.prisma.bookmaker.findFirstOrThrow();
    expect(await run(`{ oddsHistory(eventId: "${event.id}", bookmaker: "nobody") { id } }`)).toEqual({ data: { oddsHistory: [] } });
    const { data } = await run(`{ oddsHistory(eventId: "${event.id}", bookmaker: "${bookmaker.key}") { capturedAt bookmaker { key } } }`);
    const history = (data as { oddsHistory: Array<{ capturedAt: string; bookmaker: { key: string } }> }).oddsHistory;
    expect(history.length).toBeGreaterThan(1);
    expect(history.every((s) => s.bookmaker.key === bookmaker.key)).toBe(true);
    expect(history.map((s) => s.capturedAt)).toEqual(history.map((s) => s.capturedAt).sort().reverse());
  });

  it('lists one sport’s competitions by its key, and none for an unknown sport', async () => {
    const football = await test.db.prisma.sport.findFirstOrThrow({ where: { key: 'football' }, include: { competitions: true } });
    const { data } = await run('{ competitions(sport: "football") { name sport { key } } }');
    const competitions = (data as { competitions: Array<{ name: string; sport: { key: string } }> }).competitions;
    expect(competitions.map((c) => c.name).sort()).toEqual(football.competitions.map((c) => c.name).sort());
    expect(competitions.every((c) => c.sport.key === 'football')).toBe(true);
    expect(await run('{ competitions(sport: "curling") { name } }')).toEqual({ data: { competitions: [] } });
  });
});
