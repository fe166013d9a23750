import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context.js';
import { typesResolvedFromLoaders } from './resolvers.js';
import { SplicedOperation, type SpliceOptions } from './spliced-execution.js';

type Gateway = NonNullable<ApolloServerOptionsWithGateway<GraphQLContext>['gateway']>;
type GatewayExecutor = Awaited<ReturnType<Gateway['load']>>['executor'];

/**
 * Compiled execution (graphql-jit) for the operations clients repeat, behind
 * Apollo Server's one execution hook (a "gateway" that serves `schema` and
 * executes it). Apollo still parses, validates and runs every plugin hook;
 * only execution changes. A board of 50 events took about 55 ms of CPU in
 * graphql-js's `execute` and 7 ms compiled (bench/cpu.ts). Over HTTP a
 * repeated query is first tried spliced (src/api/spliced-execution.ts: its
 * JSON written directly, immutable records' parts serialised once), and
 * compiled only when that path declines it.
 *
 * Answers stay those of graphql-js byte for byte: an operation is compiled on
 * its second execution (a one-off document is not worth compiling); errors
 * that resolvers raise come out as graphql-js words them (messages, paths,
 * null propagation), and an answer with errors of the request itself
 * (variables that do not coerce, worded differently by graphql-jit) is
 * recomputed by graphql-js, which reads nothing for it.
 * test/graphql/compiled-execution.test.ts runs both on a corpus of operations.
 */
export function compiledExecution(schema: GraphQLSchema, count: (engine: ExecutionEngine) => void = () => {}, { splice = true }: { splice?: boolean } = {}): Gateway {
  const executor = compiledExecutor(schema, count, splice);
  let announce: Parameters<Gateway['onSchemaLoadOrUpdate']>[0] | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      announce = callback;
      return () => (announce = undefined);
    },
    async load() {
      announce?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return { schema, executor };
    },
    async stop() {},
  };
}

/**
 * How an operation was executed: `spliced` is an answer written as JSON (src/api/spliced-execution.ts),
 * `recomputed` a compiled answer with request errors, executed again by graphql-js.
 */
export type ExecutionEngine = 'spliced' | 'compiled' | 'graphql-js' | 'recomputed';

/**
 * Per operation of a document: how often it ran, its spliced form (HTTP answers) and its compiled form,
 * each made when first needed (null: refused, by the splicer or by graphql-jit).
 */
interface Plan {
  runs: number;
  spliced?: SplicedOperation | null;
  compiled?: CompiledQuery | null;
}
type Plans = Map<string, Plan>;

/**
 * `splice`: answer over HTTP with spliced JSON. Only with the shared odds cache: the splicer pays off by
 * reusing the JSON of records that outlive a request; without the cache (CACHE=off) every request reads new
 * records, and a cache-off board cost 46 ms of CPU spliced against 26 ms compiled (bench/storage.ts's board).
 */
function compiledExecutor(schema: GraphQLSchema, count: (engine: ExecutionEngine) => void, splice: boolean): GatewayExecutor {
  // Apollo keeps parsed documents in its own bounded store, so the same query text brings the same
  // DocumentNode: plans live exactly as long as the documents Apollo keeps.
  const plans = new WeakMap<DocumentNode, Plans>();
  const splicing: SpliceOptions = {
    // Spliced JSON of immutable records, per record and selection shape (src/api/spliced-execution.ts).
    memo: new WeakMap(),
    journalOf: (context) => (context as GraphQLContext).loaders.journal,
    resolvedFromLoaders: typesResolvedFromLoaders,
  };
  return async ({ document, operationName, request, context }) => {
    const reference = (engine: ExecutionEngine) => {
      count(engine);
      return execute({ schema, document, operationName, variableValues: request.variables, contextValue: context }) as Promise<ExecutionResult>;
    };
    const plan = planFor(plans, document, operationName ?? '');
    // What runs once is not worth compiling.
    if (plan.runs++ < 1) return reference('graphql-js');
    // Spliced only over HTTP, where Apollo serialises with `stringifyResult`; executeOperation's callers read `data`.
    if (splice && request.http && plan.spliced !== null) {
      plan.spliced ??= SplicedOperation.of(schema, document, operationName ?? '', splicing) ?? null;
      const data = await plan.spliced?.execute(request.variables, context);
      if (data) {
        count('spliced');
        return { data: data as unknown as Record<string, unknown> };
      }
    }
    if (plan.compiled === undefined) {
      const compiled = compileQuery(schema, document, operationName || undefined);
      plan.compiled = isCompiledQuery(compiled) ? compiled : null;
    }
    const { compiled } = plan;
    if (!compiled) return reference('graphql-js');
    const result = (await compiled.query(undefined, context, request.variables)) as ExecutionResult;
    // Errors of the request itself (variables that do not coerce: no path) are worded by graphql-jit its own way;
    // they come before any read, so graphql-js answers them again without reading twice.
    if (result.errors?.some((error) => error.path === undefined)) return reference('recomputed');
    count('compiled');
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
}

function planFor(plans: WeakMap<DocumentNode, Plans>, document: DocumentNode, operationName: string): Plan {
  let byOperation = plans.get(document);
  if (!byOperation) plans.set(document, (byOperation = new Map()));
  let plan = byOperation.get(operationName);
  if (!plan) byOperation.set(operationName, (plan = { runs: 0 }));
  return plan;
}

/**
 * graphql-jit's error as graphql-js makes it. graphql-jit is loaded as CommonJS and builds its errors on
 * that copy of graphql, so they are not instances of the GraphQLError this gateway (ESM) checks for, and
 * Apollo would not find the resolver's error inside (an open breaker would read as INTERNAL_SERVER_ERROR).
 */
function asGraphQLError(error: { message: string; locations?: GraphQLError['locations']; path?: GraphQLError['path']; originalError?: Error | null; extensions?: GraphQLError['extensions'] }): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  // graphql-js derives locations from nodes; graphql-jit has already computed them.
  (rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return rebuilt;
}
