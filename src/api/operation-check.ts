import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
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
 */
export function operationChecker(schema: GraphQLSchema, limits: LimitsProtection): (payload: OperationPayload) => GraphQLError[] | CheckedOperation {
  const rules = [...specifiedRules, ...limits.validationRules];
  return (payload) => {
    let document: DocumentNode;
    try {
      document = parse(payload.query, limits.parseOptions);
    } catch (error) {
      return [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
    }
    const errors = validate(schema, document, rules);
    if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
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
