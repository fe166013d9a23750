import { readdir } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { cacheKinds, type CacheKind } from '../domain/cache-keys.js';

/**
 * Every Prometheus metric of one process, in its own registry (not
 * prom-client's global one, so a test can run several gateways in one
 * process). Names follow Prometheus conventions: `oddsgate_` prefix, base
 * units, `_total` on counters. Values that other parts already count
 * (cache size, subscribers, response cache) are read on scrape through
 * `collect` callbacks: no timers, nothing on the hot path.
 */
export const cacheResults = ['hit', 'miss', 'stale'] as const;
export type CacheResult = (typeof cacheResults)[number];
/** Positions in flat count arrays: counting there costs an index, not a label hash. */
export const kindIndex = Object.fromEntries(cacheKinds.map((kind, i) => [kind, i])) as Record<CacheKind, number>;
export const resultIndex = Object.fromEntries(cacheResults.map((result, i) => [result, i])) as Record<CacheResult, number>;
/** lru-cache's dispose reasons. */
export type EvictionReason = 'evict' | 'expire' | 'delete' | 'set' | 'fetch';
export type BreakerName = 'database' | 'feed' | 'ingest_database';
export type BreakerState = 'closed' | 'half-open' | 'open';
const breakerStateValue: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Sources read at scrape time; each is registered once by whoever owns it. */
export interface CacheSizeSource {
  /** Entries and bytes per kind, walked on scrape. */
  sizeByKind(): Record<CacheKind, { entries: number; bytes: number }>;
}

export interface ChangeLogStats {
  position: bigint;
  filled: number;
  lost: number;
}

interface PubSubSource {
  stats(): { subscribers: number; dropped: number; conflated: number; delivered: number };
}

export interface HttpServerSource {
  /** Connections open now: HTTP (keep-alive included) and WebSocket alike. */
  openConnections(): Promise<number>;
}

export interface RedisTierSource {
  readonly available: boolean;
  readonly failures: number;
}

export interface ResponseCacheSource {
  stats(): { hits: number; shared: number; misses: number; invalidations: number; evictions: number; entries: number; bytes: number };
}

