import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { barChartSvg } from './chart.js';
import type { DeliverySummary } from './deliveries.js';
import type { LoadResult } from './load.js';
import type { Machine } from './machine.js';
import type { SelfTime } from './profile.js';
import { formatBytes, formatNumber, formatPercent, ratio } from './stats.js';

export interface SubscriptionResult extends DeliverySummary {
  subscribers: number;
  connectMs: number;
  /** Subscription errors the clients saw. */
  errors: number;
  /** Updates the gateway's slow-subscriber policy dropped during the window (its pubsub stats). */
  droppedByServer: number;
  /** CPU used during the window, in cores (1 = one core busy): the gateway's and the subscriber process's. */
  cpu: { gateway: number; clients: number };
}

export interface BenchResults {
  started: Date;
  durationS: number;
  command: string;
  machine: Machine;
  postgres: string;
  seed: { events: number; bookmakers: number; ms: number };
  responseBytes: number;
  throughput: Array<{ scenario: string; result: LoadResult; ceiling?: boolean }>;
  /** The hot board at several connection counts. */
  sweep: LoadResult[];
  /** The response cache's counters over scenario 4 (warm-up included); null when the gateway has none. */
  responseCacheUnderWrites: Record<string, number> | null;
  subscriptions: SubscriptionResult[];
  memory: {
    boardEvents: number;
    cacheEstimateBytes: number;
    cacheEntries: number;
    cacheOn: NodeJS.MemoryUsage;
    cacheOff: NodeJS.MemoryUsage;
  };
  profile: SelfTime[];
}

interface Target {
  target: string;
  measured: string;
  met: boolean;
}

