import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import type { GraphQLContext } from '../../src/api/context.js';
import type { CsrfPrevention } from '../../src/api/csrf.js';
import { ResponseCache } from '../../src/api/response-cache.js';

const contentTypes = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'text/plain',
  'TEXT/Plain; charset=utf-8',
  'text/plain; charset=utf-8; x=+json',
  ' text/plain ;+json',
  'multipart/form-data; boundary=+json',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded+json',
  '',
  'not a type',
  'text/plain, application/json',
];
const extraHeaders: Array<Record<string, string>> = [
  {},
  { 'apollo-require-preflight': 'true' },
  { 'apollo-require-preflight': '' },
  { 'x-apollo-operation-name': 'Board' },
  { 'x-custom-preflight': '1' },
];
const settings: CsrfPrevention[] = [true, false, { requestHeaders: ['X-Custom-Preflight'] }, {}];

const body = { query: '{ n }' };
const context = async () => ({ reads: { keys: new Set(), uncacheable: false } }) as unknown as GraphQLContext;

function request(contentType: string | undefined, headers: Record<string, string>): HTTPGraphQLRequest {
  const map = new HeaderMap(Object.entries(headers));
  if (contentType !== undefined) map.set('content-type', contentType);
  return { method: 'POST', headers: map, search: '', body };
}

describe('the response cache and CSRF prevention', () => {
  it('answers from storage exactly the requests Apollo Server lets through its CSRF prevention, under each setting', async () => {
    for (const csrfPrevention of settings) {
      const apollo = new ApolloServer<GraphQLContext>({ typeDefs: 'type Query { n: Int }', resolvers: { Query: { n: () => 1 } }, csrfPrevention });
      await apollo.start();
      try {
        const cache = new ResponseCache({ csrfPrevention });
        const cached = cache.executor(apollo);
        // Stored on its second sight.
        for (let i = 0; i < 2; i++) await cached.executeHTTPGraphQLRequest({ httpGraphQLRequest: request('application/json', {}), context });
        expect(cache.stats().stored).toBe(1);
        for (const contentType of contentTypes) {
          for (const headers of extraHeaders) {
            const direct = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request(contentType, headers), context });
            const refused = direct.status === 400 && direct.body.kind === 'complete' && direct.body.string.includes('Cross-Site Request Forgery');
            const hitsBefore = cache.stats().hits;
            const answer = await cached.executeHTTPGraphQLRequest({ httpGraphQLRequest: request(contentType, headers), context });
            const served = cache.stats().hits > hitsBefore;
            const what = `${JSON.stringify(csrfPrevention)} ${JSON.stringify(contentType)} ${JSON.stringify(headers)}`;
            expect(served, what).toBe(!refused);
            expect(answer.status ?? 200, what).toBe(direct.status ?? 200);
          }
        }
      } finally {
        await apollo.stop();
      }
    }
  });
});
