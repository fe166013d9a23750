// Issue 20's scenarios, measured with wrk: what the gateway does when requests vary (board variants, a
// cold response cache, event pages with history), each as a ratio to the replay ceiling and as CPU time
// per request. Run by `npm run bench` (bench/run.ts), or alone: `npx tsx bench/variety.ts` against a
// seeded database (VARIETY_DATABASE_URL), rewriting its section of BENCHMARKS.md. The gateway is the build
// (`npm run build` first), run as `npm start` runs it, with this process's environment (MALLOC_ARENA_MAX among it).
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { httpRequest } from './lib/http.js';
import { describeMachine } from './lib/machine.js';
import { cpuSeconds, projectRoot, startGateway, startNodeProcess, type GatewayProcess } from './lib/processes.js';
import { topSelfTimes, type CpuProfile, type SelfTime } from './lib/profile.js';
import { boardEventIds, boardVariants, eventDetailBodies, uncached } from './lib/variants.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { hotBoardBody } from './queries.js';

export interface VarietyRow {
  scenario: string;
  result: WrkResult;
  /** Gateway CPU (user + system) per answered request, ms. */
  cpuMsPerRequest: number;
}

export interface VarietyResults {
  rows: VarietyRow[];
  ceiling: WrkResult;
  /** The ceiling server's CPU per request, ms: what replaying bytes costs on this machine. */
  ceilingCpuMsPerRequest: number;
  /** The hot board's req/s over the ceiling's, round by round (alternating); the rows hold the median round. */
  hotRatios: number[];
  profile: SelfTime[];
  residentBytes: number;
  /** Where the resident set goes (after two forced GCs), and what the caches count against their budgets. */
  memory: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; oddsCacheBytes: number };
  responseCache: object | null;
  variants: { count: number; bytes: number };
}

const nonce = '__NONCE__';

async function post(url: string, body: string): Promise<string> {
  const { status, text } = await httpRequest(`${url}/graphql`, body);
  if (status !== 200 || !text.startsWith('{"data":') || text.includes('"errors":')) throw new Error(`GraphQL request failed (${status}): ${text.slice(0, 300)}`);
  return text;
}

function measured(gateway: GatewayProcess, scenario: string, bodies: readonly string[], durationS: number, connections = 16, cold = false): Promise<VarietyRow> {
  return measuredAt({ url: gateway.url, pid: gateway.child.pid }, scenario, bodies, durationS, { connections, cold });
}

/** A server under load: where to send requests, and the process whose CPU is counted. */
interface Target {
  url: string;
  pid: number | undefined;
}

/** wrk against `target` after 2 s of warm-up, with the CPU its process spent meanwhile. */
async function measuredAt(
  target: Target,
  scenario: string,
  bodies: readonly string[],
  durationS: number,
  { connections = 16, cold = false, check = 'body' }: { connections?: number; cold?: boolean; check?: 'body' | 'status' } = {},
): Promise<VarietyRow> {
  const load = () => runWrk({ url: `${target.url}/graphql`, connections, durationS, bodies, check, ...(cold && { nonce }) });
  await runWrk({ url: `${target.url}/graphql`, connections, durationS: Math.min(2, durationS), bodies, check, ...(cold && { nonce }) });
  const before = await cpuSeconds(target.pid);
  const result = await load();
  const cpuMs = ((await cpuSeconds(target.pid)) - before) * 1000;
  console.log(`[variety] ${scenario}: ${Math.round(result.reqPerSec)} req/s, p99 ${result.p99Ms} ms, errors ${result.errors}, ${(cpuMs / result.requests).toFixed(2)} ms CPU each`);
  return { scenario, result, cpuMsPerRequest: cpuMs / Math.max(1, result.requests) };
}

/** Rounds of the hot board against the ceiling: the machine's speed drifts (shared, throttled) by more than the gap measured. */
const hotRounds = 5;

/**
 * Every scenario on one gateway (INGEST=off, CACHE=on); the hot board in turns with the ceiling replaying its
 * bytes (both processes up, one loaded at a time), so drift weighs on both alike.
 */
