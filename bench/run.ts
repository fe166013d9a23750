// `npm run bench`: seeds a throwaway PostgreSQL database, runs every scenario
// of issue 6 against gateways in their own processes, then issue 20's varied requests
// with wrk (bench/variety.ts), and writes BENCHMARKS.md
// and bench/results/*.svg. Environment: BENCH_DURATION (seconds per scenario,
// default 10), BENCH_DATABASE_URL, BENCH_SUBSCRIBERS (default "1000,5000"),
// BENCH_OUTPUT (default BENCHMARKS.md).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRandom } from '../src/domain/pricing.js';
import { boardEventIds, postGraphQL } from './lib/board.js';
import { createBenchDatabase } from './lib/database.js';
import type { DeliverySummary } from './lib/deliveries.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { cpuSeconds, projectRoot, startGateway, startNodeProcess, type GatewayProcess } from './lib/processes.js';
import { topSelfTimes, type CpuProfile } from './lib/profile.js';
import { writeReport, type BenchResults, type SubscriptionResult } from './lib/report.js';
import { eventDetailQuery, hotBoardBody } from './queries.js';
import { runVariety, withVarietySection } from './variety.js';

const durationS = positiveInt('BENCH_DURATION', process.env.BENCH_DURATION ?? '10');
const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const subscriberCounts = (process.env.BENCH_SUBSCRIBERS ?? '1000,5000').split(',').map((n) => positiveInt('BENCH_SUBSCRIBERS', n));
const output = path.resolve(projectRoot, process.env.BENCH_OUTPUT ?? 'BENCHMARKS.md');
const seedSize = { events: 2000, bookmakers: 6 };
const connections = 16;
const sweepConnections = [1, 4, 16, 64];
const eventsPerSubscriber = 20;

function positiveInt(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value.trim())) throw new RangeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Loads `body` for `durationS` at `connections`, after a short unreported warm-up so the JIT has settled. */
async function measure(label: string, url: string, body: string, conns = connections): Promise<LoadResult> {
  await runLoad({ url, connections: conns, durationS: Math.min(2, durationS), body });
  const result = await runLoad({ url, connections: conns, durationS, body });
  log(`${label}: ${Math.round(result.reqPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}`);
  if (result.firstBadBody) log(`  answer after the load: ${result.firstBadBody}`);
  return result;
}

