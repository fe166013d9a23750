import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardQuery } from '../graphql/queries.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { aliasBomb, deepQuery, expectError, postGraphQL, tokenBomb } from './requests.js';
import { openAcknowledgedSocket } from './sockets.js';
import { anyKind } from '../support/databases.js';

/** The board query's selection with its page size written in. */
const boardSelection = (first: number) =>
  boardQuery
    .slice(boardQuery.indexOf('{') + 1, boardQuery.lastIndexOf('}'))
    .replace(/events\([^)]*\)/, `events(first: ${first})`);

// Malformed JSON, page sizes, cursors, dates and unknown ids are in test/graphql/bad-input.test.ts.
describe('limits and bad input over HTTP', () => {
  let gw: TestGateway;
  let url: string;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true });
    url = `${gw.gateway.url}/graphql`;
  });
  afterAll(() => gw?.close());

  it('serves the hot board (50 events, every bookmaker, market and outcome) within the default limits', async () => {
    const response = await postGraphQL(url, { query: boardQuery, variables: { first: 50 } });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect((response.body.data as { events: { edges: unknown[] } }).events.edges).toHaveLength(50);
    // The same with the page size written into the query, which multiplies the cost estimate by 50.
    const literal = await postGraphQL(url, { query: `{ ${boardSelection(50)} }` });
    expect(literal.status).toBe(200);
    expect(literal.body.errors).toBeUndefined();
  });

  it("answers GraphiQL's introspection query within the default limits", async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const response = await postGraphQL(url, { query });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const types = (response.body.data as { __schema: { types: Array<{ name: string }> } }).__schema.types;
    expect(types.map((t) => t.name)).toContain('OddsSnapshot');
  });

  it('rejects 50-deep nesting before executing it', async () => {
    const response = await postGraphQL(url, { query: deepQuery(50) });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    // Its cost is over the limit too, and graphql's own introspection-depth rule objects as well.
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        { message: 'Query depth limit of 10 exceeded, found 50.', extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' }) },
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' }) }),
      ]),
    );
  });

  it('rejects an alias bomb', async () => {
    const response = await postGraphQL(url, { query: aliasBomb(200) });
    expectError(response, 400, 'QUERY_TOO_COMPLEX', /^Aliases limit of 30 exceeded, found 200\.$/);
    expect(response.body.errors![0]!.extensions).toMatchObject({ limit: 'aliases' });
  });

  it('rejects an operation over the cost limit', async () => {
    // Two full boards of 200 events, each page size written into the query.
    const response = await postGraphQL(url, { query: `{ a: ${boardSelection(200)} b: ${boardSelection(200)} }` });
    expectError(response, 400, 'QUERY_TOO_COMPLEX', /^Query Cost limit of 100000 exceeded, found [\d.]+\.$/);
    expect(response.body.errors![0]!.extensions).toMatchObject({ limit: 'cost' });
  });

  it('stops parsing a document past the token limit', async () => {
    const response = await postGraphQL(url, { query: tokenBomb(5000) });
    expectError(response, 400, 'QUERY_TOO_COMPLEX', /^Document contains more than 2000 tokens\. Parsing aborted\.$/);
    expect(response.body.errors![0]!.extensions).toMatchObject({ limit: 'tokens' });
  });

  it('answers a body over 1 MiB with 413, before parsing it', async () => {
    const query = `{ sports { key } } # ${'x'.repeat(1024 * 1024)}`;
    const response = await postGraphQL(url, { query });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE', /^Request body is larger than the limit of 1048576 bytes$/);
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
    expectError(await postGraphQL(url, { query: '{ sports { key }' }), 400, 'GRAPHQL_PARSE_FAILED', /^Syntax Error: Expected Name, found <EOF>\.$/);
    expectError(
      await postGraphQL(url, { query: '{ sports { colour } }' }),
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /^Cannot query field "colour" on type "Sport"\./,
    );
  });

  it('answers variables of the wrong type with BAD_USER_INPUT', async () => {
    expectError(
      await postGraphQL(url, { query: boardQuery, variables: { first: 'ten' } }),
      400,
      'BAD_USER_INPUT',
      /^Variable "\$first" got invalid value "ten"; Int cannot represent non-integer value: "ten"$/,
    );
    expectError(
      await postGraphQL(url, { query: 'query ($id: ID!) { event(id: $id) { id } }', variables: { id: { nested: 1 } } }),
      400,
      'BAD_USER_INPUT',
      /^Variable "\$id" got invalid value \{ nested: 1 \}; ID cannot represent value/,
    );
    expectError(
      await postGraphQL(url, { query: boardQuery, variables: { filter: { status: ['SOON'] } } }),
      400,
      'BAD_USER_INPUT',
      /^Variable "\$filter" got invalid value "SOON" at "filter.status\[0\]"; Value "SOON" does not exist in "EventStatus" enum\.$/,
    );
  });

  it('answers a body that is not a GraphQL request with 400', async () => {
    const xml = await postGraphQL(url, '<query>sports</query>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(400);
    expect(xml.text).toMatch(/POST body missing, invalid Content-Type, or JSON object has no keys/);
    expectError(await postGraphQL(url, '[1, 2]'), 400, undefined, /^Operation batching disabled\.$/);
  });

  it('refuses requests a browser could send cross-site without a preflight (CSRF prevention)', async () => {
    const get = await fetch(`${url}?query=${encodeURIComponent('{ sports { key } }')}`);
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/potential Cross-Site Request Forgery \(CSRF\)/);
    const form = await postGraphQL(url, JSON.stringify({ query: '{ sports { key } }' }), { 'content-type': 'text/plain' });
    expect(form.status).toBe(400);
    expect(form.text).toMatch(/potential Cross-Site Request Forgery \(CSRF\)/);
    // The same GET with a header no simple cross-site request can carry is served.
    const preflighted = await fetch(`${url}?query=${encodeURIComponent('{ sports { key } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { sports: expect.arrayContaining([{ key: 'football' }]) } });
  });

  it('returns the request id it was given, or a new one', async () => {
    const given = await postGraphQL(url, { query: '{ sports { key } }' }, { 'x-request-id': 'req-42.a:b' });
    expect(given.headers.get('x-request-id')).toBe('req-42.a:b');
    const insane = await postGraphQL(url, { query: '{ sports { key } }' }, { 'x-request-id': 'a b <script>' });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await postGraphQL(url, { query: '{ sports { key } }' });
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get('x-request-id')).not.toBe(insane.headers.get('x-request-id'));
  });
});

describe('introspection switched off', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { introspection: false } });
  });
  afterAll(() => gw?.close());

  it('refuses introspection and hides field suggestions, and still answers queries', async () => {
    const url = `${gw.gateway.url}/graphql`;
    const offMessage = /^Introspection is off on this gateway \(INTROSPECTION=off, the default with NODE_ENV=production\): "__schema" cannot be queried\.$/;
    expectError(await postGraphQL(url, { query: '{ __schema { types { name } } }' }), 400, 'GRAPHQL_VALIDATION_FAILED', offMessage);
    expectError(
      await postGraphQL(url, { query: '{ __type(name: "Event") { fields { name } } }' }),
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /"__type" cannot be queried/,
    );
    const typo = await postGraphQL(url, { query: '{ sport { key } }' });
    expectError(typo, 400, 'GRAPHQL_VALIDATION_FAILED', /^Cannot query field "sport" on type "Query"\./);
    expect(typo.body.errors![0]!.message).not.toMatch(/Did you mean/);
    const { status, body } = await postGraphQL(url, { query: '{ sports { key } }' });
    expect(status).toBe(200);
    expect(body.data).toEqual({ sports: expect.arrayContaining([{ key: 'football' }]) });
    // __typename is not introspection: clients' caches need it.
    expect((await postGraphQL(url, { query: '{ sports { __typename } }' })).status).toBe(200);
  });

  it('refuses introspection sent as a query over the WebSocket too', async () => {
    const raw = await openAcknowledgedSocket(gw.gateway.url);
    raw.send({ id: 'schema', type: 'subscribe', payload: { query: '{ __schema { queryType { name } } }' } });
    const answer = await raw.message('error');
    expect(answer).toEqual({ id: 'schema', type: 'error', payload: [expect.objectContaining({ message: expect.stringMatching(/^Introspection is off on this gateway/) })] });
    raw.socket.close();
  });
});
