import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { requestIdFrom } from '../ops/log.js';
import { ErrorCode } from './errors.js';
import { isTokenLimitError } from './limits.js';

/** What clients see instead of an error the gateway did not mean to send. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

/**
 * Apollo's `formatError`: gives limit rejections back their own code. Apollo
 * re-codes every validation error as GRAPHQL_VALIDATION_FAILED and every parse
 * error as GRAPHQL_PARSE_FAILED, but a client needs to tell "too complex" from "wrong".
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const tooComplex =
    (original instanceof GraphQLError && original.extensions.code === ErrorCode.QUERY_TOO_COMPLEX) ||
    (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && isTokenLimitError(formatted.message));
  if (!tooComplex) return formatted;
  return {
    ...formatted,
    message: formatted.message.replace(/^Syntax Error: /, '').replace('more that', 'more than'),
    extensions: { limit: 'tokens', ...formatted.extensions, code: ErrorCode.QUERY_TOO_COMPLEX },
  };
}

/** An error nobody gave a code: a bug or a failing backend, not something the client did. */
function isUnexpected(error: GraphQLError): boolean {
  return error.extensions.code === undefined;
}

/**
 * Gives every request an id (an incoming sane `x-request-id`, else a UUID),
 * returns it in the `x-request-id` response header, logs each unexpected
 * error with its stack under that id, and adds the id to the error sent to
 * the client. With `mask` (production) that error's message becomes
 * "Unexpected error."; errors with a code (BAD_USER_INPUT, ...) are meant for
 * clients and pass unchanged.
 */
export function errorReportingPlugin<TContext extends object>(options: {
  mask: boolean;
  log: (message: string) => void;
}): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      // The HTTP server has already put a sane id in this header (src/api/http-server.ts).
      const requestId = requestIdFrom(request.http?.headers.get('x-request-id'));
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            if (!isUnexpected(error)) continue;
            const cause = unwrapResolverError(error);
            const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
            options.log(`request ${requestId}: unexpected error at ${error.path?.join('.') ?? '(request)'}: ${detail}`);
          }
        },
        async willSendResponse({ response }) {
          response.http.headers.set('x-request-id', requestId);
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.errors = result.errors?.map((error) => {
            if (error.extensions?.code !== 'INTERNAL_SERVER_ERROR') return error;
            const extensions = options.mask ? { code: error.extensions.code } : error.extensions;
            return {
              ...error,
              message: options.mask ? UNEXPECTED_ERROR_MESSAGE : error.message,
              extensions: { ...extensions, requestId },
            };
          });
        },
      };
    },
  };
}
