import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

describe('the GraphQL-over-HTTP spec audits (graphql-http)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
  });
  afterAll(() => gw?.close());

  it('pass with no errors against the running gateway', async () => {
    const results = await Promise.all(serverAudits({ url: `${gw.gateway.url}/graphql` }).map((audit) => audit.fn()));
    const errors = results.filter((result) => result.status === 'error').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
  });
});
