import type http from 'node:http';
import { getOperationAST, GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/http';
import type { Connection } from '../ops/log.js';
import type { GraphQLContext } from './context.js';
import type { LimitsProtection } from './limits.js';
import { ssePipeline, type PipelineOptions } from './operation-pipeline.js';
import { operationChecker } from './operation-check.js';
import { bearerToken, sameSecret } from './secrets.js';
import type { SharedExecutions } from './shared-execution.js';
import { streamSharedPayloads } from './shared-payload.js';

// graphql-sse wants an indexable context object.
type SseContext = GraphQLContext & Record<PropertyKey, unknown>;

export interface SseOptions extends PipelineOptions {
  schema: GraphQLSchema;
  limits: LimitsProtection;
  /** `WS_TOKEN`: when set, a stream needs `authorization: Bearer <token>`, as a WebSocket needs it in `connection_init`. */
  token: string | undefined;
  /** Executes each update once per selection, for every transport's subscribers. */
  shared: SharedExecutions;
  createContext: (connection: Connection) => GraphQLContext;
}

/**
 * GraphQL over Server-Sent Events (graphql-sse's distinct-connections mode)
 * at `/graphql/stream`, for browsers behind proxies that drop WebSockets:
 * the same subscriptions, limits, error pipeline and resume by `after` as
 * graphql-ws, one operation per request. Queries and mutations belong to
 * `POST /graphql` (and its response cache); here they are refused. graphql-sse
 * sends a comment line every 12 s, so proxies keep the stream open and a
 * dead client is noticed at the next write.
 */
export function createSseHandler(options: SseOptions): (req: http.IncomingMessage, res: http.ServerResponse, connection: Connection) => Promise<void> {
  const checkOperation = operationChecker(options.schema, options.limits);
  const pipeline = ssePipeline(options);
  const streams = new WeakMap<http.IncomingMessage, { connection: Connection; share: (result: ExecutionResult) => ExecutionResult }>();
  const connectionOf = (req: { raw: http.IncomingMessage }) => streams.get(req.raw)!.connection;
  // Refused before a stream opens: a 400 with the errors, as graphql-sse answers a document it cannot parse.
  const refuse = (connection: Connection, errors: readonly GraphQLError[]): SseResponse => [
    JSON.stringify({ errors: pipeline.refused(connection, errors) }),
    { status: 400, statusText: 'Bad Request', headers: { 'content-type': 'application/json; charset=utf-8' } },
  ];

  const handler = createHandler<SseContext>({
    onConnect(req) {
      if (options.token === undefined) return;
      const given = bearerToken(req.headers.get('authorization'));
      if (given !== undefined && sameSecret(given, options.token)) return;
      return [JSON.stringify({ errors: [{ message: 'Forbidden: send authorization: Bearer <WS_TOKEN>' }] }), { status: 403, statusText: 'Forbidden' }];
    },
    onSubscribe(req, params) {
      const connection = connectionOf(req);
      const checked = checkOperation(params);
      if (Array.isArray(checked)) return refuse(connection, checked);
      const type = getOperationAST(checked.document, checked.operationName)?.operation;
      if (type !== 'subscription') {
        return refuse(connection, [new GraphQLError('Only subscriptions are served as a stream: send queries to POST /graphql', { extensions: { code: 'BAD_REQUEST' } })]);
      }
      const contextValue = options.createContext(connection) as SseContext;
      pipeline.operation(contextValue, type);
      return { ...checked, variableValues: checked.variableValues ?? undefined, contextValue };
    },
    subscribe: (args) => options.shared.subscribe(args),
    // An answer with errors goes out masked, as this subscriber's; one without, as the bytes every subscriber shares.
    onNext: (context, req, result) =>
      (pipeline.next(context, connectionOf(req), result as ExecutionResult) as ExecutionResult | undefined) ?? streams.get(req.raw)!.share(result as ExecutionResult),
  });
  return (req, res, connection) => {
    streams.set(req, { connection, share: streamSharedPayloads(res) });
    return handler(req, res);
  };
}
