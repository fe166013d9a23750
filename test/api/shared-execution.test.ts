import { execute, parse, type ExecutionResult, type GraphQLFieldResolver, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/api/schema.js';
import { executionKey, SharedExecutions } from '../../src/api/shared-execution.js';
import { payloadBytes } from '../../src/api/shared-payload.js';
import type { SnapshotRecord } from '../../src/domain/records.js';
import { InProcessPubSub, type OddsUpdateMessage } from '../../src/live/pubsub.js';

const document = parse(/* GraphQL */ `
  subscription Odds($ids: [ID!], $keys: [String!]) {
    oddsUpdated(eventIds: $ids) { cursor snapshot { capturedAt markets(keys: $keys) { key } } }
  }
`);

function update(eventId: number, position: bigint): OddsUpdateMessage {
  const snapshot: SnapshotRecord = {
    id: Number(position),
    nodeId: `${eventId}:1`,
    eventId,
    bookmakerId: 1,
    capturedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, Number(position))).toISOString(),
    markets: [
      { key: '1x2', line: null, outcomes: [] },
      { key: 'btts', line: null, outcomes: [] },
    ] as unknown as SnapshotRecord['markets'],
  };
  return { eventId, bookmakerId: 1, snapshot, changedMarkets: ['1x2'], publishedAt: 0, place: { position, index: 0 } };
}

/** The schema with `OddsUpdate.cursor`'s resolver counting its calls: one call per execution of an update. */
function countingSchema() {
  const schema = buildSchema();
  const field = (schema.getType('OddsUpdate') as GraphQLObjectType).getFields().cursor!;
  const resolve = field.resolve as GraphQLFieldResolver<unknown, unknown>;
  const calls = { count: 0 };
  field.resolve = (...args) => {
    calls.count++;
    return resolve(...args);
  };
  return { schema, calls };
}

