import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { executionTimeoutPlugin, withExecutionTimeout } from '../../src/api/execution-timeout.js';

describe('the execution timeout', () => {
  // A backend that never answers while the test runs; released at the end so nothing is left pending.
  let release!: () => void;
  const hung = new Promise<string>((resolve) => (release = () => resolve('late')));
  let resolvedAfterDeadline = 0;
  const schema = withExecutionTimeout(
    makeExecutableSchema({
      typeDefs: 'type Query { slow: String, fast: String, later: Later } type Later { value: String }',
      resolvers: {
        Query: { slow: () => hung, fast: () => 'fast', later: () => hung.then(() => ({})) },
        Later: {
          value: () => {
            resolvedAfterDeadline++;
            return 'value';
          },
        },
      },
    }),
  );
  const apollo = new ApolloServer({ schema, plugins: [executionTimeoutPlugin(50)] });
  afterAll(async () => {
    release();
    await apollo.stop();
  });

  it('answers an operation still waiting on its backend with TIMEOUT and HTTP 504, on time', async () => {
    const response = await apollo.executeOperation({ query: '{ slow fast }' });
    expect(response.http.status).toBe(504);
    const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
    expect(result?.errors).toEqual([expect.objectContaining({ message: 'The operation took longer than the limit of 50 ms', extensions: { code: 'TIMEOUT' } })]);
    expect(result?.data).toEqual({ slow: null, fast: 'fast' });
  });

  it('leaves an operation that finishes in time alone', async () => {
    const response = await apollo.executeOperation({ query: '{ fast }' });
    expect(response.http.status).toBeUndefined();
    expect(response.body.kind === 'single' && response.body.singleResult).toEqual({ data: { fast: 'fast' } });
  });

  it('runs no resolver of an operation once its deadline has passed', async () => {
    await apollo.executeOperation({ query: '{ later { value } }' });
    release();
    await hung;
    expect(resolvedAfterDeadline).toBe(0);
  });
});
