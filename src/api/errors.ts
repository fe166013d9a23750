import { GraphQLError } from 'graphql';

/** The codes clients can rely on in `errors[].extensions.code`. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  /** An operation past a depth, cost, alias, directive or token limit (`extensions.limit` says which). */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** Execution ran past `EXECUTION_TIMEOUT_MS`. */
  TIMEOUT: 'TIMEOUT',
} as const;

/** A bad argument: the message names it, `extensions.argumentName` carries it for programs. */
export function badUserInput(argumentName: string, message: string): GraphQLError {
  return new GraphQLError(`${argumentName} ${message}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName },
  });
}

/** What a loader returns for a key the database does not have; resolvers turn it into null. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  readonly code = ErrorCode.NOT_FOUND;
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
