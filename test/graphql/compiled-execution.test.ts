import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, type CacheKey } from '../../src/domain/cache-keys.js';
import { deepFreeze, type BookmakerRecord, type CompetitionRecord, type EventOddsRecord, type SportRecord } from '../../src/domain/records.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { InProcessOddsBus } from '../../src/live/odds-bus.js';
import { silentLogger } from '../../src/ops/log.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { boardQuery, eventQuery, historyQuery, referenceQuery } from './queries.js';

interface Operation {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/**
 * What clients send, and what they get wrong: every shape graphql-jit
 * compiles differently from graphql-js's interpreter (aliases, fragments,
 * directives, variables and their coercion, nulls, errors with partial data,
 * introspection, a document with several operations).
 */
const corpus: Operation[] = [
  { name: 'board', query: boardQuery, variables: { first: 5 } },
  { name: 'board, filtered', query: boardQuery, variables: { first: 4, filter: { sport: 'football', hasOdds: true, status: ['SCHEDULED', 'LIVE'] } } },
  { name: 'board, backward', query: boardQuery, variables: { last: 3 } },
  { name: 'event narrowed', query: eventQuery, variables: { id: '3', bookmakers: ['northbet'], markets: ['1x2', 'over_under'], market: '1x2' } },
  { name: 'history', query: historyQuery, variables: { eventId: '5', first: 4 } },
  { name: 'history of one market between dates', query: historyQuery, variables: { eventId: '7', market: 'over_under', since: '2000-01-01T00:00:00Z', until: '2100-01-01T00:00:00.000Z' } },
  { name: 'reference data', query: referenceQuery },
  { name: 'the change log cursor beside the board', query: `query($n: Int) { oddsCursor events(first: $n) { totalCount } }`, variables: { n: 2 } },
  {
    name: 'aliases',
    query: `{ a: events(first: 2) { nodes { id team: home } } b: events(first: 1, filter: { sport: "tennis" }) { count: totalCount nodes { id } } }`,
  },
  {
    name: 'named and inline fragments, __typename',
    query: `query { events(first: 2) { __typename nodes { ...E } } }
      fragment E on Event { __typename id ... on Event { away kickoffAt } odds { ...S } }
      fragment S on OddsSnapshot { id __typename bookmaker { key } markets(keys: ["btts"]) { id line status outcomes { id result } } }`,
  },
  ...[true, false].flatMap((withOdds) =>
    [true, false].map((skipClock) => ({
      name: `@include(if: ${withOdds}) and @skip(if: ${skipClock})`,
      query: `query Directives($withOdds: Boolean!, $skipClock: Boolean!) {
        events(first: 3) { nodes { id odds @include(if: $withOdds) { id } score { home away } clock @skip(if: $skipClock) { period minute } } }
      }`,
      variables: { withOdds, skipClock },
    })),
  ),
  { name: 'nulls: no such event, an id that names none', query: `{ missing: event(id: "99999") { id } bad: event(id: "abc") { id } }` },
  { name: 'nulls: scores, clocks and lines', query: `{ events(first: 20) { nodes { score { home } clock { minute } odds { markets { line outcomes { previousPrice result } } } } } }` },
  { name: 'enum and list variables', query: `query($s: [EventStatus!], $n: Int) { events(first: $n, filter: { status: $s }) { totalCount } }`, variables: { s: ['SCHEDULED'], n: 2 } },
  { name: 'default variable values', query: `query($n: Int = 2) { events(first: $n) { nodes { id } } }` },
  {
    name: 'two operations, one chosen',
    query: `query One { sports { key } } query Two { bookmakers { key name } }`,
    operationName: 'Two',
  },
  { name: 'error: page too large', query: `{ events(first: 500) { totalCount } }` },
  { name: 'error: first and last', query: `{ events(first: 1, last: 1) { totalCount } }` },
  { name: 'error: bad cursor', query: `{ events(after: "not a cursor") { totalCount } }` },
  { name: 'error in a non-null root field', query: `{ sports { key } event(id: "1") { id } tooMany: oddsHistory(eventId: "1", first: 201) { id } }` },
  { name: 'error: dates the wrong way round', query: historyQuery, variables: { eventId: '1', since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' } },
  { name: 'error: a variable of the wrong type', query: `query($n: Int) { events(first: $n) { totalCount } }`, variables: { n: 'ten' } },
  { name: 'error: a required variable missing', query: eventQuery, variables: {} },
  { name: 'error: a DateTime that is not one', query: historyQuery, variables: { eventId: '1', since: 'yesterday' } },
  // Spliced answers (src/api/spliced-execution.ts) serialise a record's part once per selection shape: the same
  // records selected in other orders, merged, narrowed by directives, aliased, named by __typename.
  {
    name: 'the same records under two shapes in one answer',
    query: `{ a: events(first: 2) { nodes { odds { markets { key outcomes { price } } } } }
      b: events(first: 2) { nodes { odds { markets { outcomes { price } key } bookmaker { name key } } } } }`,
  },
  {
    name: 'fields merged across selections and fragments',
    query: `{ events(first: 2) { nodes { odds { markets { key } markets { name outcomes { key } } ...M } } } }
      fragment M on OddsSnapshot { markets { outcomes { price key } margin } bookmaker { key } bookmaker { __typename id } }`,
  },
  {
    name: 'directives with literals inside a record\'s part',
    query: `{ events(first: 2) { nodes { odds { markets { key @skip(if: true) name @include(if: false) line @include(if: true) outcomes { ... on Outcome @skip(if: false) { id __typename } } } } } } }`,
  },
  ...[true, false].map((withPrices) => ({
    name: `@include(if: ${withPrices}) inside a record's part, and its arguments from variables`,
    query: `query Prices($withPrices: Boolean!, $keys: [String!]) {
      events(first: 2) { nodes { odds { markets(keys: $keys) { key outcomes { key price @include(if: $withPrices) p: price } } } } }
    }`,
    variables: { withPrices, keys: ['1x2', 'btts'] },
  })),
  { name: 'aliases and __typename inside a record\'s part', query: `{ event(id: "2") { odds { b: bookmaker { k: key __typename } markets { t: __typename m: margin } } } }` },
  { name: 'introspection', query: `{ __type(name: "OddsSnapshot") { name fields { name type { name kind ofType { name } } } } __schema { queryType { name } } }` },
];

/** How many operations `metrics` (the gateway's Prometheus text) says were executed by `engine`. */
function executions(metrics: string, engine: string): number {
  return Number(new RegExp(`^oddsgate_graphql_executions_total\\{engine="${engine}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
}

// Each operation is sent this many times to the compiled gateway: the first runs in graphql-js, the rest compiled.
const runs = 3;

describe('compiled execution (graphql-jit behind Apollo)', () => {
  let test: TestDatabase;
  let compiled: Gateway;
  let reference: Gateway;

  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded');
    // Masked errors, as in production: development's stack traces name the executor's own frames.
    const config = { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 64 * 1024 * 1024, maskErrors: true };
    compiled = await startGateway({ bus: new InProcessOddsBus(), config: { ...config, compiledExecution: true }, db: test.db, logger: silentLogger() });
    reference = await startGateway({ bus: new InProcessOddsBus(), config: { ...config, compiledExecution: false }, db: test.db, logger: silentLogger() });
  });
  afterAll(async () => {
    await compiled?.close();
    await reference?.close();
    await test?.drop();
  });

  const post = async (gateway: Gateway, { query, variables, operationName }: Operation, run: number) => {
    // An undeclared variable is ignored by GraphQL, not by the response cache: every run executes.
    const body = JSON.stringify({ query, operationName, variables: { ...variables, _run: run } });
    const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, body: await response.text() };
  };

  const count = async (gateway: Gateway, engine: string) => executions(await (await fetch(`${gateway.url}/metrics`)).text(), engine);

  it('answers every operation of the corpus with graphql-js\'s bytes and status, compiled or not', { timeout: 60_000 }, async () => {
    const answers = [];
    for (const operation of corpus) {
      const expected = await post(reference, operation, 0);
      for (let run = 1; run <= runs; run++) {
        expect(await post(compiled, operation, run), `${operation.name}, run ${run}`).toEqual(expected);
      }
      answers.push(JSON.parse(expected.body) as { data?: unknown; errors?: unknown[] });
    }
    // The corpus is what it claims: answers with data, with errors, and with both.
    expect(answers.filter((a) => a.errors === undefined).length).toBeGreaterThan(15);
    expect(answers.filter((a) => a.errors !== undefined).length).toBeGreaterThanOrEqual(7);
    // An error in a non-null root field nulls the whole answer (this schema has no nullable field that can fail).
    expect(answers.some((a) => a.errors !== undefined && a.data === null)).toBe(true);
  });

  it('makes a memoised part again when a record its resolvers read is replaced: odds, bookmaker, competition, sport', { timeout: 60_000 }, async () => {
    const board: Operation = { name: 'board', query: boardQuery, variables: { first: 4 } };
    const spliced = () => count(compiled, 'spliced');
    // Spliced twice, so every event's part is memoised and then served from the memo.
    for (let run = 1; run <= 3; run++) await post(compiled, board, 100 + run);
    const first = JSON.parse((await post(compiled, board, 104)).body) as {
      data: { events: { edges: Array<{ node: { id: string; sport: { id: string }; competition: { id: string }; odds: Array<{ bookmaker: { id: string } }> } }> } };
    };
    const node = first.data.events.edges[0]!.node;
    const replace = <T extends object>(key: CacheKey, change: (record: T) => T) => compiled.cache.set(key, deepFreeze(change(compiled.cache.peek<T>(key)!.value)));
    const changes: Array<[string, () => void]> = [
      ['odds', () => replace<EventOddsRecord>(cacheKey('EventOdds', Number(node.id)), (odds) => ({ ...odds, snapshots: odds.snapshots.slice(1) }))],
      ['bookmaker', () => replace<BookmakerRecord>(cacheKey('Bookmaker', Number(node.odds[1]!.bookmaker.id)), (b) => ({ ...b, name: `${b.name} (renamed)` }))],
      ['competition', () => replace<CompetitionRecord>(cacheKey('Competition', Number(node.competition.id)), (c) => ({ ...c, name: `${c.name} (renamed)` }))],
      ['sport', () => replace<SportRecord>(cacheKey('Sport', Number(node.sport.id)), (s) => ({ ...s, name: `${s.name} (renamed)` }))],
    ];
    let previous = JSON.stringify(first);
    for (const [index, [what, change]] of changes.entries()) {
      change();
      const before = await spliced();
      const answer = await post(compiled, board, 200 + index);
      expect(await spliced(), what).toBe(before + 1);
      // The same operation as a new document: its first run is graphql-js's, on the same cache.
      const reference = await post(compiled, { ...board, query: `${board.query}\n# after the ${what} changed` }, 200 + index);
      expect(answer, what).toEqual(reference);
      expect(answer.body, what).not.toBe(previous);
      previous = answer.body;
    }
  });

  it('answers with graphql-jit, not spliced, without the shared cache (CACHE=off: nothing spliced would be reused)', async () => {
    const uncached = await startGateway({
      bus: new InProcessOddsBus(),
      config: { host: '127.0.0.1', port: 0, cache: false, cacheMaxBytes: 0, maskErrors: true, compiledExecution: true },
      db: test.db,
      logger: silentLogger(),
    });
    try {
      const board = corpus[0]!;
      const expected = await post(reference, board, 0);
      for (let run = 0; run < 3; run++) expect(await post(uncached, board, run)).toEqual(expected);
      expect(await count(uncached, 'spliced')).toBe(0);
      expect(await count(uncached, 'compiled')).toBe(2);
    } finally {
      await uncached.close();
    }
  });

  it('ran the repeats spliced, answers with errors compiled, and recomputed only answers whose variables did not coerce', async () => {
    const counts = await (await fetch(`${compiled.url}/metrics`)).text();
    const ran = (engine: string) => executions(counts, engine);
    // A document's first run is graphql-js's (operations sharing a document share its plan).
    expect(ran('graphql-js')).toBeGreaterThanOrEqual(new Set(corpus.map((o) => o.query)).size - 3);
    // Every repeat without errors (but introspection's), spliced.
    expect(ran('spliced')).toBeGreaterThanOrEqual(25 * (runs - 1));
    // Errors of resolvers: the splice gives up, graphql-jit answers.
    expect(ran('compiled')).toBeGreaterThanOrEqual(4 * (runs - 1));
    expect(ran('recomputed')).toBeGreaterThanOrEqual(3 * (runs - 1));
  });
});