export function targets(results: BenchResults): Target[] {
  const [hot, off, , worker, ceiling] = results.throughput.map((t) => t.result) as [LoadResult, LoadResult, LoadResult, LoadResult, LoadResult];
  const list: Target[] = [
    { target: 'hot board >= 50 % of the ceiling', measured: formatPercent(ratio(hot.reqPerSec, ceiling.reqPerSec)), met: hot.reqPerSec >= 0.5 * ceiling.reqPerSec },
    {
      target: 'hot board p99 < 20 ms at 16 connections',
      measured: `${formatNumber(hot.p99Ms, 1)} ms (the ceiling's own p99: ${formatNumber(ceiling.p99Ms, 1)} ms)`,
      met: hot.p99Ms < 20,
    },
    { target: 'hot board >= 20x CACHE=off', measured: `${formatNumber(ratio(hot.reqPerSec, off.reqPerSec), 1)}x`, met: hot.reqPerSec >= 20 * off.reqPerSec },
    {
      target: 'worker publishing 50 changes/s: hot board >= 25 % of the ceiling',
      measured: formatPercent(ratio(worker.reqPerSec, ceiling.reqPerSec)),
      met: worker.reqPerSec >= 0.25 * ceiling.reqPerSec,
    },
    {
      target: 'zero errors in every HTTP scenario',
      measured: String(results.throughput.reduce((sum, t) => sum + t.result.errors, 0)),
      met: results.throughput.every((t) => t.result.errors === 0),
    },
  ];
  const most = results.subscriptions.at(-1);
  if (most) {
    list.push(
      {
        target: `${formatNumber(most.subscribers)} subscribers: update-to-subscriber p99 < 200 ms`,
        measured: `${most.publishToReceiveMs.p99} ms (publish -> receive)`,
        met: most.publishToReceiveMs.p99 < 200,
      },
      {
        target: `${formatNumber(most.subscribers)} subscribers: no silent loss`,
        measured: `${most.lost} lost, ${most.droppedByServer} dropped by policy`,
        met: most.lost <= most.droppedByServer && most.errors === 0,
      },
    );
  }
  return list;
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(results: BenchResults, chartLinks: { throughput: string; latency: string }, failures: string[]): string {
  const ceiling = results.throughput.find((t) => t.ceiling)!.result;
  const { machine, memory } = results;
  const heapPerEvent = (memory.cacheOn.heapUsed - memory.cacheOff.heapUsed) / memory.boardEvents;
  const rssPerEvent = (memory.cacheOn.rss - memory.cacheOff.rss) / memory.boardEvents;
  const estimatePerEvent = memory.cacheEstimateBytes / memory.boardEvents;
  // req/s, its share of the ceiling, p50, p99, errors: the columns of every load table.
  const loadColumns = (r: LoadResult) => [
    formatNumber(r.reqPerSec),
    formatPercent(ratio(r.reqPerSec, ceiling.reqPerSec)),
    formatNumber(r.p50Ms, 1),
    formatNumber(r.p99Ms, 1),
    String(r.errors),
  ];
  const sections = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts) on ${results.started.toISOString()}; do not edit by hand.`,
    '',
    `- Command: \`${results.command}\` (${results.durationS} s per scenario, after a 2 s warm-up each; wrk with 2 threads, 16 connections unless stated; everything on loopback)`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${formatBytes(machine.memoryBytes)} RAM, ${machine.platform}; Node.js ${machine.node}; PostgreSQL ${results.postgres}; load average ${machine.loadAverage.toFixed(1)} at the start (other work on the machine lowers every figure; the ceiling, measured in the same run, is the yardstick)`,
    `- Data: ${formatNumber(results.seed.events)} events x ${results.seed.bookmakers} bookmakers, seeded in ${(results.seed.ms / 1000).toFixed(1)} s; the hot board response is ${formatBytes(results.responseBytes)}`,
    '- Every answer\'s status is checked (socket errors, timeouts and non-2xx count as errors), and the body of one answer to the same request right after each load: without `data` or with `errors` it counts as an error. Checking every body in wrk\'s Lua made wrk the bottleneck on the 600 KB board.',
    ...(failures.length > 0 ? ['', `**This run FAILED:** ${failures.join('; ')}`] : []),
    '',
    '## Targets (issue 6)',
    '',
    table(['target', 'measured', 'met'], targets(results).map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**'])),
    '',
    '## HTTP scenarios',
    '',
    `![requests per second per scenario](${chartLinks.throughput})`,
    '',
    table(
      ['scenario', 'req/s', 'of ceiling', 'p50 ms', 'p99 ms', 'errors'],
      results.throughput.map(({ scenario, result }) => [scenario, ...loadColumns(result)]),
    ),
    '',
    results.responseCacheUnderWrites
      ? `Response cache during scenario 4 (warm-up included): ${Object.entries(results.responseCacheUnderWrites).map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ')}.`
      : 'No response cache in this build.',
    '',
    'SQL statements per board, constant in page size, are asserted by `test/graphql/read-path.test.ts` (on PostgreSQL), not measured here.',
    '',
    '## Hot board latency against load',
    '',
    `![hot board p99 by connections](${chartLinks.latency})`,
    '',
    table(
      ['connections', 'req/s', 'of ceiling', 'p50 ms', 'p99 ms', 'errors'],
      results.sweep.map((r) => [String(r.connections), ...loadColumns(r)]),
    ),
    '',
    '## Subscription fan-out',
    '',
    'One gateway with its ingest worker publishing about 50 changes/s (simulated feed); each subscriber is one',
    'graphql-ws connection subscribed to 20 random upcoming events (the trader screen of the README), opened from',
    'a separate process. One extra unfiltered subscriber observes every published update, which gives each',
    'subscriber\'s expected messages. **Publish -> receive** is the update-to-subscriber latency: from the worker',
    'handing the committed change to the bus (OddsUpdate.publishedAt) to its arrival at the subscriber, through each',
    'gateway\'s cache refresh and fan-out. **Capture -> receive** starts earlier, when the worker took the record from',
    'the feed (the snapshot\'s capturedAt), so it adds the batch\'s database transaction and re-read. The fan-out',
    'spread is the time from an update\'s first arrival at any subscriber to its arrival at each of the others.',
    'CPU is each process\'s user + system time over the window, as a share of one core (the machine has',
    `${results.machine.cores}): a process near 100 % is the bottleneck. "Dropped by policy" counts every subscriber's`,
    'drops, the observer\'s included (it takes every update, so it falls behind first).',
    '',
    table(
      ['subscribers', 'connect s', 'published', 'expected', 'received', 'lost', 'dropped by policy', 'publish -> receive p50 / p99 / max ms', 'capture -> receive p50 / p99 ms', 'spread p50 / p99 ms', 'CPU gateway / clients', 'errors'],
      results.subscriptions.map((s) => [
        formatNumber(s.subscribers),
        (s.connectMs / 1000).toFixed(1),
        formatNumber(s.published),
        formatNumber(s.expected),
        formatNumber(s.received),
        formatNumber(s.lost),
        formatNumber(s.droppedByServer),
        `${s.publishToReceiveMs.p50} / ${s.publishToReceiveMs.p99} / ${s.publishToReceiveMs.max}`,
        `${s.captureToReceiveMs.p50} / ${s.captureToReceiveMs.p99}`,
        `${s.fanOutSpreadMs.p50} / ${s.fanOutSpreadMs.p99}`,
        `${formatPercent(s.cpu.gateway, 0)} / ${formatPercent(s.cpu.clients, 0)}`,
        String(s.errors),
      ]),
    ),
    '',
    '## Memory per cached upcoming event',
    '',
    'The gateway\'s heap and resident set after two forced garbage collections, having served the hot board, with',
    'the cache on (board warmed) and with CACHE=off; the difference divided by the board\'s events. The cache\'s',
    'own estimate is what its byte bound counts (sum of entry estimates, /health).',
    '',
    table(
      ['measure', 'CACHE=on', 'CACHE=off', 'per board event'],
      [
        ['heap used', formatBytes(memory.cacheOn.heapUsed), formatBytes(memory.cacheOff.heapUsed), formatBytes(heapPerEvent)],
        ['resident set', formatBytes(memory.cacheOn.rss), formatBytes(memory.cacheOff.rss), formatBytes(rssPerEvent)],
        ['cache estimate', `${formatBytes(memory.cacheEstimateBytes)} (${formatNumber(memory.cacheEntries)} entries)`, '-', formatBytes(estimatePerEvent)],
      ],
    ),
    '',
    `Board events: ${formatNumber(memory.boardEvents)}. Estimate / measured heap: ${formatNumber(ratio(estimatePerEvent, heapPerEvent), 2)}.`,
    '',
    '## Where the hot board spends its time',
    '',
    `Top self time in a \`node --cpu-prof\` profile of the gateway serving the hot board for ${results.durationS} s (share of all samples, idle included):`,
    '',
    table(['function', 'self ms', 'share'], results.profile.map((p) => [`\`${p.name}\``, formatNumber(p.selfMs), formatPercent(p.share)])),
    '',
  ];
  return sections.join('\n');
}