describe('shared execution of subscription updates', () => {
  it('executes each update once for every subscriber of one selection, whatever their filters, and gives them the same answer', async () => {
    const { schema, calls } = countingSchema();
    const pubsub = new InProcessPubSub();
    const shared = new SharedExecutions();
    const subscribe = async (ids: string[]) => {
      const stream = await shared.subscribe({ schema, document, contextValue: { pubsub }, variableValues: { ids, keys: ['1x2'] } });
      if (!(Symbol.asyncIterator in stream)) throw new Error(`subscribe failed: ${JSON.stringify(stream)}`);
      return stream;
    };
    const onOneAndTwo = await Promise.all(Array.from({ length: 40 }, () => subscribe(['1', '2'])));
    const onTwoAndThree = await Promise.all(Array.from({ length: 40 }, () => subscribe(['2', '3'])));

    for (const [i, eventId] of [1, 2, 3].entries()) pubsub.publish(update(eventId, BigInt(i + 1)));
    const first = await Promise.all(onOneAndTwo.map(async (s) => [(await s.next()).value, (await s.next()).value] as ExecutionResult[]));
    const second = await Promise.all(onTwoAndThree.map(async (s) => [(await s.next()).value, (await s.next()).value] as ExecutionResult[]));

    // Three updates, one selection: three executions for 160 answers.
    expect(calls.count).toBe(3);
    expect(shared.stats()).toEqual({ executions: 3, shared: 157 });
    const cursors = (answers: ExecutionResult[][]) => new Set(answers.map((pair) => pair.map((a) => JSON.stringify(a)).join()));
    expect(cursors(first).size).toBe(1);
    expect(cursors(second).size).toBe(1);
    // Update 2 reached both groups: one answer object, so one serialization.
    expect(first[0]![1]).toBe(second[0]![0]);
    expect(JSON.parse(JSON.stringify({ ...first[0]![0] }))).not.toHaveProperty('data'); // serialized by the socket's send, not here
    await Promise.all([...onOneAndTwo, ...onTwoAndThree].map((s) => s.return()));
  });

  it('gives subscribers whose selection variables differ their own answers, each executed once', async () => {
    const { schema, calls } = countingSchema();
    const pubsub = new InProcessPubSub();
    const shared = new SharedExecutions();
    const subscribe = async (keys: string[] | null) => {
      const stream = await shared.subscribe({ schema, document, contextValue: { pubsub }, variableValues: { keys } });
      if (!(Symbol.asyncIterator in stream)) throw new Error(`subscribe failed: ${JSON.stringify(stream)}`);
      return stream;
    };
    const streams = [await subscribe(['1x2']), await subscribe(['1x2']), await subscribe(['btts']), await subscribe(null)];
    pubsub.publish(update(7, 1n));
    const answers = await Promise.all(streams.map(async (s) => (await s.next()).value as ExecutionResult));
    const markets = answers.map((a) => JSON.parse(JSON.stringify({ data: a.data })) as { data: { oddsUpdated: { snapshot: { markets: unknown } } } });
    expect(markets.map((m) => m.data.oddsUpdated.snapshot.markets)).toEqual([[{ key: '1x2' }], [{ key: '1x2' }], [{ key: 'btts' }], [{ key: '1x2' }, { key: 'btts' }]]);
    expect(calls.count).toBe(3);
    expect(shared.stats()).toEqual({ executions: 3, shared: 1 });
    await Promise.all(streams.map((s) => s.return()));
  });

  it('executes each update of a batch once for all batch subscribers, and joins the bytes into exactly what executing the batch serializes to', async () => {
    const { schema, calls } = countingSchema();
    const batchDocument = parse(/* GraphQL */ `
      subscription Odds($ids: [ID!], $keys: [String!]) {
        odds: oddsUpdatedBatch(eventIds: $ids) { cursor snapshot { capturedAt markets(keys: $keys) { key } } }
      }
    `);
    const pubsub = new InProcessPubSub();
    const shared = new SharedExecutions();
    const subscribe = async (ids: string[]) => {
      const stream = await shared.subscribe({ schema, document: batchDocument, contextValue: { pubsub }, variableValues: { ids, keys: ['1x2'] } });
      if (!(Symbol.asyncIterator in stream)) throw new Error(`subscribe failed: ${JSON.stringify(stream)}`);
      return stream;
    };
    const all = await Promise.all(Array.from({ length: 20 }, () => subscribe(['1', '2', '3'])));
    const someOf = await Promise.all(Array.from({ length: 20 }, () => subscribe(['2', '3'])));

    const updates = [1, 2, 3].map((eventId, i) => update(eventId, BigInt(i + 1)));
    for (const published of updates) pubsub.publish(published);
    const batches = await Promise.all([...all, ...someOf].map(async (s) => (await s.next()).value as ExecutionResult));

    // One burst, one message each; three updates executed once, whoever's batch they are in.
    expect(calls.count).toBe(3);
    expect(shared.stats().executions).toBe(3);
    const expected = (published: OddsUpdateMessage[]) =>
      JSON.stringify(execute({ schema, document: batchDocument, rootValue: published, contextValue: { pubsub }, variableValues: { keys: ['1x2'] } }));
    for (const batch of batches.slice(0, 20)) expect(payloadBytes(batch).toString()).toBe(expected(updates));
    for (const batch of batches.slice(20)) expect(payloadBytes(batch).toString()).toBe(expected(updates.slice(1)));
    expect((batches[0]!.data!.odds as unknown[]).length).toBe(3);
    // The same updates in a batch: one answer, so its bytes are joined once.
    expect(new Set(batches.slice(0, 20)).size).toBe(1);
    expect(new Set(batches.slice(20)).size).toBe(1);
    await Promise.all([...all, ...someOf].map((s) => s.return()));
  });

  it('keys an execution by the document without the root field arguments and by the variables used elsewhere', () => {
    const key = (query: string, variables?: Record<string, unknown>) => executionKey(parse(query), undefined, variables);
    const base = key('subscription ($ids: [ID!], $after: String) { oddsUpdated(eventIds: $ids, after: $after) { cursor } }', { ids: ['1'], after: 'a' });
    expect(key('subscription ($ids: [ID!], $after: String) { oddsUpdated(eventIds: $ids, after: $after) { cursor } }', { ids: ['2'] })).toBe(base);
    expect(key('subscription ($ids: [ID!], $after: String) {  oddsUpdated(eventIds: $ids, after: $after) { cursor }}', { ids: ['2'] })).toBe(base);
    // A literal filter is a root argument too.
    expect(key('subscription { oddsUpdated(eventIds: ["3"]) { cursor } }')).toBe(key('subscription { oddsUpdated { cursor } }'));
    // A variable the selection uses, an alias, another selection: another key.
    const withKeys = 'subscription ($k: [String!]) { oddsUpdated { snapshot { markets(keys: $k) { key } } } }';
    expect(key(withKeys, { k: ['1x2'] })).not.toBe(key(withKeys, { k: ['btts'] }));
    expect(key('subscription { o: oddsUpdated { cursor } }')).not.toBe(key('subscription { oddsUpdated { cursor } }'));
    expect(key('subscription { oddsUpdated { cursor publishedAt } }')).not.toBe(key('subscription { oddsUpdated { cursor } }'));
    // Not shared: a query, or a root selection through a fragment.
    expect(key('{ oddsCursor }')).toBeUndefined();
    expect(key('subscription { ...F } fragment F on Subscription { oddsUpdated { cursor } }')).toBeUndefined();
  });

  it('keys one parsed document (as subscribers of one text share it) by the variables and operation name of each call', () => {
    const shared = parse('subscription A($k: [String!]) { oddsUpdated { snapshot { markets(keys: $k) { key } } } } query B { oddsCursor }');
    const first = executionKey(shared, 'A', { k: ['1x2'] });
    expect(executionKey(shared, 'A', { k: ['btts'] })).not.toBe(first);
    expect(executionKey(shared, 'A', { k: ['1x2'] })).toBe(first);
    expect(executionKey(shared, 'B', { k: ['1x2'] })).toBeUndefined();
    // No name with two operations is no operation; an empty name names none either.
    expect(executionKey(shared, undefined, {})).toBeUndefined();
    expect(executionKey(shared, '', {})).toBeUndefined();
  });
});
