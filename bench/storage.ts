// `npx tsx bench/storage.ts` (part of `npm run bench`): issue 16's storage scenarios on throwaway PostgreSQL
// databases at two history sizes, written into BENCHMARKS.md between its storage markers.
// Environment: BENCH_DURATION (seconds per scenario, default 10), BENCH_DATABASE_URL,
// STORAGE_BENCH_EVENTS (default 2000; 6 bookmakers each),
// STORAGE_BENCH_BIG_DAYS (history days of the second size: a snapshot per pair every 6 hours; 104 days make
//   5,004,000 snapshots and take minutes to seed, so it is opt-in: unset, only the fresh seed is measured),
// STORAGE_BENCH_BIG_DATABASE_URL (measure that database, seeded earlier with `npm run db:seed`, as the second
//   size instead of seeding one: it is not dropped), BENCH_OUTPUT (default BENCHMARKS.md; "-" prints only).
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database.js';
import { OddsReader } from '../src/db/odds-reader.js';
import { storeSnapshots } from '../src/db/odds-store.js';
import type { SnapshotInput } from '../src/domain/odds.js';
import { createRandom, priceMarkets, sportProfiles, type MarketTemplate } from '../src/domain/pricing.js';
import { createBenchDatabase } from './lib/database.js';
import { httpRequest } from './lib/http.js';
import { describeMachine } from './lib/machine.js';
import { cpuSeconds, projectRoot, startGateway, startNodeProcess, type GatewayProcess } from './lib/processes.js';
import { formatNumber } from './lib/stats.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { eventOddsQuery, historyQuery, hotBoardBody } from './queries.js';

const durationS = positiveInt('BENCH_DURATION', process.env.BENCH_DURATION ?? '10');
const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const events = positiveInt('STORAGE_BENCH_EVENTS', process.env.STORAGE_BENCH_EVENTS ?? '2000');
const bigDays = process.env.STORAGE_BENCH_BIG_DAYS ? positiveInt('STORAGE_BENCH_BIG_DAYS', process.env.STORAGE_BENCH_BIG_DAYS) : undefined;
const bigUrl = process.env.STORAGE_BENCH_BIG_DATABASE_URL || undefined;
const output = process.env.BENCH_OUTPUT === '-' ? undefined : path.resolve(projectRoot, process.env.BENCH_OUTPUT ?? 'BENCHMARKS.md');
const bookmakers = 6;
const connections = 16;
// Ingest: the worker commits at most 5,000 records per cycle (IngestWorker's maxRecordsPerCycle), as one transaction.
const ingestBatch = 5_000;
const ingestBatches = 8;
// A full snapshot of 5 markets: match result, two over/under lines, a handicap, both teams to score (11 outcomes).
const fiveMarkets: MarketTemplate = { threeWay: true, totals: [1.5, 2.5], handicaps: [-0.5], bothToScore: true };

function positiveInt(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value.trim())) throw new RangeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

