import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { ErrorCode } from './errors.js';

/**
 * An execution timeout. graphql-js cannot abort an execution, so each
 * request's context gets a deadline; once it passes, every resolver still
 * to run throws TIMEOUT at once and every resolver still waiting (a slow
 * database batch) is answered with TIMEOUT instead of awaited, so the
 * response leaves on time. The abandoned database work finishes on its own.
 * Subscriptions' per-event executions have no deadline.
 */
class Deadline {
  expired = false;
  /** Set when the deadline passes (made then, not per request: a GraphQLError captures a stack). */
  error: GraphQLError | undefined;
  /** Rejects with `error` when the deadline passes; raced against resolvers' promises. */
  readonly reached: Promise<never>;
  readonly #timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    let expire!: (error: GraphQLError) => void;
    this.reached = new Promise<never>((_, reject) => (expire = reject));
    this.reached.catch(() => {}); // nobody may be racing it when it fires
    this.#timer = setTimeout(() => {
      this.error = new GraphQLError(`The operation took longer than the limit of ${timeoutMs} ms`, {
        // 504: the gateway gave up waiting on its backends.
        extensions: { code: ErrorCode.TIMEOUT, http: { status: 504, headers: new HeaderMap() } },
      });
      this.expired = true;
      expire(this.error);
    }, timeoutMs);
  }

  cancel(): void {
    clearTimeout(this.#timer);
  }
}

const deadlines = new WeakMap<object, Deadline>();

/** Starts each operation's deadline when execution starts, and clears it when execution ends. */
export function executionTimeoutPlugin<TContext extends object>(timeoutMs: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart({ contextValue }) {
          const deadline = new Deadline(timeoutMs);
          deadlines.set(contextValue, deadline);
          return {
            async executionDidEnd() {
              deadline.cancel();
            },
          };
        },
      };
    },
  };
}

/** Makes every resolver of `schema` check its request's deadline (see `executionTimeoutPlugin`); returns `schema`. */
export function withExecutionTimeout(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve) field.resolve = checkingDeadline(field.resolve);
    }
  }
  return schema;
}

/** The deadline of `context`'s operation, for an executor that checks it itself (src/api/spliced-execution.ts). */
export function deadlineOf(context: object): Pick<Deadline, 'expired' | 'reached'> | undefined {
  return deadlines.get(context);
}

const unwrapped = new WeakMap<GraphQLFieldResolver<unknown, unknown>, GraphQLFieldResolver<unknown, unknown>>();

/** A resolver without the deadline check `withExecutionTimeout` put around it: the caller checks `deadlineOf` itself. */
export function withoutDeadline(resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return unwrapped.get(resolve) ?? resolve;
}

function checkingDeadline(resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  const checking: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
    const deadline = deadlines.get(context as object);
    if (!deadline) return resolve(source, args, context, info);
    if (deadline.expired) throw deadline.error!;
    const result: unknown = resolve(source, args, context, info);
    return result instanceof Promise ? Promise.race([result, deadline.reached]) : result;
  };
  unwrapped.set(checking, resolve);
  return checking;
}
