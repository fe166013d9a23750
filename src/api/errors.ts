import { GraphQLError } from 'graphql';

/**
 * Every code the API puts in `errors[].extensions.code`, over HTTP and
 * WebSocket alike, with what it tells a client. Ours and the ones Apollo
 * Server answers with; the README's "Limits and errors" table lists the same
 * codes (a test holds the two together). Anything not here is a bug.
 */
export const errorCatalogue = {
  // Before anything executes: the request itself.
  PAYLOAD_TOO_LARGE: 'The body is over 1 MiB (HTTP 413).',
  UNSUPPORTED_MEDIA_TYPE: 'A JSON body in a charset other than UTF-8 (HTTP 415).',
  BAD_REQUEST: 'Malformed JSON, not a GraphQL request, or a cross-site-able request without a preflight header (HTTP 400).',
  GRAPHQL_PARSE_FAILED: 'The document is not valid GraphQL syntax (HTTP 400).',
  GRAPHQL_VALIDATION_FAILED: 'An unknown field, a wrong argument, or introspection while it is off (HTTP 400).',
  QUERY_TOO_COMPLEX: 'Over a depth, cost, alias, directive or token limit; `extensions.limit` says which (HTTP 400).',
  OPERATION_RESOLUTION_FAILURE: 'The operationName names no operation of the document (HTTP 400).',
  PERSISTED_QUERY_NOT_FOUND: 'The persisted-query hash is not stored: send it again with the query.',
  PERSISTED_QUERY_NOT_SUPPORTED: 'Persisted queries are off (never, with this gateway).',
  // While executing.
  BAD_USER_INPUT: 'Variables of the wrong type (HTTP 400), or an argument out of range; `extensions.argumentName` names it.',
  TIMEOUT: 'Execution ran past `EXECUTION_TIMEOUT_MS` (HTTP 504).',
  CURSOR_EXPIRED:
    "`oddsUpdated(after:)` names a place older than the change log keeps (`REPLAY_WINDOW_MINUTES`) or from a log since reset, or the gateway missed changes the log no longer holds: query again, then subscribe after the new `oddsCursor`.",
  UPSTREAM_UNAVAILABLE: "The database's circuit breaker is open: cached data is served, this read could not be.",
  INTERNAL_SERVER_ERROR: 'Anything else (a bug, a failing backend); with NODE_ENV=production only "Unexpected error." and `extensions.requestId`.',
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** The codes by name, for `ErrorCode.TIMEOUT` rather than a bare string. */
export const ErrorCode = Object.fromEntries(Object.keys(errorCatalogue).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

export function isCataloguedCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCatalogue, code);
}

/** An error a client is meant to read, with its code. */
export function apiError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** A bad argument: the message names it, `extensions.argumentName` carries it for programs. */
export function badUserInput(argumentName: string, message: string): GraphQLError {
  return apiError(ErrorCode.BAD_USER_INPUT, `${argumentName} ${message}`, { argumentName });
}

/** What a loader returns for a key the database does not have; resolvers turn it into null, so it never reaches a client. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(kind: string, id: string | number) {
    super(`No ${kind} with id ${JSON.stringify(String(id))}`);
  }
}

/** Resolves a loader promise to null when the key does not exist. */
export async function nullIfNotFound<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
