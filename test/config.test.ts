import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('runs on the embedded defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      pgliteDataDir: '.data/pglite',
      databasePoolSize: 10,
      databaseStatementTimeoutMs: 10_000,
      databaseIdleInTransactionTimeoutMs: 10_000,
      redisUrl: undefined,
      redisPrefix: 'oddsgate:',
      host: '127.0.0.1',
      port: 4000,
      ingest: true,
      cache: true,
      cacheMaxBytes: 256 * 1024 * 1024,
      responseCacheMaxBytes: 128 * 1024 * 1024,
      historyCacheMaxBytes: 64 * 1024 * 1024,
      compiledExecution: true,
      feedUrl: undefined,
      oddsApiKey: undefined,
      oddsApiSports: undefined,
      oddsApiUrl: 'https://api.the-odds-api.com',
      oddsApiRegions: 'eu',
      oddsApiIntervalMs: 60_000,
      oddsApiEventsIntervalMs: 900_000,
      feedBudget: { credits: 500, period: 'month' },
      feedRequestsPerSecond: undefined,
      feedRequestBurst: 5,
      ingestMaxClockSkewMs: 300_000,
      ingestMaxResponseBytes: 10 * 1024 * 1024,
      ingestMaxRecordsPerCycle: 5_000,
      ingestStaleAfterMs: 60_000,
      simSpeed: 1,
      historyRetentionDays: 30,
      replayWindowMinutes: 60,
      adminToken: undefined,
      breakerFailures: 5,
      breakerFirstProbeMs: 1_000,
      breakerOpenMs: 30_000,
      logLevel: 'info',
      metricsPort: undefined,
      maskErrors: false,
      introspection: true,
      maxQueryDepth: 10,
      maxQueryCost: 100_000,
      maxQueryAliases: 30,
      maxQueryDirectives: 50,
      maxQueryTokens: 2000,
      executionTimeoutMs: 10_000,
      wsToken: undefined,
      wsInitTimeoutMs: 3000,
      wsMaxSubscriptions: 50,
      wsMaxSubscribesPerMinute: 300,
      wsInFlightBytes: 65_536,
      wsKeepAliveMs: 12_000,
      shutdownTimeoutMs: 10_000,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      httpKeepAliveTimeoutMs: 5_000,
      httpMaxConnections: 10_000,
      corsOrigins: { kind: 'localhost' },
      corsCredentials: false,
    });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/odds',
      REDIS_URL: 'redis://cache:6379',
      REDIS_PREFIX: 'odds-eu:',
      PORT: '8080',
      INGEST: 'off',
      CACHE: 'off',
      CACHE_MAX_BYTES: '33554432',
      FEED_URL: 'http://feeds.local/odds',
      INGEST_MAX_CLOCK_SKEW_MS: '60000',
      INGEST_MAX_RESPONSE_BYTES: '1048576',
      INGEST_MAX_RECORDS_PER_CYCLE: '100',
      INGEST_STALE_AFTER_MS: '5000',
      BREAKER_FAILURES: '3',
      BREAKER_FIRST_PROBE_MS: '500',
      BREAKER_OPEN_MS: '5000',
      LOG_LEVEL: 'debug',
      METRICS_PORT: '9464',
      HISTORY_RETENTION_DAYS: '7',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://u@db:5432/odds',
      redisUrl: 'redis://cache:6379',
      redisPrefix: 'odds-eu:',
      port: 8080,
      ingest: false,
      cache: false,
      cacheMaxBytes: 32 * 1024 * 1024,
      feedUrl: 'http://feeds.local/odds',
      ingestMaxClockSkewMs: 60_000,
      ingestMaxResponseBytes: 1024 * 1024,
      ingestMaxRecordsPerCycle: 100,
      ingestStaleAfterMs: 5000,
      breakerFailures: 3,
      breakerFirstProbeMs: 500,
      breakerOpenMs: 5000,
      logLevel: 'debug',
      metricsPort: 9464,
      historyRetentionDays: 7,
    });
    expect(() => loadConfig({ HISTORY_RETENTION_DAYS: '0' })).toThrow(/HISTORY_RETENTION_DAYS must be at least 1, got "0"/);
  });

  it('stops with a message naming each bad variable and its value', () => {
    const load = () => loadConfig({ PORT: '80a', INGEST: 'yes', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PORT must be a whole number from 0 to 65535, got "80a"/);
    expect(load).toThrow(/INGEST must be "on" or "off", got "yes"/);
    expect(load).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
    expect(load).toThrow(/DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/, got "mysql:\/\/x"/);
  });

  it('reads the limits, WebSocket and shutdown settings', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      INTROSPECTION: 'off',
      MAX_QUERY_DEPTH: '8',
      MAX_QUERY_COST: '2000',
      MAX_QUERY_ALIASES: '5',
      MAX_QUERY_DIRECTIVES: '4',
      MAX_QUERY_TOKENS: '900',
      EXECUTION_TIMEOUT_MS: '2500',
      WS_TOKEN: 's3cret',
      WS_INIT_TIMEOUT_MS: '1000',
      WS_MAX_SUBSCRIPTIONS: '7',
      WS_MAX_SUBSCRIBES_PER_MINUTE: '70',
      WS_IN_FLIGHT_BYTES: '16384',
      WS_KEEPALIVE_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '0',
    });
    expect(config).toMatchObject({
      maskErrors: true,
      introspection: false,
      maxQueryDepth: 8,
      maxQueryCost: 2000,
      maxQueryAliases: 5,
      maxQueryDirectives: 4,
      maxQueryTokens: 900,
      executionTimeoutMs: 2500,
      wsToken: 's3cret',
      wsInitTimeoutMs: 1000,
      wsMaxSubscriptions: 7,
      wsMaxSubscribesPerMinute: 70,
      wsInFlightBytes: 16_384,
      wsKeepAliveMs: 5000,
      shutdownTimeoutMs: 0,
    });
    expect(loadConfig({ NODE_ENV: 'development' }).maskErrors).toBe(false);
    expect(() => loadConfig({ INTROSPECTION: 'yes' })).toThrow(/INTROSPECTION must be "on" or "off", got "yes"/);
    expect(() => loadConfig({ MAX_QUERY_DEPTH: '0' })).toThrow(/MAX_QUERY_DEPTH must be at least 1, got "0"/);
  });

  it('closes introspection by default in production, and opens it when asked', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'on' }).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).introspection).toBe(true);
    expect(loadConfig({ INTROSPECTION: 'off' }).introspection).toBe(false);
  });

  it('reads the HTTP server limits, and refuses a request timeout shorter than the headers timeout', () => {
    expect(
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '4000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000', HTTP_MAX_CONNECTIONS: '500' }),
    ).toMatchObject({ httpHeadersTimeoutMs: 2000, httpRequestTimeoutMs: 4000, httpKeepAliveTimeoutMs: 65_000, httpMaxConnections: 500 });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' })).toThrow(
      /HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS \(10000\), got "5000"/,
    );
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '0' })).toThrow(/HTTP_MAX_CONNECTIONS must be at least 1, got "0"/);
  });

  it('reads the PostgreSQL pool size and session timeouts; 0 turns a timeout off', () => {
    expect(
      loadConfig({ DATABASE_POOL_SIZE: '25', DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000' }),
    ).toMatchObject({ databasePoolSize: 25, databaseStatementTimeoutMs: 0, databaseIdleInTransactionTimeoutMs: 60_000 });
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE must be at least 1, got "0"/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '5s' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/);
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be at most 65535, got "70000"/);
  });

  it('reads The Odds API settings, and says what is missing or conflicting', () => {
    expect(loadConfig({ ODDS_API_KEY: 'k', ODDS_API_SPORTS: 'soccer_epl=eng-premier,basketball_nba=usa-pro-basketball' })).toMatchObject({
      oddsApiKey: 'k',
      oddsApiSports: [
        { sport: 'soccer_epl', competition: 'eng-premier' },
        { sport: 'basketball_nba', competition: 'usa-pro-basketball' },
      ],
      oddsApiUrl: 'https://api.the-odds-api.com',
      oddsApiRegions: 'eu',
      oddsApiIntervalMs: 60_000,
    });
    expect(() => loadConfig({ ODDS_API_KEY: 'k' })).toThrow('ODDS_API_SPORTS is required with ODDS_API_KEY');
    expect(() => loadConfig({ ODDS_API_KEY: 'k', ODDS_API_SPORTS: 'soccer_epl=eng-premier', FEED_URL: 'http://x/odds' })).toThrow(
      'FEED_URL and ODDS_API_KEY both name a feed',
    );
    expect(() => loadConfig({ ODDS_API_KEY: 'k', ODDS_API_SPORTS: 'soccer_epl' })).toThrow(/ODDS_API_SPORTS must be sport_key=competition_key pairs/);
  });

  it('reads the feed budget and rate limit, and says how to write them', () => {
    expect(loadConfig({ FEED_BUDGET: '20000/month', FEED_REQUESTS_PER_SECOND: '0.5', FEED_REQUEST_BURST: '2', ODDS_API_EVENTS_INTERVAL_MS: '600000' })).toMatchObject({
      feedBudget: { credits: 20_000, period: 'month' },
      feedRequestsPerSecond: 0.5,
      feedRequestBurst: 2,
      oddsApiEventsIntervalMs: 600_000,
    });
    expect(loadConfig({ FEED_BUDGET: '700/day' }).feedBudget).toEqual({ credits: 700, period: 'day' });
    expect(() => loadConfig({ FEED_BUDGET: '20000' })).toThrow('FEED_BUDGET must be <credits>/<day|week|month>, e.g. 20000/month, got "20000"');
    expect(() => loadConfig({ FEED_REQUESTS_PER_SECOND: '0' })).toThrow(/FEED_REQUESTS_PER_SECOND must be above 0/);
  });
});
