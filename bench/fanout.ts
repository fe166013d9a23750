// `npm run bench` (after bench/run.ts), or alone: `tsx bench/fanout.ts`. Subscription fan-out
// (issue 17): a gateway following a separate ingest worker over Redis, subscribers on raw
// graphql-transport-ws sockets in several client processes, and the same subscribers against a
// bare `ws` server at the same rate (the ceiling), one scenario after the other. Writes its
// section of BENCHMARKS.md. Environment: BENCH_DURATION (s, default 10), BENCH_DATABASE_URL,
// BENCH_REDIS_URL, FANOUT_FILTERED (subscribers on 1-5 events, default 20000, on at most the open-files hard
// limit less 1,000 sockets: the gateway holds one descriptor per socket), FANOUT_SUBSCRIPTIONS_PER_SOCKET
// (default 1; more: graphql-ws multiplexes them, each its own subscriber with its own id; filtered subscribers only), FANOUT_UNFILTERED
// (default 1000), FANOUT_FAST_SPEED (SIM_SPEED of the unfiltered scenario, default 10),
// FANOUT_BATCHED (1, the default: unfiltered subscribers on `oddsUpdatedBatch`; 0: on `oddsUpdated`),
// FANOUT_DRAIN_S (how long subscribers may take to hold every newest state once the changes stop,
// default 10), FANOUT_CLIENT_PROCESSES (default 2), FANOUT_CLIENT_NICE (the client processes' niceness,
// default 10, for the gateway and the ceiling alike), FANOUT_PROFILE (a file: the gateway's CPU profile
// over the unfiltered scenario), FANOUT_PROFILE_FILTERED (the same over the filtered one), BENCH_OUTPUT. A count of 0 leaves its scenarios out.
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createRandom } from '../src/domain/pricing.js';
import type { ClientReport } from './child/raw-subscribers.js';
import { createBenchDatabase, type BenchDatabase } from './lib/database.js';
import { boardEventIds, postGraphQL } from './lib/board.js';
import { writeFanOutSection, type FanOutRun, type FanOutScenario } from './lib/fanout-report.js';
import { httpRequest } from './lib/http.js';
import { describeMachine, openFilesHardLimit } from './lib/machine.js';
import { cpuSeconds, projectRoot, startGateway, startNodeProcess, type NodeProcess } from './lib/processes.js';
import { percentile } from './lib/stats.js';

const env = process.env;
const durationS = Number(env.BENCH_DURATION ?? 10);
const perSocket = Math.max(1, Number(env.FANOUT_SUBSCRIPTIONS_PER_SOCKET ?? 1));
const filteredCount = cappedByOpenFiles(Number(env.FANOUT_FILTERED ?? 20_000));
const unfilteredCount = Number(env.FANOUT_UNFILTERED ?? 1_000);
const fastSpeed = env.FANOUT_FAST_SPEED ?? '10';
const clientProcesses = Number(env.FANOUT_CLIENT_PROCESSES ?? 2);
// The clients share the box's cores with the server they measure: at the default niceness they take the
// cores the server needs and its event-loop delay measures them. Niced, the server (gateway or ceiling) runs first.
const clientNice = Number(env.FANOUT_CLIENT_NICE ?? 10);
const unfilteredBatched = (env.FANOUT_BATCHED ?? '1') !== '0';
const drainBoundMs = Number(env.FANOUT_DRAIN_S ?? 10) * 1000;
/**
 * From the worker's start to the window's. A fresh worker's first cycles are slow (connections, JIT), and the
 * simulated feed then owes the changes of the time that passed, up to five seconds' worth in one poll: bursts of
 * about 2,000 deliveries each to the filtered subscribers 1.5-1.9 s after the start, which a 2 s warm-up let into
 * the window in some runs (p99 110-216 ms from the first poll of the window, 200-500 ms of deliveries queued
 * before it) and not in others (45-65 ms). The targets are about the steady rate.
 */
