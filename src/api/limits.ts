import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, getNamedType, isIntrospectionType, type ASTVisitor, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from './errors.js';

/** What one operation may ask for; every limit rejects with `QUERY_TOO_COMPLEX` before anything executes. */
export interface QueryLimits {
  /** Deepest field nesting (introspection's `__schema` is not counted). */
  maxDepth: number;
  /** graphql-armor's cost: objects 2, scalars 1, x1.5 per level, x a literal `first`. */
  maxCost: number;
  /** Aliased fields per operation (fragments counted where spread). */
  maxAliases: number;
  /** Directives per operation. */
  maxDirectives: number;
  /** Lexer tokens per document; the parser stops counting there, so a huge document costs no more than this. */
  maxTokens: number;
  /** Answer `__schema` and `__type`, and suggest field names ("Did you mean ...?"); off, both are refused (suggestions would leak the schema too). */
  introspection: boolean;
}

export interface LimitsProtection {
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  plugins: ApolloServerPlugin[];
}

/** Builds the validation rules (graphql-armor's), parse options and plugins for Apollo and graphql-ws alike. */
export function queryLimits(limits: QueryLimits): LimitsProtection {
  const report = (limit: string) => ({
    // Report instead of throwing: Apollo then answers 400 with every error, not 500.
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
            extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit },
          }),
        ),
    ],
  });
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ...report('depth') },
    costLimit: { maxCost: limits.maxCost, ...report('cost') },
    maxAliases: { n: limits.maxAliases, ...report('aliases') },
    maxDirectives: { n: limits.maxDirectives, ...report('directives') },
    // graphql's own parser counts tokens (parseOptions below) and stops early.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !limits.introspection },
  }).protect();
  return {
    validationRules: limits.introspection ? armor.validationRules : [...armor.validationRules, introspectionOffRule],
    parseOptions: { maxTokens: limits.maxTokens },
    // graphql-armor is typed against Apollo's CommonJS build; its plugin only rewrites error messages.
    plugins: armor.plugins as unknown as ApolloServerPlugin[],
  };
}

/** The start of the message an introspection query gets while introspection is off (GraphiQL's page looks for it). */
export const INTROSPECTION_OFF_MESSAGE = 'Introspection is off on this gateway';

/**
 * graphql's NoSchemaIntrospectionCustomRule with a message for this gateway:
 * Apollo's own (`introspection: false`) tells the reader to pass an option to
 * ApolloServer, which an operator cannot; this one names the variable. Used by
 * HTTP and WebSocket alike (graphql-ws would otherwise answer a query's `__schema`).
 */
function introspectionOffRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) {
        context.reportError(
          new GraphQLError(`${INTROSPECTION_OFF_MESSAGE} (INTROSPECTION=off, the default with NODE_ENV=production): "${node.name.value}" cannot be queried.`, {
            nodes: node,
          }),
        );
        // One error per introspection field asked for, not one per field below it.
        return false;
      }
      return undefined;
    },
  };
}

/** graphql's parser message when a document passes `maxTokens` (graphql 16 spells it "more that"). */
export function isTokenLimitError(message: string): boolean {
  return /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/.test(message);
}
