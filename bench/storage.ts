// `npx tsx bench/storage.ts`: the storage layout's reads and writes on a seed with history
// (issue 16), against throwaway PostgreSQL databases; prints a Markdown table.
// Environment: BENCH_DURATION (seconds per scenario, default 10), BENCH_DATABASE_URL,
// STORAGE_BENCH_EVENTS (default 2000), STORAGE_BENCH_SNAPSHOTS (snapshots per (event, bookmaker),
// default 40: one every 6 hours over 10 days), STORAGE_BENCH_LABEL (the column's name), STORAGE_BENCH_DATABASE_URL
// (measure that database as it is instead of seeding a throwaway one).
import os from 'node:os';
import pg from 'pg';
import { createBenchDatabase } from './lib/database.js';
import { httpRequest } from './lib/http.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { startGateway, startNodeProcess } from './lib/processes.js';
import { formatBytes, formatNumber } from './lib/stats.js';
import { hotBoardBody } from './queries.js';

const durationS = positiveInt('BENCH_DURATION', process.env.BENCH_DURATION ?? '10');
const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const events = positiveInt('STORAGE_BENCH_EVENTS', process.env.STORAGE_BENCH_EVENTS ?? '2000');
const snapshotsPerPair = positiveInt('STORAGE_BENCH_SNAPSHOTS', process.env.STORAGE_BENCH_SNAPSHOTS ?? '40');
const label = process.env.STORAGE_BENCH_LABEL ?? 'measured';
// A database seeded earlier (npm run db:seed -- --history-days D), measured as it is: not seeded, not dropped.
const existingUrl = process.env.STORAGE_BENCH_DATABASE_URL || undefined;
const bookmakers = 6;
const connections = 16;

const historyQuery = /* GraphQL */ `
  query History($id: ID!) {
    oddsHistory(eventId: $id, first: 20) {
      id capturedAt bookmaker { key }
      markets { key line margin outcomes { key price previousPrice } }
    }
  }
`;
const eventOddsQuery = /* GraphQL */ `
  query Detail($id: ID!) {
    event(id: $id) { id odds { id capturedAt bookmaker { key } markets { key line margin outcomes { key price previousPrice } } } }
  }
`;

function positiveInt(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value.trim())) throw new RangeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

function log(message: string): void {
  console.log(`[storage bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/**
 * The median of five requests one after another: a latency even where the
 * load times out. A failed answer (the execution timeout, while the database
 * still works through an earlier load's queries) is counted, not timed.
 */
async function idleLatency(url: string, body: string): Promise<{ medianMs: number; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const answer = await httpRequest(url, body);
    if (answer.status === 200 && answer.text.startsWith('{"data":')) times.push(performance.now() - started);
    else failed++;
  }
  times.sort((a, b) => a - b);
  return { medianMs: times.length === 0 ? Number.NaN : times[Math.floor((times.length - 1) / 2)]!, failed };
}

/** The load at `connections`; errors (autocannon's 10 s timeouts included) are reported, not thrown. */
async function measure(name: string, url: string, body: string): Promise<{ idle: { medianMs: number; failed: number }; load: LoadResult }> {
  const idle = await idleLatency(url, body);
  await runLoad({ url, connections, durationS: Math.min(2, durationS), body });
  const load = await runLoad({ url, connections, durationS, body });
  log(`${name}: idle ${idle.medianMs.toFixed(1)} ms (${idle.failed} failed); ${Math.round(load.reqPerSec)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, errors ${load.errors}`);
  if (load.firstBadBody) log(`  first bad body: ${load.firstBadBody}`);
  return { idle, load };
}

/** Bytes of every table and index in the public schema (partitions included), and what the planner knows. */
async function storageFacts(url: string): Promise<{ bytes: number; snapshots: number; unanalyzedTables: number; server: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const [size] = (
      await client.query<{ bytes: string }>(
        `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      )
    ).rows;
    const [count] = (await client.query<{ n: string }>('SELECT count(*) AS n FROM odds_snapshot')).rows;
    const [stats] = (
      await client.query<{ n: string }>(
        // reltuples is -1 until a table is first analyzed.
        `SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND reltuples < 0`,
      )
    ).rows;
    const [version] = (await client.query<{ server_version: string }>('SHOW server_version')).rows;
    return { bytes: Number(size!.bytes), snapshots: Number(count!.n), unanalyzedTables: Number(stats!.n), server: version!.server_version };
  } finally {
    await client.end();
  }
}