/** What a budgeted feed reports (src/ingest/feeds/the-odds-api.ts), read on scrape. */
export interface FeedBudgetReport {
  /** Set while the feed's credits are used up. */
  degraded?: string | undefined;
  budget?:
    | { limit: number; spent: number; remaining: number; projectedEndBalance: number; pollIntervalSeconds: Record<string, number>; [detail: string]: unknown }
    | undefined;
  /** The service's quota headers, as last seen. */
  upstream?: { remaining?: number; used?: number; last?: number; [detail: string]: unknown };
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  readonly #registers = [this.registry];
  /**
   * Lookups per (kind, result), counted in a plain array and copied into the
   * counter on scrape: a prom-client `inc()` hashes its labels, microseconds
   * on a path that runs for every cached read.
   */
  readonly #cacheRequestCounts = new Float64Array(cacheKinds.length * cacheResults.length);
  readonly #cacheSets = new Counter({
    name: 'oddsgate_cache_sets_total',
    help: 'Values written to the cache, by kind.',
    labelNames: ['kind'],
    registers: this.#registers,
  });
  readonly #cacheEvictions = new Counter({
    name: 'oddsgate_cache_evictions_total',
    help: 'Entries that left the cache, by reason (evict: LRU size bound, expire: TTL, delete: invalidated, set: replaced).',
    labelNames: ['reason'],
    registers: this.#registers,
  });
  readonly #cacheLoadDuration = new Histogram({
    name: 'oddsgate_cache_load_duration_seconds',
    help: 'Duration of the batched database reads that fill cache misses, by kind.',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: this.#registers,
  });
  readonly #cacheRefreshFailures = new Counter({
    name: 'oddsgate_cache_refresh_failures_total',
    help: 'Stale entries whose background refresh failed (they are served a while longer), by kind.',
    labelNames: ['kind'],
    registers: this.#registers,
  });
  readonly #graphqlRequests = new Counter({
    name: 'oddsgate_graphql_requests_total',
    help:
      'GraphQL operations over HTTP and WebSocket, answers from the response cache included, by operation type ' +
      '(query, mutation, subscription; unknown when the document did not resolve).',
    labelNames: ['operation'],
    registers: this.#registers,
  });
  readonly #graphqlErrors = new Counter({
    name: 'oddsgate_graphql_errors_total',
    help: 'GraphQL errors returned (a subscription\'s on every event), by operation type and extensions.code.',
    labelNames: ['operation', 'code'],
    registers: this.#registers,
  });
  readonly #graphqlDuration = new Histogram({
    name: 'oddsgate_graphql_request_duration_seconds',
    help: 'Time from a GraphQL request arriving to its answer (a subscription: until it is set up), by operation type.',
    labelNames: ['operation'],
    buckets: latencyBuckets,
    registers: this.#registers,
  });
  readonly #graphqlExecutions = new Counter({
    name: 'oddsgate_graphql_executions_total',
    help: 'HTTP operations executed (not answered from the response cache), by engine: spliced (written as JSON, immutable records serialised once), compiled, graphql-js, recomputed (a compiled answer whose variables did not coerce, answered again by graphql-js).',
    labelNames: ['engine'],
    registers: this.#registers,
  });
  readonly #ingestSnapshots = new Counter({
    name: 'oddsgate_ingest_snapshots_total',
    help: 'Snapshots the ingest worker committed (written) or found already stored (duplicate).',
    labelNames: ['result'],
    registers: this.#registers,
  });
  readonly #ingestRejected = new Counter({
    name: 'oddsgate_ingest_rejected_total',
    help: 'Feed records rejected, by reason category (the field at fault, or unknown_event, unknown_bookmaker, unknown_competition).',
    labelNames: ['reason'],
    registers: this.#registers,
  });
  readonly #ingestBatchDuration = new Histogram({
    name: 'oddsgate_ingest_batch_duration_seconds',
    help: 'Duration of one ingest cycle: poll, check, write in one transaction, publish.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: this.#registers,
  });
  readonly #ingestLag = new Histogram({
    name: 'oddsgate_ingest_lag_seconds',
    help: "Time from a snapshot's capturedAt to the worker publishing it on the odds bus.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: this.#registers,
  });
  readonly #ingestQuarantined = new Counter({
    name: 'oddsgate_ingest_quarantined_total',
    help: 'Feed records the database refused, set aside in quarantined_record so the rest of their batch could be committed.',
    registers: this.#registers,
  });
  readonly #breakerState = new Gauge({
    name: 'oddsgate_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    labelNames: ['breaker'],
    registers: this.#registers,
  });
  readonly #httpConnectionsDropped = new Counter({
    name: 'oddsgate_http_connections_dropped_total',
    help: 'Connections closed on arrival because HTTP_MAX_CONNECTIONS were already open.',
    registers: this.#registers,
  });
  readonly #feedRateLimited = new Counter({
    name: 'oddsgate_feed_rate_limited_total',
    help: 'Answers 429 (slow down) from the feed: the worker waited as Retry-After asked; not breaker failures.',
    registers: this.#registers,
  });
  #httpServer: HttpServerSource | undefined;
  #feedBudget: (() => FeedBudgetReport) | undefined;
  #cacheSource: CacheSizeSource | undefined;
  #redisTier: RedisTierSource | undefined;
  #pubsubSource: PubSubSource | undefined;
  #executions: (() => { executions: number; shared: number }) | undefined;
  #changeLogSource: (() => ChangeLogStats) | undefined;
  #responseCache: ResponseCacheSource | undefined;

  constructor({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
    // Unprefixed (process_*, nodejs_*), as every Node.js dashboard expects them.
    if (defaultMetrics) {
      collectDefaultMetrics({ register: this.registry });
      this.#descriptorsCountedOffTheLoop();
    }
    this.#cacheFamiliesReadOnScrape();
    this.#liveFamiliesReadOnScrape();
    this.#responseCacheFamilies();
    this.#feedBudgetFamilies();
  }

  /**
   * prom-client reads every open descriptor (`process_open_fds`) and every handle and resource
   * (`nodejs_active_*`) synchronously on each scrape: with 19,000 WebSockets open, one scrape held the event
   * loop about 150 ms (a profile of bench/fanout.ts). The handle and resource counts go (sockets are
   * `oddsgate_http_connections`); descriptors are counted by a directory read off the event loop.
   */
  #descriptorsCountedOffTheLoop(): void {
    for (const name of ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    // Where prom-client counts them too: /proc is Linux's.
    if (process.platform !== 'linux') return;
    new Gauge({
      name: 'process_open_fds',
      help: 'Number of open file descriptors.',
      registers: this.#registers,
      async collect() {
        // Less the one the read itself holds open, as prom-client counts.
        this.set((await readdir('/proc/self/fd')).length - 1);
      },
    });
  }

  #feedBudgetFamilies(): void {
    const registers = this.#registers;
    const report = () => this.#feedBudget?.();
    const gauge = (name: string, help: string, read: (r: FeedBudgetReport) => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const r = report();
          const value = r && read(r);
          if (value !== undefined) this.set(value);
        },
      });
    gauge('oddsgate_feed_credits_limit', "The feed's credit budget per period (FEED_BUDGET).", (r) => r.budget?.limit);
    gauge('oddsgate_feed_credits_spent', 'Credits the feed spent this period (stored in feed_budget).', (r) => r.budget?.spent);
    gauge('oddsgate_feed_credits_remaining', 'Credits left this period: the budget less what was spent, or the service\'s count when lower.', (r) => r.budget?.remaining);
    gauge('oddsgate_feed_credits_projected_end_balance', 'Credits left at the end of the period if the current poll plan ran until then.', (r) => r.budget?.projectedEndBalance);
    gauge('oddsgate_feed_degraded', 'Whether ingest is degraded because the feed\'s credits are used up (1) or not (0).', (r) => (r.degraded ? 1 : 0));
    for (const [field, header] of [['remaining', 'x-requests-remaining'], ['used', 'x-requests-used'], ['last', 'x-requests-last']] as const) {
      gauge(`oddsgate_feed_upstream_requests_${field}`, `The feed's ${header} header, as last answered.`, (r) => r.upstream?.[field]);
    }
    new Gauge({
      name: 'oddsgate_feed_poll_interval_seconds',
      help: 'How often the feed polls the events of each tier (inplay, soon, today, later), stretched to fit the budget.',
      labelNames: ['tier'],
      registers,
      collect() {
        for (const [tier, seconds] of Object.entries(report()?.budget?.pollIntervalSeconds ?? {})) this.set({ tier }, seconds);
      },
    });
  }

  #cacheFamiliesReadOnScrape(): void {
    const registers = this.#registers;
    const cacheRequestCounts = this.#cacheRequestCounts;
    new Counter({
      name: 'oddsgate_cache_requests_total',
      help: 'Cache lookups by kind of data and result (hit, miss, stale: served past its soft TTL).',
      labelNames: ['kind', 'result'],
      registers,
      collect() {
        // Every series from the start (zeros included), so rate() and ratios work before the first stale serve.
        this.reset();
        cacheKinds.forEach((kind, k) =>
          cacheResults.forEach((result, r) => this.inc({ kind, result }, cacheRequestCounts[k * cacheResults.length + r]!)),
        );
      },
    });
    // collect() runs with `this` bound to its metric; these read this object's sources.
    const cacheSizes = () => this.#cacheSource?.sizeByKind();
    for (const [field, name, help] of [
      ['entries', 'oddsgate_cache_entries', 'Entries in the in-process cache, by kind.'],
      ['bytes', 'oddsgate_cache_bytes', 'Estimated bytes held by the in-process cache, by kind.'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          const byKind = cacheSizes();
          if (byKind) for (const kind of cacheKinds) this.set({ kind }, byKind[kind][field]);
        },
      });
    }
  }

  #liveFamiliesReadOnScrape(): void {
    const registers = this.#registers;
    const httpServer = () => this.#httpServer;
    new Gauge({
      name: 'oddsgate_http_connections',
      help: "Connections open to the gateway's HTTP server, HTTP and WebSocket alike.",
      registers,
      async collect() {
        const source = httpServer();
        if (source) this.set(await source.openConnections());
      },
    });
    const pubsubStats = () => this.#pubsubSource?.stats();
    new Gauge({
      name: 'oddsgate_subscriptions_active',
      help: 'Live oddsUpdated subscriptions on this gateway.',
      registers,
      collect() {
        this.set(pubsubStats()?.subscribers ?? 0);
      },
    });
    monotonicFromSource(registers, 'oddsgate_subscription_messages_sent_total', 'Odds updates handed to subscribers for sending.', () => pubsubStats()?.delivered);
    monotonicFromSource(
      registers,
      'oddsgate_subscription_messages_dropped_total',
      'Odds updates dropped because a subscriber had more than its queue of (event, bookmaker)s waiting.',
      () => pubsubStats()?.dropped,
    );
    monotonicFromSource(
      registers,
      'oddsgate_subscription_messages_conflated_total',
      'Odds updates a slow subscriber skipped because a newer one of the same (event, bookmaker) replaced them in its queue.',
      () => pubsubStats()?.conflated,
    );
    monotonicFromSource(
      registers,
      'oddsgate_subscription_executions_total',
      "Subscription updates executed (once per update and distinct selection, however many subscribers receive it).",
      () => this.#executions?.().executions,
    );
    monotonicFromSource(
      registers,
      'oddsgate_subscription_executions_shared_total',
      "Subscription updates sent from an execution another subscriber's update started (same update, same selection).",
      () => this.#executions?.().shared,
    );
    const changeLog = () => this.#changeLogSource?.();
    new Gauge({
      name: 'oddsgate_change_log_position',
      help: 'The change-log position this gateway has applied: what its cache and subscribers reflect.',
      registers,
      collect() {
        const stats = changeLog();
        if (stats) this.set(Number(stats.position));
      },
    });
    monotonicFromSource(
      registers,
      'oddsgate_change_log_filled_total',
      'Change-log positions read from the database because no bus message brought them (lost by Redis, never published).',
      () => changeLog()?.filled,
    );
    monotonicFromSource(
      registers,
      'oddsgate_change_log_lost_total',
      'Times this gateway missed positions the change log no longer held, and forgot its cached odds instead.',
      () => changeLog()?.lost,
    );
    const redisTier = () => this.#redisTier;
    new Gauge({
      name: 'oddsgate_redis_tier_up',
      help: 'Whether the shared Redis cache tier is reachable (1) or the gateway runs on its own tier (0).',
      registers,
      collect() {
        const tier = redisTier();
        if (tier) this.set(tier.available ? 1 : 0);
      },
    });
    monotonicFromSource(
      registers,
      'oddsgate_redis_tier_failures_total',
      'Shared-tier reads and writes that Redis could not answer (the gateway fell back to its own tier and the database).',
      () => redisTier()?.failures,
    );
  }

  #responseCacheFamilies(): void {
    const registers = this.#registers;
    const stats = () => this.#responseCache?.stats();
    let seen = { hit: 0, shared: 0, miss: 0 };
    new Counter({
      name: 'oddsgate_response_cache_requests_total',
      help: 'Cacheable queries by result: hit (answered from a stored response), shared (from an identical one in flight), miss (executed).',
      labelNames: ['result'],
      registers,
      collect() {
        const now = stats();
        if (!now) return;
        const current = { hit: now.hits, shared: now.shared, miss: now.misses };
        for (const result of ['hit', 'shared', 'miss'] as const) this.inc({ result }, Math.max(0, current[result] - seen[result]));
        seen = current;
      },
    });
    monotonicFromSource(
      registers,
      'oddsgate_response_cache_invalidations_total',
      'Cache writes that made stored responses reading them stale (one per changed entry; a dropped kind clears them all).',
      () => stats()?.invalidations,
    );
    monotonicFromSource(
      registers,
      'oddsgate_response_cache_evictions_total',
      'Stored responses dropped for room (RESPONSE_CACHE_MAX_BYTES), least recently asked for first.',
      () => stats()?.evictions,
    );
    for (const [field, name, help] of [
      ['bytes', 'oddsgate_response_cache_bytes', 'Bytes of the stored responses.'],
      ['entries', 'oddsgate_response_cache_entries', 'Stored responses.'],
    ] as const) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const now = stats();
          if (now) this.set(now[field]);
        },
      });
    }
  }

  /** The cache whose entries and bytes are reported on scrape. */
  observeCache(source: CacheSizeSource): void {
    this.#cacheSource = source;
  }

  /** The HTTP server whose open connections are reported on scrape. */
  observeHttpServer(source: HttpServerSource): void {
    this.#httpServer = source;
  }

  httpConnectionDropped(): void {
    this.#httpConnectionsDropped.inc();
  }

  /** The pubsub whose subscribers, deliveries and drops are reported on scrape. */
  observePubSub(source: PubSubSource): void {
    this.#pubsubSource = source;
  }

  /** Subscription executions, shared and not, reported on scrape. */
  observeSubscriptionExecutions(stats: () => { executions: number; shared: number }): void {
    this.#executions = stats;
  }

  /** The change-log follower whose position and gap fills are reported on scrape. */
  observeChangeLog(source: () => ChangeLogStats): void {
    this.#changeLogSource = source;
  }

  /** The Redis tier whose reachability and failures are reported on scrape. */
  observeRedisTier(source: RedisTierSource): void {
    this.#redisTier = source;
  }

  /** The response cache whose hits, misses, bytes and invalidations are reported on scrape. */
  observeResponseCache(source: ResponseCacheSource): void {
    this.#responseCache = source;
  }

  /** The budgeted feed whose credits, plan and quota headers are reported on scrape. */
  observeFeedBudget(report: () => FeedBudgetReport): void {
    this.#feedBudget = report;
  }

  feedRateLimited(): void {
    this.#feedRateLimited.inc();
  }

  cacheRefreshFailed(kind: CacheKind, entries: number): void {
    this.#cacheRefreshFailures.inc({ kind }, entries);
  }

  cacheRequest(kind: CacheKind, result: CacheResult): void {
    this.#cacheRequestCounts[kindIndex[kind] * cacheResults.length + resultIndex[result]]!++;
  }

  cacheSet(kind: CacheKind): void {
    this.#cacheSets.inc({ kind });
  }

  cacheEviction(reason: EvictionReason): void {
    this.#cacheEvictions.inc({ reason });
  }

  cacheLoad(kind: CacheKind, seconds: number): void {
    this.#cacheLoadDuration.observe({ kind }, seconds);
  }

  /** One operation answered (or, for a subscription, set up), with the codes of the errors it answered with. */
  graphqlRequest(operation: string, seconds: number, errorCodes: readonly string[]): void {
    this.#graphqlRequests.inc({ operation });
    this.#graphqlDuration.observe({ operation }, seconds);
    this.graphqlErrors(operation, errorCodes);
  }

  /** Errors sent later in an operation's life (a subscription's events). */
  graphqlErrors(operation: string, errorCodes: readonly string[]): void {
    for (const code of errorCodes) this.#graphqlErrors.inc({ operation, code });
  }

  /** One HTTP operation executed by `engine` (src/api/compiled-execution.ts). */
  graphqlExecution(engine: 'spliced' | 'compiled' | 'graphql-js' | 'recomputed'): void {
    this.#graphqlExecutions.inc({ engine });
  }

  ingestSnapshots(written: number, duplicates: number): void {
    if (written > 0) this.#ingestSnapshots.inc({ result: 'written' }, written);
    if (duplicates > 0) this.#ingestSnapshots.inc({ result: 'duplicate' }, duplicates);
  }

  ingestRejected(reason: string): void {
    this.#ingestRejected.inc({ reason: rejectionCategory(reason) });
  }

  ingestBatch(seconds: number): void {
    this.#ingestBatchDuration.observe(seconds);
  }

  ingestLag(seconds: number): void {
    this.#ingestLag.observe(seconds);
  }

  ingestQuarantined(records: number): void {
    this.#ingestQuarantined.inc(records);
  }

  setBreakerState(breaker: BreakerName, state: BreakerState): void {
    this.#breakerState.set({ breaker }, breakerStateValue[state]);
  }

  /** The exposition text and its content type, for `/metrics`. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * A counter whose value another component keeps (pubsub drops): on scrape it
 * is advanced by the growth since the last scrape, so it stays a counter.
 */
