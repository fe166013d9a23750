import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context.js';

type Gateway = NonNullable<ApolloServerOptionsWithGateway<GraphQLContext>['gateway']>;
type GatewayExecutor = Awaited<ReturnType<Gateway['load']>>['executor'];

/**
 * Compiled execution (graphql-jit) for the operations clients repeat, behind
 * Apollo Server's one execution hook (a "gateway" that serves `schema` and
 * executes it). Apollo still parses, validates, runs every plugin hook and
 * serialises; only execution changes. A board of 50 events took about 55 ms
 * of CPU in graphql-js's `execute` and 7 ms compiled (bench/cpu.ts).
 *
 * Answers stay those of graphql-js byte for byte: an operation is compiled on
 * its second execution (a one-off document is not worth compiling), and any
 * answer with errors is recomputed by graphql-js, so error messages, paths
 * and partial data are graphql-js's own (queries only: recomputing reads
 * again and changes nothing). test/graphql/compiled-execution.test.ts runs
 * both on a corpus of operations.
 */
export function compiledExecution(schema: GraphQLSchema, count: (engine: ExecutionEngine) => void = () => {}): Gateway {
  const executor = compiledExecutor(schema, count);
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

/** How an operation was executed: `recomputed` is a compiled answer with errors, executed again by graphql-js. */
export type ExecutionEngine = 'compiled' | 'graphql-js' | 'recomputed';

/** Per operation of a document: how often it ran uncompiled, or its compiled form (null: graphql-jit refused it). */
type Plans = Map<string, number | CompiledQuery | null>;

function compiledExecutor(schema: GraphQLSchema, count: (engine: ExecutionEngine) => void): GatewayExecutor {
  // Apollo keeps parsed documents in its own bounded store, so the same query text brings the same
  // DocumentNode: plans live exactly as long as the documents Apollo keeps.
  const plans = new WeakMap<DocumentNode, Plans>();
  return async ({ document, operationName, request, context }) => {
    const reference = (engine: ExecutionEngine) => {
      count(engine);
      return execute({ schema, document, operationName, variableValues: request.variables, contextValue: context }) as Promise<ExecutionResult>;
    };
    const compiled = planFor(schema, plans, document, operationName ?? '');
    if (!compiled) return reference('graphql-js');
    const result = (await compiled.query(undefined, context, request.variables)) as ExecutionResult;
    if (result.errors) return reference('recomputed');
    count('compiled');
    return result;
  };
}

function planFor(schema: GraphQLSchema, plans: WeakMap<DocumentNode, Plans>, document: DocumentNode, operationName: string): CompiledQuery | undefined {
  let byOperation = plans.get(document);
  if (!byOperation) plans.set(document, (byOperation = new Map()));
  const plan = byOperation.get(operationName);
  if (plan === undefined || typeof plan === 'number') {
    // Compiled on its second run: what runs once is not worth compiling.
    if ((plan ?? 0) < 1) {
      byOperation.set(operationName, 1);
      return undefined;
    }
    const compiled = compileQuery(schema, document, operationName || undefined);
    byOperation.set(operationName, isCompiledQuery(compiled) ? compiled : null);
    return isCompiledQuery(compiled) ? compiled : undefined;
  }
  return plan ?? undefined;
}
