import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';
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
  /** Hide "Did you mean ...?" suggestions (on when introspection is off: they would leak the schema). */
  hideSuggestions: boolean;
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
    blockFieldSuggestion: { enabled: limits.hideSuggestions },
  }).protect();
  return {
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: limits.maxTokens },
    // graphql-armor is typed against Apollo's CommonJS build; its plugin only rewrites error messages.
    plugins: armor.plugins as unknown as ApolloServerPlugin[],
  };
}

/** graphql's parser message when a document passes `maxTokens` (graphql 16 spells it "more that"). */
export function isTokenLimitError(message: string): boolean {
  return /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/.test(message);
}
