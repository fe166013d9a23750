import { describe, expect, it } from 'vitest';
import { queryLimits } from '../../src/api/limits.js';
import { operationChecker, type CheckedOperation } from '../../src/api/operation-check.js';
import { buildSchema } from '../../src/api/schema.js';

const check = operationChecker(buildSchema(), queryLimits({ maxDepth: 4, maxCost: 1000, maxAliases: 5, maxDirectives: 5, maxTokens: 500, introspection: false }));
const subscription = 'subscription ($ids: [ID!]) { oddsUpdated(eventIds: $ids) { cursor snapshot { capturedAt } } }';

describe('checking a WebSocket or SSE operation', () => {
  it('parses and validates a text once: later subscribes of it share the document, each with its own variables', () => {
    const first = check({ query: subscription, variables: { ids: ['1'] } }) as CheckedOperation;
    const second = check({ query: subscription, operationName: null, variables: { ids: ['2'] } }) as CheckedOperation;
    expect(first.document.kind).toBe('Document');
    expect(second.document).toBe(first.document);
    expect([first.variableValues, second.variableValues, second.operationName]).toEqual([{ ids: ['1'] }, { ids: ['2'] }, null]);
  });

  it('refuses an invalid text every time it comes, coded as over HTTP', () => {
    for (let i = 0; i < 2; i++) {
      expect(check({ query: 'subscription { oddsUpdated { nope } }' })).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
      expect(check({ query: 'subscription { oddsUpdated {' })).toMatchObject([{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }]);
      expect(check({ query: '{ __schema { types { name } } }' })).toMatchObject([{ message: expect.stringContaining('Introspection is off') }]);
      expect(check({ query: 'subscription { oddsUpdated { snapshot { markets { outcomes { name } } } } }' })).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth' } }]);
    }
  });
});
