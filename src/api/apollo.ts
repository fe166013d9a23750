import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config.js';
import type { Metrics } from '../ops/metrics.js';
import type { GraphQLContext } from './context.js';
import { formatError } from './error-reporting.js';
import { executionTimeoutPlugin } from './execution-timeout.js';
import { compiledExecution } from './compiled-execution.js';
import { gatewayCsrfPrevention } from './csrf.js';
import { stringifyResult } from './spliced-execution.js';
import { apolloPipeline } from './operation-pipeline.js';
import type { LimitsProtection } from './limits.js';
import type { PersistedQueryCache } from './persisted-queries.js';

export interface ApolloOptions {
  config: Pick<Config, 'maskErrors' | 'executionTimeoutMs' | 'compiledExecution' | 'cache'>;
  schema: GraphQLSchema;
  limits: LimitsProtection;
  /** Undefined: Apollo's own in-memory store. */
  persistedQueries: PersistedQueryCache | undefined;
  metrics: Metrics;
}

/** Apollo Server for HTTP, with the query limits, the operation pipeline (src/api/operation-pipeline.ts) and the execution timeout. */
export function createApollo({ config, schema, limits, persistedQueries, metrics }: ApolloOptions): ApolloServer<GraphQLContext> {
  return new ApolloServer<GraphQLContext>({
    // `schema`, executed compiled once an operation repeats (src/api/compiled-execution.ts).
    ...(config.compiledExecution ? { gateway: compiledExecution(schema, (engine) => metrics.graphqlExecution(engine), { splice: config.cache }) } : { schema }),
    // Refused by the query limits' own rule when INTROSPECTION=off (src/api/limits.ts), over HTTP and WebSocket alike.
    introspection: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    persistedQueries: { cache: persistedQueries },
    // The response cache applies the same rule to what it answers (src/api/csrf.ts).
    csrfPrevention: gatewayCsrfPrevention,
    formatError,
    // Spliced answers (src/api/spliced-execution.ts) arrive as JSON already; the rest as Apollo's default does.
    stringifyResult,
    includeStacktraceInErrorResponses: !config.maskErrors,
    // main.ts owns SIGTERM: Apollo's own handler would stop it before HTTP drains, then re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      // Apollo's default landing page loads from a CDN; GraphiQL is served from the bundle instead.
      ApolloServerPluginLandingPageDisabled(),
      // Apollo's cache-control hints serve CDNs, which this gateway has none of: its per-field hook was about a
      // tenth of a board's CPU (and made Apollo wrap every resolver); answers say `no-store` (src/api/operation-pipeline.ts).
      ApolloServerPluginCacheControlDisabled(),
      ...limits.plugins,
      apolloPipeline({ mask: config.maskErrors, metrics }),
      executionTimeoutPlugin(config.executionTimeoutMs),
    ],
  });
}