function monotonicFromSource(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = read() ?? 0;
      if (now > seen) this.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
}

/**
 * A rejection reason carries values (`unknown event "sim-42"`,
 * `markets.0.outcomes.1.price: ...`); a label must come from a small fixed
 * set, so keep the kind of problem or the field path without indexes.
 */
export function rejectionCategory(reason: string): string {
  if (reason.startsWith('unknown event')) return 'unknown_event';
  if (reason.startsWith('unknown bookmaker')) return 'unknown_bookmaker';
  if (/^fixture\.competition: unknown competition/.test(reason)) return 'unknown_competition';
  const path = reason.slice(0, Math.max(0, reason.indexOf(':')));
  const field = path
    .split('.')
    .filter((part) => !/^\d+$/.test(part))
    .join('.');
  return knownFields.has(field) ? field : 'other';
}

/** Every field path the feed record schema (src/ingest/feed-record.ts) can name, without array indexes. */
const knownFields = new Set([
  'record',
  'event',
  'bookmaker',
  'bookmakerName',
  'capturedAt',
  'fixture',
  'fixture.competition',
  'fixture.home',
  'fixture.away',
  'fixture.kickoffAt',
  'markets',
  'markets.key',
  'markets.name',
  'markets.line',
  'markets.outcomes',
  'markets.outcomes.key',
  'markets.outcomes.name',
  'markets.outcomes.price',
]);
