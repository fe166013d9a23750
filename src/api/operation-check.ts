import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { LimitsProtection } from './limits.js';

export interface OperationPayload {
  query: string;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}

export interface CheckedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  variableValues: Record<string, unknown> | null | undefined;
}

/**
 * Parses and validates an operation that does not come through Apollo
 * (graphql-ws, graphql-sse) with the HTTP path's limits: the errors, coded
 * as over HTTP, or the operation ready to execute.
 *
 * Valid documents are remembered by their text, as Apollo does over HTTP:
 * clients send a handful of documents, and every trader reconnecting after a
 * gateway restart subscribes with the same one. Validating it took about
 * 0.35 ms a subscribe (20,000 subscribers: 7 s of the event loop). Nothing
 * here depends on the variables, and documents are never changed once parsed.
 */
export function operationChecker(schema: GraphQLSchema, limits: LimitsProtection): (payload: OperationPayload) => GraphQLError[] | CheckedOperation {
  const rules = [...specifiedRules, ...limits.validationRules];
  const valid = new LRUCache<string, DocumentNode>({ max: 500, maxSize: 2_000_000, sizeCalculation: (_document, query) => query.length });
  return (payload) => {
    let document = valid.get(payload.query);
    if (!document) {
      try {
        document = parse(payload.query, limits.parseOptions);
      } catch (error) {
        return [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
      valid.set(payload.query, document);
    }
    return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
  };
}

/** An error coded as Apollo would code it; the operation pipeline then gives limit rejections their QUERY_TOO_COMPLEX. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error,
    extensions: { ...error.extensions, code },
  });
}