/** The gateway's own warm-up figure, from its log line (src/read/read-side.ts). */
async function warmUpMs(databaseUrl: string): Promise<number> {
  const gateway = startNodeProcess('src/main.ts', { env: { DATABASE_URL: databaseUrl, INGEST: 'off', CACHE: 'on', PORT: '0', HOST: '127.0.0.1' } });
  try {
    const [, ms] = await gateway.waitForLine(/warmed the board in (\d+) ms/);
    return Number(ms);
  } finally {
    await gateway.stop();
  }
}

/** Every row of the table for one database: what is stored, then each scenario's latency and load. */
async function measureDatabase(url: string, seedMs: number | undefined): Promise<Array<[string, string]>> {
  const facts = await storageFacts(url);
  log(`${facts.snapshots} snapshots, ${formatBytes(facts.bytes)} on disk, PostgreSQL ${facts.server}`);
  const warmUp = await warmUpMs(url);
  log(`warm-up ${warmUp} ms`);
  const rows: Array<[string, string]> = [
    ['snapshots stored', formatNumber(facts.snapshots)],
    ['seed, snapshots per second (6 markets each)', seedMs === undefined ? 'n/a' : formatNumber(facts.snapshots / (seedMs / 1000))],
    ['bytes on disk per snapshot (tables and indexes)', formatNumber(facts.bytes / facts.snapshots)],
    ['tables without statistics after seeding', String(facts.unanalyzedTables)],
    ['warm-up, whole board (ms)', formatNumber(warmUp)],
  ];
  const cold = await startGateway({ DATABASE_URL: url, INGEST: 'off', CACHE: 'off' });
  try {
    const board = JSON.parse((await httpRequest(`${cold.url}/graphql`, hotBoardBody)).text) as {
      data: { events: { edges: Array<{ node: { id: string } }> } };
    };
    const eventId = board.data.events.edges[10]!.node.id;
    const scenarios: Array<[string, string]> = [
      ['board `events(first: 50)`, CACHE=off', hotBoardBody],
      ['`event(id) { odds }`, CACHE=off', JSON.stringify({ query: eventOddsQuery, variables: { id: eventId } })],
      ['`oddsHistory(first: 20)`', JSON.stringify({ query: historyQuery, variables: { id: eventId } })],
    ];
    for (const [name, body] of scenarios) {
      const { idle, load } = await measure(name, `${cold.url}/graphql`, body);
      const timedOut = load.errorDetail.timeouts ? ` (${load.errorDetail.timeouts} timed out)` : '';
      rows.push([`${name}: one at a time, median ms`, `${formatNumber(idle.medianMs, 1)}${idle.failed ? ` (${idle.failed} of 5 failed)` : ''}`]);
      rows.push([`${name}: req/s, p50 / p99 ms, errors`, `${formatNumber(load.reqPerSec)}, ${load.p50Ms} / ${load.p99Ms}, ${load.errors}${timedOut}`]);
    }
  } finally {
    await cold.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  let rows: Array<[string, string]>;
  if (existingUrl) {
    log(`measuring ${existingUrl} as it is (load average ${machine.loadAverage.toFixed(1)})`);
    rows = await measureDatabase(existingUrl, undefined);
  } else {
    log(`seeding ${events} events x ${bookmakers} bookmakers x ${snapshotsPerPair} snapshots (load average ${machine.loadAverage.toFixed(1)})`);
    const database = await createBenchDatabase(baseUrl, { events, bookmakers, snapshotsPerPair });
    log(`seeded in ${(database.seedMs / 1000).toFixed(1)} s`);
    try {
      rows = await measureDatabase(database.url, database.seedMs);
    } finally {
      await database.drop();
    }
  }
  console.log(`\n| measure (${connections} connections, ${durationS} s each) | ${label} |\n|---|---|`);
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  console.log(
    `\n${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}, load average ${machine.loadAverage.toFixed(1)} at the start ` +
      `(${os.loadavg()[0]!.toFixed(1)} at the end)`,
  );
}

await main();