export async function writeReport(results: BenchResults, output: string, failures: string[]): Promise<void> {
  const chartDir = path.join(path.dirname(output), 'bench', 'results');
  await mkdir(chartDir, { recursive: true });
  const ceiling = results.throughput.find((t) => t.ceiling)!.result;
  await writeFile(
    path.join(chartDir, 'throughput.svg'),
    barChartSvg(
      results.throughput.map(({ scenario, result, ceiling: isCeiling }) => ({
        label: scenario.replace(/`/g, '').slice(0, 46),
        value: result.reqPerSec,
        note: `${formatNumber(result.reqPerSec)} (${formatPercent(ratio(result.reqPerSec, ceiling.reqPerSec), 0)})`,
        highlight: isCeiling ?? false,
      })),
      { title: `Requests per second, 16 connections (${results.machine.cores} cores)`, unit: 'requests per second (share of the ceiling)' },
    ),
  );
  await writeFile(
    path.join(chartDir, 'hot-board-latency.svg'),
    barChartSvg(
      results.sweep.map((r) => ({ label: `${r.connections} connections`, value: r.p99Ms, note: `p99 ${formatNumber(r.p99Ms, 1)} ms, p50 ${formatNumber(r.p50Ms, 1)} ms` })),
      { title: 'Hot board latency against load', unit: 'p99 latency, milliseconds' },
    ),
  );
  const kept = keptSections(await readFile(output, 'utf8').catch(() => ''));
  await writeFile(
    output,
    renderMarkdown(results, { throughput: 'bench/results/throughput.svg', latency: 'bench/results/hot-board-latency.svg' }, failures) + kept,
  );
}

/** Marks the start of sections recorded by other benchmarks (bench/storage.ts): a rewrite keeps them. */
export const keptSectionsMarker = '<!-- recorded by hand from other benchmarks; npm run bench keeps what follows -->';

/** What follows the marker in an earlier report, marker included (empty without one). */
export function keptSections(earlier: string): string {
  const at = earlier.indexOf(keptSectionsMarker);
  return at === -1 ? '' : `\n${earlier.slice(at)}`;
}
