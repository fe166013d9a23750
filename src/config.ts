import { z } from 'zod';
import { logLevels, type LogLevel } from './observability/log.js';

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
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BREAKER_FAILURES: integer(1, 1000).default(5),
  BREAKER_OPEN_MS: integer(1, 3_600_000).default(30_000),
  LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info'),
  METRICS_PORT: integer(0, 65_535).optional(),
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
    adminToken: v.ADMIN_TOKEN,
    breakerFailures: v.BREAKER_FAILURES,
    breakerOpenMs: v.BREAKER_OPEN_MS,
    logLevel: v.LOG_LEVEL,
    metricsPort: v.METRICS_PORT,
  };
}
