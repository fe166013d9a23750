import { z } from 'zod';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * Which browser origins may call `/graphql` from another origin:
 * `localhost` (any port of localhost, 127.0.0.1 or [::1], for apps on a dev
 * server), `any` (every origin, `*`), or exactly the listed origins.
 */
export type CorsOrigins = { kind: 'localhost' } | { kind: 'any' } | { kind: 'list'; origins: readonly string[] };

/**
 * All configuration, read once from the environment at start-up. Each field
 * documents its variable, default and unit; a bad value stops start-up with a
 * message naming the variable and the value it had.
 */
export interface Config {
  /** `DATABASE_URL`: PostgreSQL connection string. Unset = embedded PGlite. */
  databaseUrl: string | undefined;
  /** `PGLITE_DATA_DIR`: where embedded PGlite keeps its files (default `.data/pglite`; `memory://` keeps nothing). */
  pgliteDataDir: string;
  /** `REDIS_URL`: Redis for the shared cache tier and cross-instance fan-out. Unset = in process only. */
  redisUrl: string | undefined;
  /** `REDIS_PREFIX`: prefix of every Redis key and channel, so deployments can share one Redis (default `oddsgate:`). */
  redisPrefix: string;
  /** `HOST`: interface the HTTP server binds (default `127.0.0.1`). */
  host: string;
  /** `PORT`: HTTP and WebSocket port (default 4000; 0 = any free port, logged at start-up). */
  port: number;
  /** `INGEST`: run the ingest worker in this process (default on). */
  ingest: boolean;
  /** `CACHE`: use the shared odds cache (default on; off = every loader batch goes to the database). */
  cache: boolean;
  /** `CACHE_MAX_BYTES`: upper bound of the in-process cache, in bytes (default 256 MiB). */
  cacheMaxBytes: number;
  /** `FEED_URL`: an HTTP JSON odds feed to poll. Unset = the simulated feed. */
  feedUrl: string | undefined;
  /** `SIM_SPEED`: the simulated feed's market runs this many times faster than real time (default 1). */
  simSpeed: number;
  /** `ADMIN_TOKEN`: bearer token of the operators' API (`POST /admin/invalidate`). Unset = that API is off. */
  adminToken: string | undefined;
  /** `BREAKER_FAILURES`: consecutive failures that open the database's or a feed's circuit breaker (default 5). */
  breakerFailures: number;
  /** `BREAKER_OPEN_MS`: how long an open breaker fails calls fast before one trial call (default 30,000 ms). */
  breakerOpenMs: number;
  /** `LOG_LEVEL`: fatal, error, warn, info, debug (one line per request), trace or silent (default info). */
  logLevel: LogLevel;
  /** `METRICS_PORT`: `npm run ingest` serves `/metrics` on this port (unset = no metrics server; the gateway serves its own). */
  metricsPort: number | undefined;
  /** `NODE_ENV=production`: unexpected errors reach clients as "Unexpected error." plus a request id (default: full errors). */
  maskErrors: boolean;
  /** `INTROSPECTION`: answer introspection queries (default on, for analysts' GraphiQL). */
  introspection: boolean;
  /** `MAX_QUERY_DEPTH`: deepest field nesting of an operation (default 10). */
  maxQueryDepth: number;
  /** `MAX_QUERY_COST`: graphql-armor's cost of an operation (default 100,000). */
  maxQueryCost: number;
  /** `MAX_QUERY_ALIASES`: aliased fields per operation (default 30). */
  maxQueryAliases: number;
  /** `MAX_QUERY_DIRECTIVES`: directives per operation (default 50). */
  maxQueryDirectives: number;
  /** `MAX_QUERY_TOKENS`: lexer tokens per document (default 2000). */
  maxQueryTokens: number;
  /** `EXECUTION_TIMEOUT_MS`: longest an operation may execute before it is answered with `TIMEOUT`, in ms (default 10 s). */
  executionTimeoutMs: number;
  /** `WS_TOKEN`: when set, a WebSocket's `connection_init` must carry `{ token }` equal to it (else close 4403). */
  wsToken: string | undefined;
  /** `WS_INIT_TIMEOUT_MS`: how long a WebSocket may wait before `connection_init`, in ms (default 3 s; then close 4408). */
  wsInitTimeoutMs: number;
  /** `WS_MAX_SUBSCRIPTIONS`: active subscriptions per WebSocket (default 50; one more closes it with 1008). */
  wsMaxSubscriptions: number;
  /** `WS_MAX_SUBSCRIBES_PER_MINUTE`: subscribe messages per WebSocket per minute (default 300; more closes it with 1008). */
  wsMaxSubscribesPerMinute: number;
  /**
   * `CORS_ORIGINS`: browser origins allowed to call `/graphql` from another origin: a comma-separated
   * list of origins (`https://app.example.com`), or `*` for any. Default: localhost origins (any port)
   * in development, none with `NODE_ENV=production`.
   */
  corsOrigins: CorsOrigins;
  /** `CORS_CREDENTIALS`: allowed origins may send cookies (default off; not with `CORS_ORIGINS=*`). */
  corsCredentials: boolean;
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for in-flight HTTP requests before cutting them, in ms (default 10 s). */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const onOff = z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).transform((value) => value === 'on');
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const origin = z.string().refine((value) => {
  try {
    const parsed = new URL(value);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === value;
  } catch {
    return false;
  }
}, 'must be `*` or comma-separated origins such as https://app.example.com (scheme, host and port only)');
const corsOrigins = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()))
  .pipe(z.union([z.tuple([z.literal('*')]), z.array(origin).min(1)]))
  .transform((list): CorsOrigins => (list[0] === '*' ? { kind: 'any' } : { kind: 'list', origins: list }));

