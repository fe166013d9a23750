import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../ops/log.js';
import { UnavailableError } from '../read/breaker.js';
import { ErrorCode, isCataloguedCode } from './errors.js';
import { isTokenLimitError } from './limits.js';

/** What clients see instead of an error the gateway did not mean to send. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

/**
 * Gives an error its catalogue code where the GraphQL libraries would not:
 * Apollo re-codes every validation error as GRAPHQL_VALIDATION_FAILED and
 * every parse error as GRAPHQL_PARSE_FAILED, but a client needs to tell "too
 * complex" from "wrong"; an open breaker is UPSTREAM_UNAVAILABLE, not a bug.
 * Apollo's `formatError`, and the WebSocket path's first step.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (unwrapResolverError(error) instanceof UnavailableError) {
    return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.UPSTREAM_UNAVAILABLE } };
  }
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const tooComplex =
    (original instanceof GraphQLError && original.extensions.code === ErrorCode.QUERY_TOO_COMPLEX) ||
    (formatted.extensions?.code === ErrorCode.GRAPHQL_PARSE_FAILED && isTokenLimitError(formatted.message));
  if (!tooComplex) return formatted;
  return {
    ...formatted,
    message: formatted.message.replace(/^Syntax Error: /, '').replace('more that', 'more than'),
    extensions: { limit: 'tokens', ...formatted.extensions, code: ErrorCode.QUERY_TOO_COMPLEX },
  };
}

/** An error nobody gave a code: a bug or a failing backend, not something the client did. */
export function isUnexpected(error: GraphQLError): boolean {
  return error.extensions.code === undefined && !(unwrapResolverError(error) instanceof UnavailableError);
}

/** Logs an unexpected error with its stack; `log` is bound to the request (or WebSocket connection) id. */
export function logUnexpected(error: GraphQLError, log: Logger): void {
  log.error({ err: unwrapResolverError(error), path: error.path?.join('.') ?? '(request)' }, 'unexpected error');
}

/**
 * The error as the client gets it: an unexpected one (INTERNAL_SERVER_ERROR)
 * carries the request id, and with `mask` (production) only "Unexpected
 * error.", its code and that id. Errors with a code meant for clients pass unchanged.
 */
export function forClient(formatted: GraphQLFormattedError, mask: boolean, requestId: string): GraphQLFormattedError {
  if (formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
  const extensions = mask ? { code: formatted.extensions.code } : formatted.extensions;
  return { ...formatted, message: mask ? UNEXPECTED_ERROR_MESSAGE : formatted.message, extensions: { ...extensions, requestId } };
}

/** Metric labels of errors' codes: catalogued codes, anything else one value, never a new series per message. */
export function errorCodeLabels(errors: readonly GraphQLFormattedError[]): string[] {
  return errors.map((error) => {
    const code = error.extensions?.code;
    if (code === undefined) return ErrorCode.INTERNAL_SERVER_ERROR;
    return isCataloguedCode(code) ? code : 'OTHER';
  });
}
