import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import type { GraphQLContext } from '../../src/api/context.js';
import { ResponseCache, type GraphQLExecutor } from '../../src/api/response-cache.js';

/** Apollo stand-in: answers every request with the same body, reading nothing (no tags). */
function executor(): GraphQLExecutor & { executions: number } {
  const fake = {
    executions: 0,
    executeHTTPGraphQLRequest: async () => {
      fake.executions++;
      return { status: 200, headers: new HeaderMap([['content-type', 'application/json']]), body: { kind: 'complete' as const, string: '{"data":{"n":1}}\n' } };
    },
  };
  return fake;
}

// A request Apollo's CSRF prevention lets through (JSON), as every answer the cache serves must be.
const request: HTTPGraphQLRequest = { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query: '{ events { totalCount } }' } };
const context = async () => ({ reads: { keys: new Set(), uncacheable: false } }) as unknown as GraphQLContext;

async function askThrice(cache: ResponseCache): Promise<number> {
  const apollo = executor();
  const cached = cache.executor(apollo);
  for (let i = 0; i < 3; i++) await cached.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context });
  return apollo.executions;
}

describe('the response cache\'s expiry', () => {
  it('serves a stored answer while the board\'s window keeps every event it answered for', async () => {
    const cache = new ResponseCache({ boardStableForMs: () => Infinity });
    // First sight executes, the second executes and stores, the third is a hit.
    expect(await askThrice(cache)).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 1, stale: 0 });
  });

  it('never serves an answer past the moment the board\'s window drops an event, however young', async () => {
    const cache = new ResponseCache({ boardStableForMs: () => 0 });
    expect(await askThrice(cache)).toBe(3);
    expect(cache.stats()).toMatchObject({ hits: 0, stale: 1 });
  });
});

describe('the response cache\'s answers by raw request', () => {
  const rawBody = JSON.stringify(request.body);
  const header = (name: string) => request.headers.get(name);

  it('finds a stored answer by the raw request only while nothing it read has changed', async () => {
    const tagged = async () => ({ reads: { keys: new Set(['EventOdds:1']), uncacheable: false } }) as unknown as GraphQLContext;
    const cache = new ResponseCache();
    const cached = cache.executor(executor());
    expect(cached.storedAnswer!(header, rawBody)).toBeUndefined();
    for (let i = 0; i < 2; i++) await cached.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: tagged }, rawBody);
    expect(cached.storedAnswer!(header, rawBody)?.body).toMatchObject({ string: '{"data":{"n":1}}\n' });
    // Another body (a space more) is another raw request: only the full path, which normalises, finds it.
    expect(cached.storedAnswer!(header, `${rawBody} `)).toBeUndefined();
    cache.invalidate('EventOdds:1');
    expect(cached.storedAnswer!(header, rawBody)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, rawHits: 1 });
  });
});
