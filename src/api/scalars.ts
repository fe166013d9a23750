import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string' && isoDateTime.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new GraphQLError(
    `DateTime must be an ISO 8601 date-time with a time zone, like "2026-11-22T15:00:00Z"; got ${JSON.stringify(value)}`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date-time in UTC.',
  // Records already hold ISO strings: pass them through untouched.
  serialize: (value) => (typeof value === 'string' ? value : new Date(value as Date | number).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});