function log(message: string): void {
  console.log(`[storage bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving `url`'s database (from /proc: the server runs on
 * this machine). Backends that end during a run (parallel workers) are not counted, so this is a lower bound.
 */
async function postgresCpu(url: string): Promise<Map<number, number>> {
  const database = new URL(url).pathname.slice(1);
  const rows = await adminQuery<{ pid: number }>(url, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  return new Map(await Promise.all(rows.map(async ({ pid }) => [pid, await cpuSeconds(pid)] as [number, number])));
}

function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, end] of after) if (before.has(pid) && Number.isFinite(end)) seconds += end - before.get(pid)!;
  return seconds;
}

interface Scenario {
  name: string;
  result: WrkResult;
  gatewayCpuMs: number;
  postgresCpuMs: number;
  ceiling: WrkResult;
}

/** wrk at 16 connections after 2 s of warm-up, with the gateway's and PostgreSQL's CPU per answer; then the ceiling for the same answer. */
async function measure(gateway: GatewayProcess, databaseUrl: string, name: string, bodies: string[]): Promise<Scenario> {
  const url = `${gateway.url}/graphql`;
  await runWrk({ url, connections, durationS: Math.min(2, durationS), bodies });
  const [gatewayBefore, postgresBefore] = [await cpuSeconds(gateway.child.pid), await postgresCpu(databaseUrl)];
  const result = await runWrk({ url, connections, durationS, bodies });
  const [gatewayAfter, postgresAfter] = [await cpuSeconds(gateway.child.pid), await postgresCpu(databaseUrl)];
  const answers = Math.max(1, result.requests);
  const gatewayCpuMs = ((gatewayAfter - gatewayBefore) * 1000) / answers;
  const postgresCpuMs = (cpuSpent(postgresBefore, postgresAfter) * 1000) / answers;
  const ceiling = await ceilingFor(url, bodies[0]!);
  log(
    `${name}: ${Math.round(result.reqPerSec)} req/s (ceiling ${Math.round(ceiling.reqPerSec)}), p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `errors ${result.errors}; CPU per answer: gateway ${gatewayCpuMs.toFixed(2)} ms, PostgreSQL ${postgresCpuMs.toFixed(2)} ms`,
  );
  return { name, result, gatewayCpuMs, postgresCpuMs, ceiling };
}

/** A bare node:http server replaying the gateway's answer to `body`, under the same load: what HTTP alone costs here. */
async function ceilingFor(url: string, body: string): Promise<WrkResult> {
  const answer = await httpRequest(url, body);
  const bodyFile = path.join(os.tmpdir(), `oddsgate-storage-ceiling-${process.pid}.json`);
  await writeFile(bodyFile, answer.text);
  const server = startNodeProcess('bench/child/ceiling-server.ts', { env: { CEILING_BODY_FILE: bodyFile, CEILING_CONTENT_TYPE: 'application/json; charset=utf-8' } });
  try {
    const [, ceilingUrl] = await server.waitForLine(/ceiling ready at (\S+)/);
    await runWrk({ url: ceilingUrl!, connections, durationS: Math.min(2, durationS), bodies: [body] });
    return await runWrk({ url: ceilingUrl!, connections, durationS, bodies: [body] });
  } finally {
    await server.stop();
    await rm(bodyFile, { force: true });
  }
}

/** Bytes of every table and index in the public schema (partitions included), and the rows of history. */
async function storageFacts(url: string): Promise<{ bytes: number; snapshots: number; partitions: number }> {
  const [row] = await adminQuery<{ bytes: string; snapshots: string; partitions: string }>(
    url,
    `SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r') AS bytes,
            (SELECT count(*) FROM odds_snapshot) AS snapshots,
            (SELECT count(*) FROM pg_inherits WHERE inhparent = 'odds_snapshot'::regclass) AS partitions`,
  );
  return { bytes: Number(row!.bytes), snapshots: Number(row!.snapshots), partitions: Number(row!.partitions) };
}

/** The storage reads alone (no HTTP, no GraphQL), in this process: median of 30 calls one after another. */
async function readerTimings(db: Database, eventIds: number[]): Promise<{ historyMs: number; boardOddsMs: number }> {
  const reader = new OddsReader(db.prisma, undefined, db.query);
  const median = async (read: (i: number) => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await read(i);
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[15]!;
  };
  return {
    historyMs: await median((i) => reader.history({ eventId: eventIds[i % eventIds.length]!, first: 20 })),
    boardOddsMs: await median(() => reader.eventOdds(eventIds.slice(0, 50))),
  };
}

/** The gateway's own warm-up figure, from its log line (src/read/read-side.ts): the median of three starts. */
async function warmUpMs(databaseUrl: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const gateway = startNodeProcess('src/main.ts', { env: { DATABASE_URL: databaseUrl, INGEST: 'off', CACHE: 'on', PORT: '0', HOST: '127.0.0.1' } });
    try {
      const [, ms] = await gateway.waitForLine(/warmed the board in (\d+) ms/);
      times.push(Number(ms));
    } finally {
      await gateway.stop();
    }
  }
  return times.sort((a, b) => a - b)[1]!;
}