const variables = {
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  PGLITE_DATA_DIR: z.string().min(1).default('.data/pglite'),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_PREFIX: z.string().min(1).default('oddsgate:'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: integer(0, 65_535).default(4000),
  INGEST: onOff.default(true),
  CACHE: onOff.default(true),
  CACHE_MAX_BYTES: integer(1024 * 1024, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
  FEED_URL: url(['http:', 'https:']).optional(),
  SIM_SPEED: integer(1, 10_000).default(1),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BREAKER_FAILURES: integer(1, 1000).default(5),
  BREAKER_OPEN_MS: integer(1, 3_600_000).default(30_000),
  LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info'),
  METRICS_PORT: integer(0, 65_535).optional(),
  NODE_ENV: z.string().optional(),
  INTROSPECTION: onOff.default(true),
  MAX_QUERY_DEPTH: integer(1, 1000).default(10),
  MAX_QUERY_COST: integer(1, Number.MAX_SAFE_INTEGER).default(100_000),
  MAX_QUERY_ALIASES: integer(0, 100_000).default(30),
  MAX_QUERY_DIRECTIVES: integer(0, 100_000).default(50),
  MAX_QUERY_TOKENS: integer(10, 10_000_000).default(2000),
  EXECUTION_TIMEOUT_MS: integer(1, 3_600_000).default(10_000),
  WS_TOKEN: z.string().optional(),
  WS_INIT_TIMEOUT_MS: integer(1, 600_000).default(3000),
  WS_MAX_SUBSCRIPTIONS: integer(1, 100_000).default(50),
  WS_MAX_SUBSCRIBES_PER_MINUTE: integer(1, 1_000_000).default(300),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  CORS_ORIGINS: corsOrigins.optional(),
  CORS_CREDENTIALS: onOff.default(false),
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = z.object(variables).safeParse(
    // An empty variable means "not set", as in most shells' `FOO= cmd`.
    Object.fromEntries(Object.keys(variables).map((name) => [name, env[name] || undefined])),
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} ${issue.message}, got ${JSON.stringify(env[name])}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const v = parsed.data;
  const production = v.NODE_ENV === 'production';
  const corsOrigins = v.CORS_ORIGINS ?? (production ? { kind: 'list', origins: [] } : { kind: 'localhost' });
  if (corsOrigins.kind === 'any' && v.CORS_CREDENTIALS) {
    // Browsers refuse credentials with `Access-Control-Allow-Origin: *`; reflecting every origin instead would hand any site the user's cookies.
    throw new ConfigError('Invalid configuration:\n  CORS_CREDENTIALS cannot be on with CORS_ORIGINS=*: list the origins that may send credentials');
  }
  return {
    databaseUrl: v.DATABASE_URL,
    pgliteDataDir: v.PGLITE_DATA_DIR,
    redisUrl: v.REDIS_URL,
    redisPrefix: v.REDIS_PREFIX,
    host: v.HOST,
    port: v.PORT,
    ingest: v.INGEST,
    cache: v.CACHE,
    cacheMaxBytes: v.CACHE_MAX_BYTES,
    feedUrl: v.FEED_URL,
    simSpeed: v.SIM_SPEED,
    adminToken: v.ADMIN_TOKEN,
    breakerFailures: v.BREAKER_FAILURES,
    breakerOpenMs: v.BREAKER_OPEN_MS,
    logLevel: v.LOG_LEVEL,
    metricsPort: v.METRICS_PORT,
    maskErrors: production,
    introspection: v.INTROSPECTION,
    maxQueryDepth: v.MAX_QUERY_DEPTH,
    maxQueryCost: v.MAX_QUERY_COST,
    maxQueryAliases: v.MAX_QUERY_ALIASES,
    maxQueryDirectives: v.MAX_QUERY_DIRECTIVES,
    maxQueryTokens: v.MAX_QUERY_TOKENS,
    executionTimeoutMs: v.EXECUTION_TIMEOUT_MS,
    wsToken: v.WS_TOKEN,
    wsInitTimeoutMs: v.WS_INIT_TIMEOUT_MS,
    wsMaxSubscriptions: v.WS_MAX_SUBSCRIPTIONS,
    wsMaxSubscribesPerMinute: v.WS_MAX_SUBSCRIBES_PER_MINUTE,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    corsOrigins,
    corsCredentials: v.CORS_CREDENTIALS,
  };
}