export async function runVariety(databaseUrl: string, durationS: number, profileFile: string): Promise<VarietyResults> {
  const gateway = await startGateway({ DATABASE_URL: databaseUrl, INGEST: 'off', CACHE: 'on' }, [], { built: true });
  let ceilingProcess: ReturnType<typeof startNodeProcess> | undefined;
  try {
    const boardText = await post(gateway.url, hotBoardBody);
    const bodyFile = path.join(os.tmpdir(), `oddsgate-ceiling-${process.pid}.json`);
    await writeFile(bodyFile, boardText);
    ceilingProcess = startNodeProcess('bench/child/ceiling-server.ts', { env: { CEILING_BODY_FILE: bodyFile, CEILING_CONTENT_TYPE: 'application/json; charset=utf-8' } });
    const [, ceilingUrl] = await ceilingProcess.waitForLine(/ceiling ready at (\S+)/);
    const ceilingTarget = { url: ceilingUrl!.replace(/\/graphql$/, ''), pid: ceilingProcess.child.pid };
    const variants = await boardVariants((b) => post(gateway.url, b), 240);
    const ids = await boardEventIds((b) => post(gateway.url, b), 500);
    const details = eventDetailBodies(ids);
    let variantBytes = 0;
    for (const body of variants) variantBytes += Buffer.byteLength(await post(gateway.url, body));
    const rows = [
      await measured(gateway, `${variants.length} board variants, cycled`, variants, durationS),
      await measured(gateway, `${variants.length} board variants, cycled, 64 connections`, variants, durationS, 64),
      await measured(gateway, 'board variants, cold response cache (every request different)', variants.map((b) => uncached(b, 0).replace('"_nonce":0', `"_nonce":"${nonce}"`)), durationS, 16, true),
      await measured(gateway, `event detail + oddsHistory(first: 20), ${ids.length} ids cycled`, details, durationS),
      await measured(gateway, 'event detail + oddsHistory(first: 20), cold response cache', details.map((b) => uncached(b, 0).replace('"_nonce":0', `"_nonce":"${nonce}"`)), durationS, 16, true),
    ];
    // Where the miss path's time goes: the cold board again, under the profiler.
    const coldBoard = variants.map((b) => uncached(b, 0).replace('"_nonce":0', `"_nonce":"${nonce}"`));
    await gateway.profile(profileFile, () => runWrk({ url: `${gateway.url}/graphql`, connections: 16, durationS, bodies: coldBoard, nonce }));
    const profile = topSelfTimes(JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile, 15);
    // Last: its rounds take minutes, past the response cache's 60 s backstop, and the variants above would find their answers expired.
    const hot = await hotBoardAgainstCeiling(gateway, ceilingTarget, boardText, durationS);
    rows.unshift(hot.gateway);
    const usage = await gateway.memory();
    const health = await gateway.health();
    const memory = { heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, oddsCacheBytes: health.cache.bytes };
    return {
      rows,
      ceiling: hot.ceiling.result,
      ceilingCpuMsPerRequest: hot.ceiling.cpuMsPerRequest,
      hotRatios: hot.ratios,
      profile,
      residentBytes: usage.rss,
      memory,
      responseCache: health.responses,
      variants: { count: variants.length, bytes: variantBytes },
    };
  } finally {
    await ceilingProcess?.stop();
    await gateway.stop();
  }
}

/**
 * The hot board and the ceiling, `hotRounds` times each in alternating order, `durationS` per round and
 * process. wrk checks statuses only (handed to Lua, each 600 KB answer cost wrk more than the server, and wrk
 * became what was measured); after each round, the gateway's answer is compared byte for byte with a fresh
 * execution, the ceiling's with `boardText`. Returned: the round with the median ratio (its gateway and
 * ceiling rows), and every round's ratio.
 */
async function hotBoardAgainstCeiling(
  gateway: GatewayProcess,
  ceiling: Target,
  boardText: string,
  durationS: number,
): Promise<{ gateway: VarietyRow; ceiling: VarietyRow; ratios: number[] }> {
  const gatewayTarget: Target = { url: gateway.url, pid: gateway.child.pid };
  const rounds: Array<{ gateway: VarietyRow; ceiling: VarietyRow; ratio: number }> = [];
  const hotBoard = async (target: Target, scenario: string, round: number) => {
    const row = await measuredAt(target, scenario, [hotBoardBody], durationS, { check: 'status' });
    // The gateway's stored answer against a fresh execution now (the board moves with the clock as events kick
    // off); the ceiling's against the bytes it replays.
    const expected = target === ceiling ? boardText : await post(target.url, uncached(hotBoardBody, round));
    if ((await post(target.url, hotBoardBody)) !== expected) throw new Error(`${scenario}: the answer after round ${round + 1} is not the one expected`);
    return row;
  };
  for (let round = 0; round < hotRounds; round++) {
    const first = round % 2 === 0;
    const a = await hotBoard(first ? gatewayTarget : ceiling, first ? 'hot board, repeated' : 'ceiling', round);
    const b = await hotBoard(first ? ceiling : gatewayTarget, first ? 'ceiling' : 'hot board, repeated', round);
    const [gatewayRow, ceilingRow] = first ? [a, b] : [b, a];
    rounds.push({ gateway: gatewayRow, ceiling: ceilingRow, ratio: gatewayRow.result.reqPerSec / ceilingRow.result.reqPerSec });
  }
  const ratios = rounds.map((r) => r.ratio);
  const median = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
  console.log(`[variety] hot board / ceiling by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median.ratio.toFixed(2)}`);
  return { gateway: median.gateway, ceiling: median.ceiling, ratios };
}

