import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from './context.js';
import type { Metrics } from '../ops/metrics.js';

/** Error codes come from our catalogue and Apollo's; anything else is one label value, not a new series per message. */
const codeShape = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Counts each GraphQL request over HTTP by operation type, its errors by
 * `extensions.code`, and its duration; logs one line per request at debug
 * level, with the request id.
 */
export function graphqlMetricsPlugin(metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      let operation = 'unknown';
      const codes: string[] = [];
      return {
        async didResolveOperation({ operation: resolved }) {
          if (resolved) operation = resolved.operation;
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (typeof code === 'string') codes.push(codeShape.test(code) ? code : 'OTHER');
            // Unexpected errors are logged, with their request id, by the error-reporting plugin.
            else codes.push('INTERNAL_SERVER_ERROR');
          }
        },
        async willSendResponse({ operationName }) {
          const seconds = (performance.now() - started) / 1000;
          metrics.graphqlRequest(operation, seconds, codes);
          contextValue.log.debug({ operation, operationName, ms: Math.round(seconds * 1e4) / 10, errors: codes }, 'graphql request');
        },
      };
    },
  };
}
