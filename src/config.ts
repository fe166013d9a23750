import { z } from 'zod';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** The default prefix of every Redis key and channel (`REDIS_PREFIX`), so deployments can share one Redis. */
export const defaultRedisPrefix = 'oddsgate:';

/**
 * Which browser origins may call `/graphql` from another origin:
 * `localhost` (any port of localhost, 127.0.0.1 or [::1], for apps on a dev
 * server), `any` (every origin, `*`), or exactly the listed origins.
 */
export type CorsOrigins = { kind: 'localhost' } | { kind: 'any' } | { kind: 'list'; origins: readonly string[] };

export const budgetPeriods = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

/** `FEED_BUDGET`: at most `credits` per calendar `period` (UTC; weeks start on Monday). */
export interface BudgetSetting {
  credits: number;
  period: BudgetPeriod;
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

/** One setting: the environment variable it is read from, and how its value is checked and converted. */
const from = <S extends z.ZodType>(variable: string, schema: S) => ({ variable, schema });

/**
 * All configuration, read once from the environment at start-up: each
 * setting's variable, default and unit in one place, and the `Config` type
 * inferred from it. A bad value stops start-up with a message naming the
 * variable and the value it had.
 */
const settings = {
  /** `DATABASE_URL`: PostgreSQL connection string. Unset = embedded PGlite. */
  databaseUrl: from('DATABASE_URL', url(['postgres:', 'postgresql:']).optional()),
  /** `PGLITE_DATA_DIR`: where embedded PGlite keeps its files (default `.data/pglite`; `memory://` keeps nothing). */
  pgliteDataDir: from('PGLITE_DATA_DIR', z.string().min(1).default('.data/pglite')),
  /** `DATABASE_POOL_SIZE`: connections in the PostgreSQL pool (default 10). */
  databasePoolSize: from('DATABASE_POOL_SIZE', integer(1, 1000).default(10)),
  /** `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL's `statement_timeout` on every connection, in ms (default 10 s; 0 = none). */
  databaseStatementTimeoutMs: from('DATABASE_STATEMENT_TIMEOUT_MS', integer(0, 86_400_000).default(10_000)),
  /** `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`: PostgreSQL's `idle_in_transaction_session_timeout` on every connection, in ms (default 10 s; 0 = none). */
  databaseIdleInTransactionTimeoutMs: from('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', integer(0, 86_400_000).default(10_000)),
  /** `REDIS_URL`: Redis for the shared cache tier and cross-instance fan-out. Unset = in process only. */
  redisUrl: from('REDIS_URL', url(['redis:', 'rediss:']).optional()),
  /** `REDIS_PREFIX`: prefix of every Redis key and channel, so deployments can share one Redis (default `oddsgate:`). */
  redisPrefix: from('REDIS_PREFIX', z.string().min(1).default(defaultRedisPrefix)),
  /** `HOST`: interface the HTTP server binds (default `127.0.0.1`). */
  host: from('HOST', z.string().min(1).default('127.0.0.1')),
  /** `PORT`: HTTP and WebSocket port (default 4000; 0 = any free port, logged at start-up). */
  port: from('PORT', integer(0, 65_535).default(4000)),
  /** `INGEST`: run the ingest worker in this process (default on). */
  ingest: from('INGEST', onOff.default(true)),
  /** `CACHE`: use the shared odds cache (default on; off = every loader batch goes to the database). */
  cache: from('CACHE', onOff.default(true)),
  /** `CACHE_MAX_BYTES`: upper bound of the in-process cache, in bytes (default 256 MiB). */
  cacheMaxBytes: from('CACHE_MAX_BYTES', integer(1024 * 1024, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024)),
  /** `RESPONSE_CACHE_MAX_BYTES`: upper bound of the stored HTTP responses, in bytes (default 128 MiB; with `CACHE=on`). */
  responseCacheMaxBytes: from('RESPONSE_CACHE_MAX_BYTES', integer(1024 * 1024, Number.MAX_SAFE_INTEGER).default(128 * 1024 * 1024)),
  /** `HISTORY_CACHE_MAX_BYTES`: upper bound of the odds history held in memory, in estimated bytes (default 64 MiB; with `CACHE=on`). */
  historyCacheMaxBytes: from('HISTORY_CACHE_MAX_BYTES', integer(1024 * 1024, Number.MAX_SAFE_INTEGER).default(64 * 1024 * 1024)),
  /** `FEED_URL`: an HTTP JSON odds feed to poll. Unset = the simulated feed. */
  feedUrl: from('FEED_URL', url(['http:', 'https:']).optional()),
  /** `SIM_SPEED`: the simulated feed's market runs this many times faster than real time (default 1). */
  simSpeed: from('SIM_SPEED', integer(1, 10_000).default(1)),
  /** `HISTORY_RETENTION_DAYS`: odds history is kept this many days; the process running the ingest worker drops older days whole, and its worker rejects records captured before them (default 30). */
  historyRetentionDays: from('HISTORY_RETENTION_DAYS', integer(1, 36_500).default(30)),
  /** `REPLAY_WINDOW_MINUTES`: how far back `oddsUpdated(after:)` can resume; the process running the ingest worker prunes the change log beyond it (default 60). */
  replayWindowMinutes: from('REPLAY_WINDOW_MINUTES', integer(15, 10_080).default(60)),
  /** `ODDS_API_KEY`: feed odds from The Odds API v4 with this key (unset = `FEED_URL` or the simulated feed). */
  oddsApiKey: from('ODDS_API_KEY', z.string().min(1).optional()),
  /** `ODDS_API_SPORTS`: required with `ODDS_API_KEY`: `sport_key=competition_key,...`, the sports to poll and the competition each one's events join. */
  oddsApiSports: from(
    'ODDS_API_SPORTS',
    z
      .string()
      .regex(/^[\w-]+=[\w-]+(,[\w-]+=[\w-]+)*$/, 'must be sport_key=competition_key pairs separated by commas, e.g. soccer_epl=eng-premier')
      .transform((value) =>
        value.split(',').map((pair) => {
          const [sport, competition] = pair.split('=') as [string, string];
          return { sport, competition };
        }),
      )
      .optional(),
  ),
  /** `ODDS_API_URL`: The Odds API's base URL (default `https://api.the-odds-api.com`). */
  oddsApiUrl: from('ODDS_API_URL', url(['http:', 'https:']).default('https://api.the-odds-api.com')),
  /** `ODDS_API_REGIONS`: bookmaker regions asked for, comma-separated (default `eu`). */
  oddsApiRegions: from('ODDS_API_REGIONS', z.string().regex(/^[a-z_]+(,[a-z_]+)*$/, 'must be regions separated by commas, e.g. eu,uk').default('eu')),
  /** `ODDS_API_INTERVAL_MS`: how often in-play events are polled when the budget allows, in ms (default 60,000); other tiers are multiples of it. */
  oddsApiIntervalMs: from('ODDS_API_INTERVAL_MS', integer(1_000, 86_400_000).default(60_000)),
  /** `ODDS_API_EVENTS_INTERVAL_MS`: how often each sport's events list (free) is fetched, in ms (default 900,000). */
  oddsApiEventsIntervalMs: from('ODDS_API_EVENTS_INTERVAL_MS', integer(10_000, 86_400_000).default(15 * 60_000)),
  /** `FEED_BUDGET`: credits the feed may spend per calendar period (UTC), `<credits>/<day|week|month>` (default `500/month`, The Odds API's free plan). */
  feedBudget: from(
    'FEED_BUDGET',
    z
      .string()
      .regex(new RegExp(`^\\d+/(${budgetPeriods.join('|')})$`), `must be <credits>/<${budgetPeriods.join('|')}>, e.g. 20000/month`)
      .transform((value): BudgetSetting => {
        const [credits, period] = value.split('/') as [string, BudgetSetting['period']];
        return { credits: Number(credits), period };
      })
      .default({ credits: 500, period: 'month' }),
  ),
  /** `FEED_REQUESTS_PER_SECOND`: requests per second the feed is sent on average, free ones included (default 1 for The Odds API; a `FEED_URL` feed: unlimited). */
  feedRequestsPerSecond: from(
    'FEED_REQUESTS_PER_SECOND',
    z.string().regex(/^\d+(\.\d+)?$/, 'must be a number of requests per second, e.g. 0.5').transform(Number).pipe(z.number().positive('must be above 0')).optional(),
  ),
  /** `FEED_REQUEST_BURST`: requests the feed may be sent at once after a quiet spell (default 5). */
  feedRequestBurst: from('FEED_REQUEST_BURST', integer(1, 10_000).default(5)),
  /** `INGEST_MAX_CLOCK_SKEW_MS`: how far in the future a feed record's `capturedAt` may be before it is rejected (default 300,000 ms). */
  ingestMaxClockSkewMs: from('INGEST_MAX_CLOCK_SKEW_MS', integer(0, 86_400_000).default(5 * 60_000)),
  /** `INGEST_MAX_RESPONSE_BYTES`: a feed answer larger than this is refused unparsed (default 10 MiB). */
  ingestMaxResponseBytes: from('INGEST_MAX_RESPONSE_BYTES', integer(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024)),
  /** `INGEST_MAX_RECORDS_PER_CYCLE`: records the worker writes per cycle; the rest of an answer waits (default 5,000). */
  ingestMaxRecordsPerCycle: from('INGEST_MAX_RECORDS_PER_CYCLE', integer(1, 1_000_000).default(5_000)),
  /** `INGEST_STALE_AFTER_MS`: `/health` calls ingest stale when delivered records wait this long for a commit (default 60,000 ms). */
  ingestStaleAfterMs: from('INGEST_STALE_AFTER_MS', integer(1, 86_400_000).default(60_000)),
  /** `ADMIN_TOKEN`: bearer token of the operators' API (`POST /admin/invalidate`). Unset = that API is off. */
  adminToken: from('ADMIN_TOKEN', z.string().min(16, 'must be at least 16 characters').optional()),
  /** `BREAKER_FAILURES`: consecutive failures that open a circuit breaker (the gateway's database, a feed, the worker's database) (default 5). */
  breakerFailures: from('BREAKER_FAILURES', integer(1, 1000).default(5)),
  /** `BREAKER_FIRST_PROBE_MS`: how long a breaker that just opened fails calls fast before its first trial call (default 1,000 ms). */
  breakerFirstProbeMs: from('BREAKER_FIRST_PROBE_MS', integer(1, 3_600_000).default(1_000)),
  /** `BREAKER_OPEN_MS`: the longest wait between trial calls; each failed trial doubles the wait up to this (default 30,000 ms). */
  breakerOpenMs: from('BREAKER_OPEN_MS', integer(1, 3_600_000).default(30_000)),
  /** `LOG_LEVEL`: fatal, error, warn, info, debug (one line per request), trace or silent (default info). */
  logLevel: from('LOG_LEVEL', z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info')),
  /** `METRICS_PORT`: `npm run ingest` serves `/metrics` on this port (unset = no metrics server; the gateway serves its own). */
  metricsPort: from('METRICS_PORT', integer(0, 65_535).optional()),
  /** `NODE_ENV=production`: unexpected errors reach clients as "Unexpected error." plus a request id (default: full errors). */
  maskErrors: from('NODE_ENV', z.string().optional().transform((value) => value === 'production')),
  /** `INTROSPECTION`: answer introspection queries and suggest field names (default on, off with `NODE_ENV=production`). */
  introspection: from('INTROSPECTION', onOff.optional()),
  /** `MAX_QUERY_DEPTH`: deepest field nesting of an operation (default 10). */
  maxQueryDepth: from('MAX_QUERY_DEPTH', integer(1, 1000).default(10)),
  /** `MAX_QUERY_COST`: graphql-armor's cost of an operation (default 100,000). */
  maxQueryCost: from('MAX_QUERY_COST', integer(1, Number.MAX_SAFE_INTEGER).default(100_000)),
  /** `MAX_QUERY_ALIASES`: aliased fields per operation (default 30). */
  maxQueryAliases: from('MAX_QUERY_ALIASES', integer(0, 100_000).default(30)),
  /** `MAX_QUERY_DIRECTIVES`: directives per operation (default 50). */
  maxQueryDirectives: from('MAX_QUERY_DIRECTIVES', integer(0, 100_000).default(50)),
  /** `MAX_QUERY_TOKENS`: lexer tokens per document (default 2000). */
  maxQueryTokens: from('MAX_QUERY_TOKENS', integer(10, 10_000_000).default(2000)),
  /** `EXECUTION_TIMEOUT_MS`: longest an operation may execute before it is answered with `TIMEOUT`, in ms (default 10 s). */
  executionTimeoutMs: from('EXECUTION_TIMEOUT_MS', integer(1, 3_600_000).default(10_000)),
  /** `COMPILED_EXECUTION`: execute repeated operations compiled by graphql-jit (default on; off = graphql-js for every operation). */
  compiledExecution: from('COMPILED_EXECUTION', onOff.default(true)),
  /** `WS_TOKEN`: when set, a WebSocket's `connection_init` must carry `{ token }` equal to it (else close 4403). */
  wsToken: from('WS_TOKEN', z.string().optional()),
  /** `WS_INIT_TIMEOUT_MS`: how long a WebSocket may wait before `connection_init`, in ms (default 3 s; then close 4408). */
  wsInitTimeoutMs: from('WS_INIT_TIMEOUT_MS', integer(1, 600_000).default(3000)),
  /** `WS_MAX_SUBSCRIPTIONS`: active subscriptions per WebSocket (default 50; one more closes it with 1008). */
  wsMaxSubscriptions: from('WS_MAX_SUBSCRIPTIONS', integer(1, 100_000).default(50)),
  /** `WS_MAX_SUBSCRIBES_PER_MINUTE`: subscribe messages per WebSocket per minute (default 300; more closes it with 1008). */
  wsMaxSubscribesPerMinute: from('WS_MAX_SUBSCRIBES_PER_MINUTE', integer(1, 1_000_000).default(300)),
  /**
   * `WS_IN_FLIGHT_BYTES`: bytes a WebSocket may have sent that its client has not yet confirmed reading (by
   * answering the gateway's ping, one outstanding at a time) before its subscriptions' next updates wait, and conflate
   * (default 64 KiB).
   */
  wsInFlightBytes: from('WS_IN_FLIGHT_BYTES', integer(1024, 1 << 30).default(64 * 1024)),
  /**
   * `WS_KEEPALIVE_MS`: how often each WebSocket is pinged, in ms (default 12 s, graphql-ws's); one that leaves a
   * ping unanswered this long is closed when its turn next comes, at the latest three intervals after the ping.
   */
  wsKeepAliveMs: from('WS_KEEPALIVE_MS', integer(100, 600_000).default(12_000)),
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for in-flight HTTP requests before cutting them, in ms (default 10 s). */
  shutdownTimeoutMs: from('SHUTDOWN_TIMEOUT_MS', integer(0, 600_000).default(10_000)),
  /**
   * `HTTP_HEADERS_TIMEOUT_MS`: how long a request's headers may take to arrive, in ms (default 10 s; then 408 and
   * the connection closes). Counted from the connection's opening for its first request, so it is also how long a
   * connection that never sends a byte stays open.
   */
  httpHeadersTimeoutMs: from('HTTP_HEADERS_TIMEOUT_MS', integer(1, 600_000).default(10_000)),
  /** `HTTP_REQUEST_TIMEOUT_MS`: how long a whole request (headers and body) may take to arrive, in ms (default 30 s; at least the headers timeout). */
  httpRequestTimeoutMs: from('HTTP_REQUEST_TIMEOUT_MS', integer(1, 3_600_000).default(30_000)),
  /** `HTTP_KEEP_ALIVE_TIMEOUT_MS`: how long an HTTP connection may sit idle between requests, in ms (default 5 s). */
  httpKeepAliveTimeoutMs: from('HTTP_KEEP_ALIVE_TIMEOUT_MS', integer(1, 600_000).default(5_000)),
  /** `HTTP_MAX_CONNECTIONS`: connections open at once, WebSockets included (default 10,000; more are closed on arrival). */
  httpMaxConnections: from('HTTP_MAX_CONNECTIONS', integer(1, 1_000_000).default(10_000)),
  /**
   * `CORS_ORIGINS`: browser origins allowed to call `/graphql` from another origin: a comma-separated
   * list of origins (`https://app.example.com`), or `*` for any. Default: localhost origins (any port)
   * in development, none with `NODE_ENV=production`.
   */
  corsOrigins: from('CORS_ORIGINS', corsOrigins.optional()),
  /** `CORS_CREDENTIALS`: allowed origins may send cookies (default off; not with `CORS_ORIGINS=*`). */
  corsCredentials: from('CORS_CREDENTIALS', onOff.default(false)),
};

type Settings = typeof settings;
const names = Object.keys(settings) as Array<keyof Settings>;
const schema = z.object(Object.fromEntries(names.map((name) => [name, settings[name].schema])) as { [K in keyof Settings]: Settings[K]['schema'] });

/** The settings as the code reads them; each is documented above, beside its variable. */
export type Config = Omit<z.output<typeof schema>, 'introspection' | 'corsOrigins'> & { introspection: boolean; corsOrigins: CorsOrigins };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const parsed = schema.safeParse(Object.fromEntries(names.map((name) => [name, env[settings[name].variable] || undefined])));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const { variable } = settings[issue.path[0] as keyof Settings];
      return `${variable} ${issue.message}, got ${JSON.stringify(env[variable])}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = parsed.data;
  if (config.oddsApiKey && !config.oddsApiSports) {
    throw new ConfigError('Invalid configuration:\n  ODDS_API_SPORTS is required with ODDS_API_KEY, e.g. soccer_epl=eng-premier');
  }
  if (config.oddsApiKey && config.feedUrl) throw new ConfigError('Invalid configuration:\n  FEED_URL and ODDS_API_KEY both name a feed; set one');
  if (config.httpRequestTimeoutMs < config.httpHeadersTimeoutMs) {
    throw new ConfigError(
      `Invalid configuration:\n  HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS (${config.httpHeadersTimeoutMs}), got ${JSON.stringify(env.HTTP_REQUEST_TIMEOUT_MS)}`,
    );
  }
  if (config.corsCredentials && config.corsOrigins?.kind === 'any') {
    // Browsers refuse credentials with `Access-Control-Allow-Origin: *`; reflecting every origin instead would hand any site the user's cookies.
    throw new ConfigError('Invalid configuration:\n  CORS_CREDENTIALS cannot be on with CORS_ORIGINS=*: list the origins that may send credentials');
  }
  return {
    ...config,
    // Closed by default in production: the schema is for analysts, who get it by asking for INTROSPECTION=on.
    introspection: config.introspection ?? !config.maskErrors,
    // No cross-origin browser access in production unless configured; apps on a local dev server in development.
    corsOrigins: config.corsOrigins ?? (config.maskErrors ? { kind: 'list', origins: [] } : { kind: 'localhost' }),
  };
}
