import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context.js';
import { withExecutionTimeout } from './execution-timeout.js';
import { resolvers } from './resolvers.js';

export const typeDefs = readFileSync(path.resolve(import.meta.dirname, '../../schema.graphql'), 'utf8');

/** The executable schema both transports run: `schema.graphql`, its resolvers, and the execution timeout's hook. */
export function buildSchema(): GraphQLSchema {
  return withExecutionTimeout(makeExecutableSchema<GraphQLContext>({ typeDefs, resolvers }));
}
