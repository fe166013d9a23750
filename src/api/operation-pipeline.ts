import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Context, ServerOptions } from 'graphql-ws';
import type { Connection } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { GraphQLContext } from './context.js';
import { errorCodeLabels, forClient, formatError, isUnexpected, logUnexpected } from './error-reporting.js';
import { ErrorCode } from './errors.js';

/**
 * One operation pipeline for both transports. Whether an operation comes
 * over HTTP (Apollo Server) or a WebSocket (graphql-ws), its unexpected
 * errors are logged with their stack under the request's (or connection's)
 * id, masked in production, and it is counted in
 * `oddsgate_graphql_requests_total`, its duration histogram and
 * `oddsgate_graphql_errors_total`. Answers from the response cache skip
 * Apollo; the response cache counts them itself (`countCachedAnswer`).
 */
export interface PipelineOptions {
  /** `NODE_ENV=production`: unexpected errors reach clients as "Unexpected error." plus the request id. */
  mask: boolean;
  metrics: Pick<Metrics, 'graphqlRequest' | 'graphqlErrors'>;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** The pipeline as an Apollo Server plugin. */
export function apolloPipeline({ mask, metrics }: PipelineOptions): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      // The HTTP server has already put a sane id in this header (src/api/http-server.ts).
      const requestId = request.http?.headers.get('x-request-id') ?? '';
      let operation = 'unknown';
      return {
        async didResolveOperation({ operation: resolved }) {
          if (resolved) operation = resolved.operation;
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) if (isUnexpected(error)) logUnexpected(error, contextValue.log);
        },
        async willSendResponse({ response, operationName }) {
          response.http.headers.set('x-request-id', requestId);
          // What Apollo's cache-control plugin (off, src/api/apollo.ts) said of answers without hints.
          if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'no-store');
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          if (result?.errors) result.errors = result.errors.map((error) => forClient(error, mask, requestId));
          const codes = errorCodeLabels(result?.errors ?? []);
          const took = seconds(started);
          metrics.graphqlRequest(operation, took, codes);
          contextValue.log.debug({ operation, operationName, ms: Math.round(took * 1e4) / 10, errors: codes }, 'graphql request');
        },
      };
    },
  };
}

type WsOptions = ServerOptions<Record<string, unknown> | undefined>;
type WsContext = Context<Record<string, unknown> | undefined>;

/**
 * The pipeline as graphql-ws hooks. An operation is counted once its
 * subscription is set up (or refused); its errors are counted, logged and
 * masked on every event it sends.
 */
export function webSocketPipeline(
  { mask, metrics }: PipelineOptions,
  connection: (ctx: WsContext) => Connection,
): Required<Pick<WsOptions, 'onOperation' | 'onNext' | 'onError' | 'onComplete'>> & { started(ctx: WsContext, id: string): void } {
  const operations = new WeakMap<WsContext, Map<string, { started: number; type?: string }>>();
  const operationsOf = (ctx: WsContext) => operations.get(ctx) ?? operations.set(ctx, new Map()).get(ctx)!;
  const clientErrors = (ctx: WsContext, errors: readonly GraphQLError[]) => errorsForClient(errors, connection(ctx), mask);
  return {
    started: (ctx, id) => void operationsOf(ctx).set(id, { started: performance.now() }),
    onOperation(ctx, id, _payload, args) {
      const operation = operationsOf(ctx).get(id);
      if (!operation) return;
      operation.type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      metrics.graphqlRequest(operation.type, seconds(operation.started), []);
    },
    onNext(ctx, id, _payload, _args, result: ExecutionResult): FormattedExecutionResult | void {
      if (!result.errors) return;
      const errors = clientErrors(ctx, result.errors);
      metrics.graphqlErrors(operationsOf(ctx).get(id)?.type ?? 'unknown', errorCodeLabels(errors));
      return { ...result, errors };
    },
    onError(ctx, id, _payload, errors) {
      const formatted = clientErrors(ctx, errors);
      const operation = operationsOf(ctx).get(id);
      // Refused before it ran (limits, validation): counted as a request, as over HTTP.
      if (operation?.type === undefined) metrics.graphqlRequest('unknown', operation ? seconds(operation.started) : 0, errorCodeLabels(formatted));
      else metrics.graphqlErrors(operation.type, errorCodeLabels(formatted));
      operationsOf(ctx).delete(id);
      return formatted;
    },
    onComplete(ctx, id) {
      operationsOf(ctx).delete(id);
    },
  };
}

/**
 * The pipeline for GraphQL over Server-Sent Events (src/api/sse-server.ts): one operation per
 * request, counted once it runs or is refused, its errors logged, masked and counted on every event.
 */
export function ssePipeline({ mask, metrics }: PipelineOptions) {
  const started = new WeakMap<GraphQLContext, { at: number; type: string }>();
  return {
    operation(context: GraphQLContext, type: string): void {
      started.set(context, { at: performance.now(), type });
      metrics.graphqlRequest(type, 0, []);
    },
    refused(connection: Connection, errors: readonly GraphQLError[]): GraphQLFormattedError[] {
      const formatted = errorsForClient(errors, connection, mask);
      metrics.graphqlRequest('unknown', 0, errorCodeLabels(formatted));
      return formatted;
    },
    next(context: GraphQLContext, connection: Connection, result: ExecutionResult): FormattedExecutionResult | void {
      if (!result.errors) return;
      const errors = errorsForClient(result.errors, connection, mask);
      metrics.graphqlErrors(started.get(context)?.type ?? 'unknown', errorCodeLabels(errors));
      return { ...result, errors };
    },
  };
}

/** Errors as a client gets them: unexpected ones logged with their stack, each coded, masked in production. */
function errorsForClient(errors: readonly GraphQLError[], { id, log }: Connection, mask: boolean): GraphQLFormattedError[] {
  return errors.map((error) => {
    if (isUnexpected(error)) logUnexpected(error, log);
    const formatted = error.toJSON();
    const coded = formatted.extensions?.code === undefined ? withCode(formatted, ErrorCode.INTERNAL_SERVER_ERROR) : formatted;
    return forClient(formatError(coded, error), mask, id);
  });
}

function withCode(formatted: GraphQLFormattedError, code: string): GraphQLFormattedError {
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}
