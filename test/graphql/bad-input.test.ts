import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { boardQuery, eventQuery, historyQuery } from './queries.js';
import { anyKind } from '../support/databases.js';

describe('bad input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
  });
  afterAll(() => gw?.close());

  const expectBadInput = async (query: string, variables: Record<string, unknown>, argumentName: string, message: RegExp) => {
    const { data, errors } = await gw.query(query, variables);
    expect(errors).toHaveLength(1);
    expect(errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName });
    expect(errors![0]!.message).toMatch(message);
    return data;
  };

  it('rejects a page larger than the maximum, naming the argument', async () => {
    await expectBadInput(boardQuery, { first: 201 }, 'first', /^first must be from 0 to 200, got 201$/);
    await expectBadInput(boardQuery, { first: -1 }, 'first', /^first must be from 0 to 200, got -1$/);
    await expectBadInput(historyQuery, { eventId: '1', first: 1000 }, 'first', /^first must be from 0 to 200/);
    await expectBadInput(boardQuery, { last: 201 }, 'last', /^last must be from 0 to 200, got 201$/);
  });

  it('rejects first and last together, saying how to page', async () => {
    await expectBadInput(boardQuery, { first: 5, last: 5 }, 'last', /^last cannot be given with first: page forward with first and after, or backward with last and before$/);
  });

  it('rejects a cursor it did not issue', async () => {
    for (const after of ['nonsense', 'MTIz', '']) {
      await expectBadInput(boardQuery, { first: 5, after }, 'after', /^after is not a cursor this API returned/);
      await expectBadInput(boardQuery, { last: 5, before: after }, 'before', /^before is not a cursor this API returned/);
    }
  });

  it('rejects inverted date ranges', async () => {
    await expectBadInput(
      boardQuery,
      { filter: { kickoffFrom: '2026-12-02T00:00:00Z', kickoffTo: '2026-12-01T00:00:00Z' } },
      'filter.kickoffTo',
      /^filter.kickoffTo must not be before filter.kickoffFrom/,
    );
    await expectBadInput(
      historyQuery,
      { eventId: '1', since: '2026-12-02T00:00:00Z', until: '2026-12-01T00:00:00Z' },
      'until',
      /^until must not be before since/,
    );
  });

  it('rejects a date-time that is not ISO 8601', async () => {
    const { errors } = await gw.query(boardQuery, { filter: { kickoffFrom: 'tomorrow' } });
    expect(errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(errors![0]!.message).toMatch(/DateTime must be an ISO 8601 date-time/);
  });

  it('answers unknown ids with null or empty lists, not errors', async () => {
    for (const id of ['999999', 'abc', '-1', '1e3']) {
      const event = await gw.query(eventQuery, { id });
      expect(event).toEqual({ data: { event: null } });
      const history = await gw.query(historyQuery, { eventId: id });
      expect(history).toEqual({ data: { oddsHistory: [] } });
    }
    const board = await gw.query(boardQuery, { filter: { competition: 'nope' } });
    expect(board).toEqual({
      data: { events: { totalCount: 0, pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, edges: [] } },
    });
    const unknownBookmaker = await gw.query(historyQuery, { eventId: '1', bookmaker: 'nobody' });
    expect(unknownBookmaker).toEqual({ data: { oddsHistory: [] } });
  });

  it('answers malformed JSON with 400 and a message, then keeps serving', async () => {
    const response = await fetch(`${gw.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ sports { key } }"',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ message: string }> };
    expect(body.errors[0]!.message).toMatch(/^Malformed JSON body/);
    const { data } = await gw.query('{ sports { key } }');
    expect(data).toEqual({ sports: expect.arrayContaining([{ key: 'football' }]) });
  });

  it('reports its parts at /health', async () => {
    const response = await fetch(`${gw.gateway.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ready',
      parts: {
        database: { status: 'up', kind: anyKind },
        cache: { status: 'on' },
        board: { events: gw.gateway.board!.size },
      },
    });
  });
});