const start = '<!-- variety: written by bench/variety.ts -->';
const end = '<!-- variety: end -->';

/** The section, replacing an earlier one in `markdown` (or appended). */
export function withVarietySection(markdown: string, results: VarietyResults, durationS: number): string {
  const machine = describeMachine();
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const row = ({ scenario, result, cpuMsPerRequest }: VarietyRow) =>
    `| ${scenario} | ${result.connections} | ${Math.round(result.reqPerSec).toLocaleString('en-US')} | ${((result.reqPerSec / results.ceiling.reqPerSec) * 100).toFixed(1)} % | ${result.p50Ms.toFixed(1)} | ${result.p99Ms.toFixed(1)} | ${result.errors} | ${cpuMsPerRequest.toFixed(2)} |`;
  const section = [
    start,
    '',
    '## Varied requests, measured with wrk (issue 20)',
    '',
    `Written by \`bench/variety.ts\` (part of \`npm run bench\`) on ${new Date().toISOString()}. wrk 4 (Debian's \`wrk\` package), 2 threads, ${durationS} s per`,
    'scenario after 2 s of warm-up; every body checked (a body that is not `{"data":...` without `"errors":` counts as an error). wrk',
    'is used here because autocannon saturates a core of its own before the gateway does. CPU per request is the gateway',
    "process's user + system time over the run divided by the requests answered: other load on the machine does not count in it,",
    'while req/s falls with it.',
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}; 1-minute load average ${machine.loadAverage.toFixed(1)} at the end (shared with other work: compare ratios, not absolute figures).`,
    `- Hot board against the ceiling: ${results.hotRatios.length} rounds of ${durationS} s each, alternating which goes first, both processes up and one loaded at a time, because this machine's speed drifts by more than the gap measured; the table holds the round with the median ratio. In these rounds wrk checks statuses only (handing every 600 KB answer to its Lua and scanning it cost wrk more CPU than the server's work, and wrk became what was measured); after each round the gateway's answer is compared byte for byte with a fresh execution of the same query (the response cache bypassed), and the ceiling's with the bytes it replays. Ratios by round: ${results.hotRatios.map((r) => r.toFixed(2)).join(', ')}. The other rows' "of ceiling" is against that round's ceiling.`,
    `- Board variants: ${results.variants.count} (10 filters x page sizes 10/20/50 x pages walked by cursor), ${mib(results.variants.bytes)} of answers.`,
    `- Gateway: \`dist/main.js\` as \`npm start\` runs it, ${process.env.MALLOC_ARENA_MAX ? `with MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : "with glibc's default malloc arenas (MALLOC_ARENA_MAX unset)"}.`,
    `- Gateway resident set after these runs (after two forced GCs, once it moved less than 1 MiB in a second): ${mib(results.residentBytes)}: V8 heap ${mib(results.memory.heapUsed)} used of ${mib(results.memory.heapTotal)}, external ${mib(results.memory.external)} (of which array buffers, the response cache's bodies among them, ${mib(results.memory.arrayBuffers)}); the odds cache counts ${mib(results.memory.oddsCacheBytes)} against its budget. Response cache: \`${JSON.stringify(results.responseCache)}\`.`,
    '',
    '| scenario | connections | req/s | of ceiling | p50 ms | p99 ms | errors | CPU ms / request |',
    '|---|---|---|---|---|---|---|---|',
    ...results.rows.map(row),
    `| ceiling: bare node:http replaying the hot board's bytes | 16 | ${Math.round(results.ceiling.reqPerSec).toLocaleString('en-US')} | 100.0 % | ${results.ceiling.p50Ms.toFixed(1)} | ${results.ceiling.p99Ms.toFixed(1)} | ${results.ceiling.errors} | ${results.ceilingCpuMsPerRequest.toFixed(2)} |`,
    '',
    'Where a cold board page spends its CPU (top self time, `node --cpu-prof` over the cold-cache scenario, idle included):',
    '',
    '| function | self ms | share |',
    '|---|---|---|',
    ...results.profile.map((t) => `| \`${t.name}\` | ${Math.round(t.selfMs).toLocaleString('en-US')} | ${(t.share * 100).toFixed(1)} % |`),
    '',
    end,
  ].join('\n');
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  return from === -1 || to === -1 ? `${markdown.trimEnd()}\n\n${section}\n` : `${markdown.slice(0, from)}${section}${markdown.slice(to + end.length)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const durationS = Number(process.env.BENCH_DURATION ?? 10);
  const databaseUrl = process.env.VARIETY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/oddsgate_fastprof';
  const results = await runVariety(databaseUrl, durationS, path.join(projectRoot, 'bench', 'results', 'cold-board.cpuprofile'));
  const file = path.join(projectRoot, 'BENCHMARKS.md');
  await writeFile(file, withVarietySection(await readFile(file, 'utf8'), results, durationS));
  console.log('[variety] wrote BENCHMARKS.md');
}
