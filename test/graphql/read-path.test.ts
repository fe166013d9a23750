import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { databaseKinds, postgresUrl, seededShapes } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { boardQuery, eventQuery, historyQuery, referenceQuery } from './queries.js';
import { silentLogger } from '../../src/ops/log.js';

interface BoardData {
  events: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    edges: Array<{ node: { id: string; kickoffAt: string; odds: Array<{ bookmaker: { key: string } }> } }>;
  };
}

describe.runIf(postgresUrl)('SQL statements per board on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  let cold: TestGateway;
  let hot: TestGateway;
  beforeAll(async () => {
    [cold, hot] = await Promise.all([
      startTestGateway({ kind: 'postgres', cache: false }),
      startTestGateway({ kind: 'postgres', cache: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cold?.close(), hot?.close()]);
  });

  it('costs the same few statements for a 50-event board as for a 10-event board with CACHE=off', async () => {
    // The first read of odds also reads the market shapes it has not seen (one statement); later ones know them.
    cold.resetStatements();
    await cold.query<{ data: BoardData }>(boardQuery, { first: 50 });
    const firstCount = cold.statements.length;
    cold.resetStatements();
    const small = await cold.query<{ data: BoardData }>(boardQuery, { first: 10 });
    const smallCount = cold.statements.length;
    cold.resetStatements();
    const large = await cold.query<{ data: BoardData }>(boardQuery, { first: 50 });
    const largeCount = cold.statements.length;

    expect(small.data.events.edges).toHaveLength(10);
    expect(large.data.events.edges).toHaveLength(50);
    expect(large.data.events.edges.every((edge) => edge.node.odds.length === seededShapes.seeded.bookmakers)).toBe(true);
    expect(largeCount).toBe(smallCount);
    expect(firstCount).toBe(largeCount + 1);
    // page + count, sports, competitions, latest odds, bookmakers (+ market shapes the first time)
    expect(firstCount).toBeLessThanOrEqual(8);
  });

  it('costs no statement at all for a hot board, any page, any filter', async () => {
    hot.resetStatements();
    const first = await hot.query<{ data: BoardData }>(boardQuery, { first: 50 });
    const second = await hot.query<{ data: BoardData }>(boardQuery, {
      first: 50,
      after: first.data.events.pageInfo.endCursor,
    });
    await hot.query(boardQuery, { first: 20, filter: { sport: 'football', hasOdds: true, status: ['SCHEDULED'] } });
    await hot.query(referenceQuery);
    expect(first.data.events.edges).toHaveLength(50);
    expect(second.data.events.edges.length).toBeGreaterThan(0);
    expect(hot.statements).toEqual([]);
  });
});

describe.each(databaseKinds)('the read path with the cache on and off, on %s', (kind) => {
  let cached: TestGateway;
  let uncached: Gateway;
  beforeAll(async () => {
    cached = await startTestGateway({ kind, cache: true });
    uncached = await startGateway({
      config: { host: '127.0.0.1', port: 0, cache: false, cacheMaxBytes: 0 },
      db: cached.test.db,
      bus: cached.bus,
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await uncached?.close();
    await cached?.close();
  });

  const both = async (query: string, variables?: Record<string, unknown>) => {
    const post = (url: string) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      }).then((r) => r.json() as Promise<{ data?: unknown; errors?: unknown }>);
    const [on, off] = await Promise.all([post(cached.gateway.url), post(uncached.url)]);
    expect(on.errors).toBeUndefined();
    return { on, off };
  };

  it('returns the same board, page after page', async () => {
    let after: string | null = null;
    let pages = 0;
    do {
      const { on, off }: { on: { data?: unknown }; off: unknown } = await both(boardQuery, { first: 25, after });
      expect(on).toEqual(off);
      after = (on.data as BoardData).events.pageInfo.hasNextPage ? (on.data as BoardData).events.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBeGreaterThan(1);
  });

  it('returns the same board paging backward from the end, page before page, as forward', async () => {
    const forward = (await both(boardQuery, { first: 200 })).on.data as BoardData;
    const nodes: unknown[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const { on, off }: { on: { data?: unknown }; off: unknown } = await both(boardQuery, { last: 25, before });
      expect(on).toEqual(off);
      const { edges, pageInfo } = (on.data as BoardData).events;
      nodes.unshift(...edges.map((edge) => edge.node));
      before = pageInfo.hasPreviousPage ? pageInfo.startCursor : null;
      pages++;
    } while (before);
    expect(pages).toBeGreaterThan(1);
    expect(nodes).toEqual(forward.events.edges.map((edge) => edge.node));
  });

  it('returns the same filtered boards', async () => {
    const filters = [
      { sport: 'football' },
      { sport: '1' },
      { competition: 'eng-premier' },
      { competition: 'eng-premier', sport: 'football', status: ['SCHEDULED'] },
      { sport: 'basketball', status: ['SCHEDULED'] },
      { hasOdds: false },
      { kickoffFrom: new Date(Date.now() + 86_400_000).toISOString(), kickoffTo: new Date(Date.now() + 5 * 86_400_000).toISOString() },
      { competition: '1' },
      { sport: 'curling' },
    ];
    for (const filter of filters) {
      const { on, off } = await both(boardQuery, { first: 30, filter });
      expect(on).toEqual(off);
    }
  });

  it('takes a sport or competition by key or by id alike, in memory and from the database', async () => {
    const { on } = await both('{ competitions { id key sport { id key } } }');
    const premier = (on.data as { competitions: Array<{ id: string; key: string; sport: { id: string; key: string } }> }).competitions.find(
      (c) => c.key === 'eng-premier',
    )!;
    const names = async (filter: object) => {
      const { on: answer, off } = await both(boardQuery, { first: 50, filter });
      expect(answer).toEqual(off);
      return (answer.data as BoardData).events.edges.map((edge) => edge.node.id);
    };
    const byKey = await names({ competition: 'eng-premier', sport: 'football' });
    expect(byKey.length).toBeGreaterThan(0);
    expect(await names({ competition: premier.id, sport: premier.sport.id })).toEqual(byKey);
    expect(byKey.length).toBeLessThan((await names({ sport: 'football' })).length);
  });

  it('returns the same events from before the board window, from the database', async () => {
    const { on, off } = await both(boardQuery, { first: 30, filter: { kickoffFrom: new Date(Date.now() - 2 * 86_400_000).toISOString() } });
    expect(on).toEqual(off);
    const board = on.data as BoardData;
    expect(new Date(board.events.edges[0]!.node.kickoffAt).getTime()).toBeLessThan(Date.now() - 2 * 3_600_000);
  });

  it('returns the same event detail, history and reference data', async () => {
    const board = (await both(boardQuery, { first: 3 })).on.data as BoardData;
    const id = board.events.edges[2]!.node.id;
    for (const [query, variables] of [
      [eventQuery, { id, bookmakers: ['northbet', 'sharpline'], markets: ['over_under'], market: 'over_under' }],
      [eventQuery, { id: '999999' }],
      [historyQuery, { eventId: id }],
      [historyQuery, { eventId: id, bookmaker: 'northbet', market: '1x2', first: 2 }],
      [referenceQuery, {}],
    ] as const) {
      const { on, off } = await both(query, variables);
      expect(on).toEqual(off);
    }
  });

  it('answers the board from memory in kick-off order with every bookmaker, and pages without gaps', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    do {
      const { data }: { data: BoardData } = await cached.query(boardQuery, { first: 30, after });
      total = data.events.totalCount;
      seen.push(...data.events.edges.map((edge) => edge.node.id));
      const times = data.events.edges.map((edge) => Date.parse(edge.node.kickoffAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      after = data.events.pageInfo.hasNextPage ? data.events.pageInfo.endCursor : null;
    } while (after);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(total);
    expect(total).toBe(cached.gateway.board!.size);
  });
});