interface IngestResult {
  snapshotsPerS: number;
  /** This process's CPU (the worker's write path: movement, documents, the driver) per snapshot, ms. */
  workerCpuMs: number;
  postgresCpuMs: number;
  bytesPerSnapshot: number;
}

/**
 * The worker's write path: `storeSnapshots` with a feed commit (cursor and change-log row in the same
 * transaction), `ingestBatch` full snapshots per transaction as the worker commits a cycle, each
 * snapshot a new price for a different (event, bookmaker) pair. Snapshots are priced before the clock starts.
 */
async function measureIngest(db: Database, url: string, eventIds: number[]): Promise<IngestResult> {
  const random = createRandom(7);
  const bookmakerIds = (await db.prisma.bookmaker.findMany({ select: { id: true } })).map((b) => b.id);
  const pairs = eventIds.flatMap((eventId) => bookmakerIds.map((bookmakerId) => ({ eventId, bookmakerId })));
  const model = sportProfiles.football!.randomModel(random);
  const start = Date.now();
  const batches: SnapshotInput[][] = Array.from({ length: ingestBatches }, (_, b) =>
    Array.from({ length: ingestBatch }, (_, i) => ({
      ...pairs[(b * ingestBatch + i) % pairs.length]!,
      capturedAt: new Date(start + b * 1_000 + Math.floor((b * ingestBatch + i) / pairs.length)),
      markets: priceMarkets(model, fiveMarkets, 0.05, random),
    })),
  );
  const bytesBefore = (await storageFacts(url)).bytes;
  const postgresBefore = await postgresCpu(url);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let stored = 0;
  for (const [b, batch] of batches.entries()) {
    stored += (await storeSnapshots(db.prisma, batch, [], { feed: 'storage-bench', cursor: String(b) })).stored;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const postgresCpuMs = (cpuSpent(postgresBefore, await postgresCpu(url)) * 1000) / stored;
  await adminQuery(url, 'ANALYZE');
  const bytesPerSnapshot = ((await storageFacts(url)).bytes - bytesBefore) / stored;
  const result = { snapshotsPerS: stored / seconds, workerCpuMs: (cpu.user + cpu.system) / 1000 / stored, postgresCpuMs, bytesPerSnapshot };
  log(`ingest: ${stored} snapshots in ${seconds.toFixed(1)} s: ${Math.round(result.snapshotsPerS)}/s; CPU per snapshot: worker ${result.workerCpuMs.toFixed(3)} ms, PostgreSQL ${postgresCpuMs.toFixed(3)} ms; ${Math.round(bytesPerSnapshot)} bytes each`);
  return result;
}

interface SizeResult {
  label: string;
  seedS: number | undefined;
  facts: { bytes: number; snapshots: number; partitions: number };
  warmUpMs: number;
  reader: { historyMs: number; boardOddsMs: number };
  scenarios: Scenario[];
  ingest: IngestResult;
}

async function measureDatabase(label: string, url: string, seedS: number | undefined): Promise<SizeResult> {
  const facts = await storageFacts(url);
  log(`${label}: ${facts.snapshots} snapshots in ${facts.partitions} partitions, ${formatNumber(facts.bytes / facts.snapshots)} bytes each`);
  const warmUp = await warmUpMs(url);
  log(`warm-up ${warmUp} ms`);
  const db = await openDatabase({ databaseUrl: url, pgliteDataDir: 'unused', databaseStatementTimeoutMs: 60_000 });
  try {
    // Upcoming events with odds, in kick-off order: the board's first 500.
    const eventIds = (
      await db.prisma.$queryRawUnsafe<Array<{ id: number }>>(
        `SELECT e.id FROM event e WHERE e.kickoff_at > now() AND EXISTS (SELECT 1 FROM latest_odds l WHERE l.event_id = e.id)
         ORDER BY e.kickoff_at, e.id LIMIT 500`,
      )
    ).map((row) => row.id);
    const reader = await readerTimings(db, eventIds);
    log(`reader: history ${reader.historyMs.toFixed(1)} ms, a board page's odds ${reader.boardOddsMs.toFixed(1)} ms (medians)`);
    const gateway = await startGateway({ DATABASE_URL: url, INGEST: 'off', CACHE: 'off' });
    const scenarios: Scenario[] = [];
    try {
      const body = (query: string) => eventIds.map((id) => JSON.stringify({ query, variables: { id: String(id) } }));
      scenarios.push(await measure(gateway, url, 'board `events(first: 50)`, 6 bookmakers, CACHE=off', [hotBoardBody]));
      scenarios.push(await measure(gateway, url, `event detail \`event(id) { odds }\` on a miss (CACHE=off), ${eventIds.length} events cycled`, body(eventOddsQuery)));
      scenarios.push(await measure(gateway, url, `\`oddsHistory(first: 20)\` on the database path (CACHE=off), ${eventIds.length} events cycled`, body(historyQuery)));
    } finally {
      await gateway.stop();
    }
    const ingest = await measureIngest(db, url, eventIds);
    return { label, seedS, facts, warmUpMs: warmUp, reader, scenarios, ingest };
  } finally {
    await db.close();
  }
}

async function measureSeeded(label: string, snapshotsPerPair: number | undefined): Promise<SizeResult> {
  log(`seeding ${events} events x ${bookmakers} bookmakers x ${snapshotsPerPair ?? 3} snapshots per pair`);
  const database = await createBenchDatabase(baseUrl, { events, bookmakers, snapshotsPerPair });
  log(`seeded in ${(database.seedMs / 1000).toFixed(1)} s`);
  try {
    return await measureDatabase(label, database.url, database.seedMs / 1000);
  } finally {
    await database.drop();
  }
}

const start = '<!-- storage: written by bench/storage.ts -->';
const end = '<!-- storage: end -->';

function section(sizes: SizeResult[], machine: ReturnType<typeof describeMachine>, loadAtEnd: number): string {
  const n = (value: number, digits = 0) => formatNumber(value, digits);
  const cells = (pick: (size: SizeResult) => string) => sizes.map(pick).join(' | ');
  const ratio = sizes.length === 2 ? (pick: (size: SizeResult) => number) => ` | ${(pick(sizes[1]!) / pick(sizes[0]!)).toFixed(2)}x` : () => '';
  const rows: string[] = [
    `| history snapshots (day partitions) | ${cells((s) => `${n(s.facts.snapshots)} (${s.facts.partitions})`)}${ratio((s) => s.facts.snapshots)} |`,
    `| seed: seconds (snapshots/s) | ${cells((s) => (s.seedS === undefined ? 'seeded earlier' : `${n(s.seedS, 1)} (${n(s.facts.snapshots / s.seedS)})`))}${sizes.length === 2 ? ' |' : ''} |`,
    `| bytes on disk per history snapshot (tables and indexes) | ${cells((s) => n(s.facts.bytes / s.facts.snapshots))}${ratio((s) => s.facts.bytes / s.facts.snapshots)} |`,
    `| warm-up, whole board (ms, median of 3 starts) | ${cells((s) => n(s.warmUpMs))}${ratio((s) => s.warmUpMs)} |`,
    `| storage read alone: one event's history, first 20 (ms, median) | ${cells((s) => n(s.reader.historyMs, 1))}${ratio((s) => s.reader.historyMs)} |`,
    `| storage read alone: a board page's odds, 50 events (ms, median) | ${cells((s) => n(s.reader.boardOddsMs, 1))}${ratio((s) => s.reader.boardOddsMs)} |`,
  ];
  sizes[0]!.scenarios.forEach(({ name }, i) => {
    const at = (s: SizeResult) => s.scenarios[i]!;
    rows.push(
      `| ${name}: req/s (of the ceiling) | ${cells((s) => `${n(at(s).result.reqPerSec)} (${((at(s).result.reqPerSec / at(s).ceiling.reqPerSec) * 100).toFixed(1)} %)`)}${ratio((s) => at(s).result.reqPerSec)} |`,
      `| ${name}: p50 / p99 ms, errors | ${cells((s) => `${n(at(s).result.p50Ms, 1)} / ${n(at(s).result.p99Ms, 1)}, ${at(s).result.errors}`)}${ratio((s) => at(s).result.p50Ms)} |`,
      `| ${name}: CPU ms per answer, gateway + PostgreSQL | ${cells((s) => `${n(at(s).gatewayCpuMs, 2)} + ${n(at(s).postgresCpuMs, 2)}`)}${ratio((s) => at(s).gatewayCpuMs + at(s).postgresCpuMs)} |`,
    );
  });
  rows.push(
    `| ingest, full snapshots (5 markets) per s, ${n(ingestBatch)} per transaction | ${cells((s) => n(s.ingest.snapshotsPerS))}${ratio((s) => s.ingest.snapshotsPerS)} |`,
    `| ingest: CPU ms per snapshot, worker + PostgreSQL | ${cells((s) => `${n(s.ingest.workerCpuMs, 3)} + ${n(s.ingest.postgresCpuMs, 3)}`)}${ratio((s) => s.ingest.workerCpuMs + s.ingest.postgresCpuMs)} |`,
    `| ingest: bytes stored per price change (every table and index, after ANALYZE) | ${cells((s) => n(s.ingest.bytesPerSnapshot))}${ratio((s) => s.ingest.bytesPerSnapshot)} |`,
  );
  return [
    start,
    '',
    '## Storage at two history sizes (issue 16): `bench/storage.ts`',
    '',
    `Written by \`bench/storage.ts\` on ${new Date().toISOString()} (${durationS} s per load after 2 s of warm-up, wrk with ${connections} connections and`,
    `2 threads, every body checked). ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}; 1-minute load average ${machine.loadAverage.toFixed(1)} at the`,
    `start, ${loadAtEnd.toFixed(1)} at the end (a shared machine: compare CPU per answer and ratios, not req/s alone).`,
    '',
    `Each size: ${n(events)} events x ${bookmakers} bookmakers seeded into a throwaway database (\`npm run db:seed\`'s code). The gateway runs`,
    'with CACHE=off and INGEST=off in its own process: every request reads PostgreSQL. "Of the ceiling": req/s against a bare',
    "node:http server replaying the same answer's bytes under the same load, measured right after. CPU per answer: the gateway",
    "process's user + system time, and that of the PostgreSQL backends serving the database (from /proc; parallel workers that",
    'ended are not counted), each divided by the answers. Ingest calls the worker\'s write path (`storeSnapshots` with the feed',
    `commit) in the bench process, ${ingestBatches} transactions of ${n(ingestBatch)} snapshots, each a new price for another (event, bookmaker).`,
    '',
    `| measure | ${sizes.map((s) => s.label).join(' | ')}${sizes.length === 2 ? ' | second / first' : ''} |`,
    `|---|${sizes.map(() => '---').join('|')}${sizes.length === 2 ? '|---' : ''}|`,
    ...rows,
    '',
    end,
  ].join('\n');
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const sizes: SizeResult[] = [await measureSeeded('fresh (3 snapshots per pair)', undefined)];
  if (bigUrl) sizes.push(await measureDatabase('seeded earlier', bigUrl, undefined));
  else if (bigDays) sizes.push(await measureSeeded(`${bigDays} days of history`, bigDays * 4 + 1));
  const markdown = section(sizes, machine, os.loadavg()[0]!);
  console.log(`\n${markdown}`);
  if (output) {
    const current = await readFile(output, 'utf8');
    const from = current.indexOf(start);
    const to = current.indexOf(end);
    await writeFile(output, from === -1 || to === -1 ? `${current.trimEnd()}\n\n${markdown}\n` : `${current.slice(0, from)}${markdown}${current.slice(to + end.length)}`);
    log(`wrote ${path.relative(projectRoot, output)}`);
  }
}

await main();