const warmUpMs = 5_000;
const databaseUrl = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const output = path.resolve(projectRoot, env.BENCH_OUTPUT ?? 'BENCHMARKS.md');

function log(message: string): void {
  console.log(`[fanout ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/**
 * The gateway holds one socket per subscriber in one process, beside its database, Redis and listening
 * descriptors; past the hard limit (which a process may not raise, root or not, without CAP_SYS_RESOURCE)
 * its accepts fail and the clients see "socket hang up".
 */
function cappedByOpenFiles(requested: number): number {
  const hard = openFilesHardLimit();
  if (hard === null || Math.ceil(requested / perSocket) <= hard - 1_000) return requested;
  const capped = Math.max(0, hard - 1_000) * perSocket;
  log(
    `FANOUT_FILTERED ${requested} capped at ${capped}: the open-files hard limit here is ${hard} per process (ulimit -Hn), and the gateway needs one per socket ` +
      `(${perSocket} subscription${perSocket === 1 ? '' : 's'} each, FANOUT_SUBSCRIPTIONS_PER_SOCKET) plus about 1,000 to spare`,
  );
  return capped;
}

/** Subscribers spread over client processes, each a raw-socket load generator. */
async function openClients(url: string, filters: Array<string[] | null>, batched: boolean, perSocket: number): Promise<NodeProcess[]> {
  const clients = Array.from({ length: clientProcesses }, () => startNodeProcess('bench/child/raw-subscribers.ts', { nice: clientNice }));
  await Promise.all(clients.map((client, i) => client.request({ type: 'open', url, batched, perSocket, filters: filters.filter((_, j) => j % clientProcesses === i) }, 'opened')));
  return clients;
}

/**
 * Once the changes stopped: how long until every subscriber holds the newest state of every pair it
 * follows that changed (from the stop to the last such subscriber's last receipt), polled every
 * 100 ms up to `drainBoundMs`; null when some still miss one then (counted as stale in the report).
 */
async function drain(clients: NodeProcess[], newest: Record<string, number>, stoppedAt: number): Promise<number | null> {
  await Promise.all(clients.map((c) => c.request({ type: 'expect', newest }, 'expecting')));
  for (const by = stoppedAt + drainBoundMs; ; await sleep(100)) {
    const states = await Promise.all(clients.map((c) => c.request<{ stale: number; lastReceiptAt: number }>({ type: 'drain' }, 'draining')));
    if (states.every((state) => state.stale === 0)) return Math.max(0, ...states.map((state) => state.lastReceiptAt - stoppedAt));
    if (Date.now() > by) return null;
  }
}

/** What the change source is: the gateway with its worker, or the ceiling server. */
interface Target {
  url: string;
  pid: number;
  /** Waits until `count` subscriptions are live there. */
  live(count: number): Promise<void>;
  /** Starts the changes; resolves once they flow. */
  start(): Promise<void>;
  /** Resets the target's event-loop delay histogram (the gateway's resets on each /metrics scrape). */
  resetLoopDelay(): Promise<void>;
  /** The event-loop delay p99 since the reset. */
  loopDelay(): Promise<number>;
  /** Stops the changes; resolves with when they stopped, the newest capturedAt per pair sent since `sinceMs`, and the updates captured in the window. */
  stop(sinceMs: number, window: { fromMs: number; toMs: number }): Promise<{ stoppedAt: number; newest: Record<string, number>; published: string[] }>;
  /** After the drain: the updates conflated and dropped since `start` (null where nothing queues). */
  counts(): Promise<{ conflated: number | null; dropped: number | null }>;
}

async function runScenario(name: string, target: Target, filters: Array<string[] | null>, trackEach: boolean, batched: boolean): Promise<FanOutScenario> {
  const openedAt = performance.now();
  // Only filtered subscribers share sockets (the open-files limit is about their number).
  const clients = await openClients(target.url, filters, batched, trackEach ? perSocket : 1);
  try {
    const connectS = (performance.now() - openedAt) / 1000;
    await target.live(filters.length);
    const sinceMs = Date.now();
    await target.start();
    const fromMs = Date.now() + warmUpMs;
    const toMs = fromMs + durationS * 1000;
    const sampleEvery = trackEach ? 1 : 10;
    await Promise.all(clients.map((c) => c.request({ type: 'window', fromMs, toMs, sampleEvery, trackEach }, 'window-set')));
    await sleep(fromMs - Date.now());
    await target.resetLoopDelay();
    const pids = [target.pid, ...clients.map((c) => c.child.pid!)];
    const cpuBefore = await Promise.all(pids.map((pid) => cpuSeconds(pid)));
    const loadBefore = os.loadavg()[0]!;
    await sleep(toMs - Date.now());
    const cpuAfter = await Promise.all(pids.map((pid) => cpuSeconds(pid)));
    const cpu = pids.map((_, i) => (cpuAfter[i]! - cpuBefore[i]!) / durationS);
    const loopDelayP99Ms = await target.loopDelay();
    const { stoppedAt, newest, published } = await target.stop(sinceMs, { fromMs, toMs });
    const drainMs = await drain(clients, newest, stoppedAt);
    const { conflated, dropped } = await target.counts();
    const reports = await Promise.all(
      clients.map((c) => c.request<{ report: ClientReport }>({ type: 'report', published: trackEach ? published : [], samples: 20_000 }, 'report').then((r) => r.report)),
    );
    const latencies = reports.flatMap((r) => r.latencyMs);
    const sum = (pick: (r: ClientReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
    const scenario: FanOutScenario = {
      name,
      batched,
      subscribers: filters.length,
      sockets: sum((r) => r.sockets),
      connectS,
      changesPerSecond: published.length / durationS,
      received: sum((r) => r.received),
      messages: sum((r) => r.messages),
      lost: trackEach ? sum((r) => r.lost) : null,
      staleSubscribers: sum((r) => r.staleSubscribers),
      drainMs,
      conflated,
      dropped,
      pairsChanged: Object.keys(newest).length,
      errors: sum((r) => r.errors + r.failedConnections),
      publishToReceiveMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? Math.max(...latencies) : Number.NaN },
      loopDelayP99Ms,
      clientLoopDelayP99Ms: Math.max(...reports.map((r) => r.loopDelayP99Ms)),
      cpu: { server: cpu[0]!, clients: cpu.slice(1).reduce((a, b) => a + b, 0), clientsMax: Math.max(...cpu.slice(1)) },
      loadAverage: (loadBefore + os.loadavg()[0]!) / 2,
    };
    log(
      `${name}: ${filters.length} subscribers on ${scenario.sockets} sockets, ${scenario.changesPerSecond.toFixed(0)} changes/s, publish->receive p50 ${scenario.publishToReceiveMs.p50} p99 ${scenario.publishToReceiveMs.p99} ms, ` +
        `lost ${scenario.lost ?? '-'}, stale ${scenario.staleSubscribers} after ${drainMs ?? '>' + drainBoundMs} ms, ${scenario.messages} messages, loop p99 ${loopDelayP99Ms.toFixed(1)} ms, CPU server ${(cpu[0]! * 100).toFixed(0)} %`,
    );
    return scenario;
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
}

/** The gateway following a worker process at SIM_SPEED `speed`. */
function gatewayTarget(gateway: Awaited<ReturnType<typeof startGateway>>, database: BenchDatabase, workerEnv: Record<string, string>, speed: string): Target {
  let worker: NodeProcess | undefined;
  let before = { conflated: 0, dropped: 0 };
  return {
    url: gateway.url,
    pid: gateway.child.pid!,
    async live(count) {
      const by = Date.now() + 120_000;
      while ((await gateway.health()).subscriptions.subscribers < count && Date.now() < by) await sleep(200);
    },
    async start() {
      before = (await gateway.health()).subscriptions;
      worker = startNodeProcess('src/cli/ingest.ts', { env: { ...workerEnv, SIM_SPEED: speed } });
      await worker.waitForLine(/ingest worker on/);
    },
    async stop(sinceMs, window) {
      await worker?.stop();
      const stoppedAt = Date.now();
      return { stoppedAt, ...(await truth(database.url, sinceMs, window)) };
    },
    async counts() {
      await quiet(async () => (await gateway.health()).subscriptions.delivered);
      const after = (await gateway.health()).subscriptions;
      return { conflated: after.conflated - before.conflated, dropped: after.dropped - before.dropped };
    },
    resetLoopDelay: async () => void (await gatewayLoopDelay(gateway.url)),
    loopDelay: () => gatewayLoopDelay(gateway.url),
  };
}

function ceilingTarget(ceiling: NodeProcess, url: string, perSecond: number, eventIds: string[], bookmakers: string[]): Target {
  return {
    url,
    pid: ceiling.child.pid!,
    live: () => sleep(500),
    start: () => ceiling.request({ type: 'rate', perSecond, eventIds, bookmakers }, 'rating'),
    loopDelay: async () => (await ceiling.request<{ loopDelayP99Ms: number }>({ type: 'loop-delay' }, 'loop-delay')).loopDelayP99Ms,
    async stop(_sinceMs, window) {
      const { newest, sent } = await ceiling.request<{ newest: Record<string, number>; sent: string[] }>({ type: 'stop' }, 'stopped');
      const stoppedAt = Date.now();
      const published = sent.filter((key) => {
        const at = Number(key.slice(key.lastIndexOf('|') + 1));
        return at >= window.fromMs && at <= window.toMs;
      });
      return { stoppedAt, newest, published };
    },
    counts: async () => ({ conflated: null, dropped: null }),
    resetLoopDelay: async () => {},
  };
}

/** Waits until `read` stops changing for 2 s (at most 60 s): the fan-out has drained. */
async function quiet(read: () => Promise<number>): Promise<void> {
  let last = await read();
  for (const by = Date.now() + 60_000; Date.now() < by; ) {
    await sleep(2_000);
    const now = await read();
    if (now === last) return;
    last = now;
  }
}

/**
 * From the database: the newest capturedAt of every pair that changed since `sinceMs`, and every change the log
 * holds captured in the window: what subscribers are owed. (Not history: a commit holding two snapshots of one
 * pair logs only the newer, and a late snapshot joins history without becoming the latest; neither is an update.)
 */
async function truth(url: string, sinceMs: number, window: { fromMs: number; toMs: number }): Promise<{ newest: Record<string, number>; published: string[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const latest = await client.query<{ pair: string; at: string }>(
      `SELECT l.event_id || '|' || b.key AS pair, (extract(epoch FROM l.captured_at) * 1000)::bigint AS at
         FROM latest_odds l JOIN bookmaker b ON b.id = l.bookmaker_id WHERE l.captured_at >= to_timestamp($1 / 1000.0)`,
      [sinceMs],
    );
    const inWindow = await client.query<{ key: string }>(
      `SELECT c."eventId" || '|' || b.key || '|' || (extract(epoch FROM c."capturedAt") * 1000)::bigint AS key
         FROM change_log l
        CROSS JOIN jsonb_to_recordset(l.changes) AS c("eventId" int, "bookmakerId" int, "capturedAt" timestamptz)
         JOIN bookmaker b ON b.id = c."bookmakerId"
        WHERE c."capturedAt" BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)`,
      [window.fromMs, window.toMs],
    );
    return { newest: Object.fromEntries(latest.rows.map((r) => [r.pair, Number(r.at)])), published: inWindow.rows.map((r) => r.key) };
  } finally {
    await client.end();
  }
}

/** The gateway's event-loop delay p99 since the previous scrape (prom-client resets its histogram on each). */
async function gatewayLoopDelay(url: string): Promise<number> {
  const { text } = await httpRequest(`${url}/metrics`);
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds'));
  return line ? Number(line.split(' ').at(-1)) * 1000 : Number.NaN;
}

function filtersFor(count: number, boardIds: string[], seed: number): string[][] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => {
    const picked = new Set<string>();
    const size = 1 + Math.floor(random() * 5);
    while (picked.size < Math.min(size, boardIds.length)) picked.add(boardIds[Math.floor(random() * boardIds.length)]!);
    return [...picked];
  });
}

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`seeding; load average ${machine.loadAverage.toFixed(1)}`);
  const database = await createBenchDatabase(databaseUrl, { events: 2000, bookmakers: 6 });
  const prefix = `oddsgate-bench-${process.pid}:`;
  const base = { DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix };
  const scenarios: FanOutScenario[] = [];
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    const started = await startGateway({ ...base, INGEST: 'off', CACHE: 'on', HTTP_MAX_CONNECTIONS: '100000', WS_MAX_SUBSCRIBES_PER_MINUTE: '1000' });
    gateway = started;
    const boardIds = await boardEventIds(gateway.url);
    const { text } = await postGraphQL(gateway.url, JSON.stringify({ query: '{ bookmakers { key } }' }));
    const bookmakers = (JSON.parse(text) as { data: { bookmakers: Array<{ key: string }> } }).data.bookmakers.map((b) => b.key);
    const filtered = filtersFor(filteredCount, boardIds, filteredCount);
    const unfiltered = Array.from({ length: unfilteredCount }, () => null);
    const slow = () => runScenario('filtered, gateway', gatewayTarget(started, database, base, '1'), filtered, true, false);
    if (filteredCount > 0) scenarios.push(await (env.FANOUT_PROFILE_FILTERED ? started.profile(path.resolve(env.FANOUT_PROFILE_FILTERED), slow) : slow()));
    const fast = () => runScenario(`unfiltered${unfilteredBatched ? ', batched' : ''}, gateway`, gatewayTarget(started, database, base, fastSpeed), unfiltered, false, unfilteredBatched);
    if (unfilteredCount > 0) scenarios.push(await (env.FANOUT_PROFILE ? started.profile(path.resolve(env.FANOUT_PROFILE), fast) : fast()));
    const ceilingProcess = startNodeProcess('bench/child/fanout-ceiling.ts');
    try {
      const [, ceilingUrl] = await ceilingProcess.waitForLine(/ceiling ready at (\S+)/);
      for (const gatewayRun of [...scenarios]) {
        const filters = gatewayRun.name.startsWith('filtered') ? filtered : unfiltered;
        const target = ceilingTarget(ceilingProcess, ceilingUrl!, gatewayRun.changesPerSecond, boardIds, bookmakers);
        scenarios.push(await runScenario(gatewayRun.name.replace('gateway', 'ceiling'), target, filters, gatewayRun.lost !== null, gatewayRun.batched));
        await sleep(1_000);
      }
    } finally {
      await ceilingProcess.stop();
    }
  } finally {
    await gateway?.stop();
    await database.drop();
  }
  const run: FanOutRun = { started: new Date(), durationS, warmUpS: warmUpMs / 1000, drainBoundS: drainBoundMs / 1000, clientProcesses, clientNice, machine, scenarios, command: commandLine() };
  await writeFanOutSection(run, output);
  log(`wrote ${path.relative(projectRoot, output)}`);
}

function commandLine(): string {
  const set = ['BENCH_DURATION', 'FANOUT_FILTERED', 'FANOUT_UNFILTERED', 'FANOUT_FAST_SPEED', 'FANOUT_BATCHED', 'FANOUT_DRAIN_S', 'FANOUT_CLIENT_PROCESSES', 'FANOUT_CLIENT_NICE'].filter((name) => env[name]);
  return [...set.map((name) => `${name}=${env[name]}`), 'npx tsx bench/fanout.ts'].join(' ');
}

await main();