async function measureSubscribers(gateway: GatewayProcess, count: number, boardIds: string[]): Promise<SubscriptionResult> {
  const random = createRandom(count);
  const filters = Array.from({ length: count }, () => {
    const picked = new Set<string>();
    while (picked.size < Math.min(eventsPerSubscriber, boardIds.length)) picked.add(boardIds[Math.floor(random() * boardIds.length)]!);
    return [...picked];
  });
  const child = startNodeProcess('bench/child/subscribers.ts');
  try {
    const openedAt = performance.now();
    await child.request({ type: 'open', url: gateway.url, filters }, 'opened');
    const connectMs = performance.now() - openedAt;
    // Every subscription is live once the gateway's pubsub counts it (plus the observer);
    // a connection that failed is counted by the child as an error instead.
    const liveBy = Date.now() + 30_000;
    while ((await gateway.health()).subscriptions.subscribers < count + 1 && Date.now() < liveBy) await sleep(100);
    const live = (await gateway.health()).subscriptions.subscribers;
    if (live < count + 1) log(`only ${live - 1} of ${count} subscriptions are live after 30 s; measuring those`);
    const droppedBefore = (await gateway.health()).subscriptions.dropped;
    await sleep(1000);
    const fromMs = Date.now();
    const cpuBefore = await Promise.all([cpuSeconds(gateway.child.pid), cpuSeconds(child.child.pid)]);
    await sleep(durationS * 1000);
    const cpuAfter = await Promise.all([cpuSeconds(gateway.child.pid), cpuSeconds(child.child.pid)]);
    const toMs = Date.now();
    const cpuShare = (i: number) => (cpuAfter[i]! - cpuBefore[i]!) / ((toMs - fromMs) / 1000);
    // Updates captured before toMs may still be on their way.
    await sleep(3000);
    const droppedAfter = (await gateway.health()).subscriptions.dropped;
    const { summary, errors } = await child.request<{ summary: DeliverySummary; errors: number }>(
      { type: 'report', fromMs, toMs },
      'report',
    );
    const result = {
      subscribers: count,
      connectMs,
      ...summary,
      errors,
      droppedByServer: droppedAfter - droppedBefore,
      cpu: { gateway: cpuShare(0), clients: cpuShare(1) },
    };
    log(
      `${count} subscribers: publish->receive p50 ${summary.publishToReceiveMs.p50} ms p99 ${summary.publishToReceiveMs.p99} ms, ` +
        `expected ${summary.expected}, received ${summary.received}, lost ${summary.lost}, dropped by server ${result.droppedByServer}`,
    );
    return result;
  } finally {
    await child.stop();
    const goneBy = Date.now() + 30_000;
    while ((await gateway.health()).subscriptions.subscribers > 0 && Date.now() < goneBy) await sleep(100);
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const machine = describeMachine();
  const work = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-bench-'));
  await mkdir(path.join(projectRoot, 'bench', 'results'), { recursive: true });
  const failures: string[] = [];
  log(`seeding ${seedSize.events} events x ${seedSize.bookmakers} bookmakers`);
  const database = await createBenchDatabase(baseUrl, seedSize);
  log(`seeded ${database.name} in ${(database.seedMs / 1000).toFixed(1)} s`);
  const env = { DATABASE_URL: database.url, INGEST: 'off', CACHE: 'on' };
  const running: GatewayProcess[] = [];
  const start = async (extra: Record<string, string>, nodeArgs: string[] = []) => {
    const gateway = await startGateway({ ...env, ...extra }, nodeArgs);
    running.push(gateway);
    return gateway;
  };
  const stop = async (gateway: GatewayProcess) => {
    await gateway.stop();
    running.splice(running.indexOf(gateway), 1);
  };
  try {
    // 1, 3, 7: the cached gateway.
    const hot = await start({});
    const board = await postGraphQL(hot.url, hotBoardBody);
    const boardJson = JSON.parse(board.text) as { data: { events: { edges: Array<{ node: { id: string } }> } } };
    if (boardJson.data.events.edges.length !== 50) throw new Error(`the hot board has ${boardJson.data.events.edges.length} events, not 50`);
    const bodyFile = path.join(work, 'hot-board.json');
    await writeFile(bodyFile, board.text);
    const detailBody = JSON.stringify({ query: eventDetailQuery, variables: { id: boardJson.data.events.edges[0]!.node.id } });
    await postGraphQL(hot.url, detailBody);

    const hotBoard = await measure('hot board', `${hot.url}/graphql`, hotBoardBody);
    const sweep: LoadResult[] = [];
    for (const conns of sweepConnections) {
      sweep.push(conns === connections ? hotBoard : await measure(`hot board, ${conns} connections`, `${hot.url}/graphql`, hotBoardBody, conns));
    }
    const detail = await measure('event detail + history', `${hot.url}/graphql`, detailBody);
    const hotHealth = await hot.health();
    const hotMemory = await hot.memory();
    await stop(hot);

    // 5: the ceiling.
    const ceilingProcess = startNodeProcess('bench/child/ceiling-server.ts', {
      env: { CEILING_BODY_FILE: bodyFile, CEILING_CONTENT_TYPE: board.contentType },
    });
    const [, ceilingUrl] = await ceilingProcess.waitForLine(/ceiling ready at (\S+)/);
    const ceiling = await measure('ceiling', ceilingUrl!, hotBoardBody);
    await ceilingProcess.stop();

    // 2, 7: CACHE=off.
    const cold = await start({ CACHE: 'off' });
    await postGraphQL(cold.url, hotBoardBody);
    const cacheOff = await measure('hot board, CACHE=off', `${cold.url}/graphql`, hotBoardBody);
    const coldMemory = await cold.memory();
    await stop(cold);

    // 4, 6: the worker publishing in the gateway's own process (until the Redis fan-out lets a separate worker reach it).
    const live = await start({ INGEST: 'on' });
    await sleep(2000);
    const responsesBefore = (await live.health()).responses;
    const withWorker = await measure('hot board, worker publishing', `${live.url}/graphql`, hotBoardBody);
    const responsesAfter = (await live.health()).responses;
    const responseCacheUnderWrites =
      responsesBefore && responsesAfter
        ? Object.fromEntries(
            (['hits', 'shared', 'misses', 'stale', 'stored'] as const).map((k) => [k, responsesAfter[k] - responsesBefore[k]]),
          )
        : null;
    const boardIds = await boardEventIds(live.url);
    const subscriptions: SubscriptionResult[] = [];
    for (const count of subscriberCounts) subscriptions.push(await measureSubscribers(live, count, boardIds));
    await stop(live);

    // The profile: the hot board again on a fresh gateway, V8's CPU profiler on for the load window only.
    const profileFile = path.join(projectRoot, 'bench', 'results', 'hot-board.cpuprofile');
    const profiled = await start({});
    await runLoad({ url: `${profiled.url}/graphql`, connections, durationS: Math.min(2, durationS), body: hotBoardBody });
    await profiled.profile(profileFile, () => runLoad({ url: `${profiled.url}/graphql`, connections, durationS, body: hotBoardBody }));
    await stop(profiled);
    const profile = topSelfTimes(JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile, 15);

    const results: BenchResults = {
      started,
      durationS,
      command: `BENCH_DURATION=${durationS} npm run bench`,
      machine,
      postgres: database.serverVersion,
      seed: { ...seedSize, ms: database.seedMs },
      responseBytes: Buffer.byteLength(board.text),
      throughput: [
        { scenario: '1. hot board (`events(first: 50)`, all bookmakers)', result: hotBoard },
        { scenario: '2. hot board, CACHE=off', result: cacheOff },
        { scenario: '3. event detail + oddsHistory(first: 20)', result: detail },
        { scenario: '4. hot board, worker publishing 50 changes/s', result: withWorker },
        { scenario: '5. ceiling: bare node:http replaying the bytes', result: ceiling, ceiling: true },
      ],
      sweep,
      responseCacheUnderWrites,
      subscriptions,
      memory: {
        boardEvents: hotHealth.board?.events ?? 0,
        cacheEstimateBytes: hotHealth.cache.bytes,
        cacheEntries: hotHealth.cache.entries,
        cacheOn: hotMemory,
        cacheOff: coldMemory,
      },
      profile,
    };
    for (const { scenario, result } of [...results.throughput, ...sweep.map((r) => ({ scenario: `hot board at ${r.connections} connections`, result: r }))]) {
      if (result.requests === 0) failures.push(`${scenario}: no request completed in ${durationS} s`);
      if (result.errors > 0) failures.push(`${scenario}: ${result.errors} errors${result.firstBadBody ? `, answer after the load: ${result.firstBadBody.slice(0, 200)}` : ''}`);
    }
    for (const s of subscriptions) {
      if (s.errors > 0 || s.lost > s.droppedByServer) failures.push(`${s.subscribers} subscribers: ${s.errors} errors, ${s.lost} lost, ${s.droppedByServer} dropped by the server`);
    }
    // Issue 20's varied requests, with wrk, on a gateway of their own.
    log('varied requests (wrk)');
    const variety = await runVariety(database.url, durationS, path.join(projectRoot, 'bench', 'results', 'cold-board.cpuprofile'));
    for (const { scenario, result } of variety.rows) if (result.errors > 0) failures.push(`${scenario}: ${result.errors} errors`);
    await writeReport(results, output, failures);
    await writeFile(output, withVarietySection(await readFile(output, 'utf8'), variety, durationS));
    log(`wrote ${path.relative(projectRoot, output)}`);
  } finally {
    for (const gateway of [...running]) await gateway.stop();
    await database.drop();
    await rm(work, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`\nBENCHMARK FAILED: responses with errors or silent loss:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
