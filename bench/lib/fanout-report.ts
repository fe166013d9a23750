import { readFile, writeFile } from 'node:fs/promises';
import type { Machine } from './machine.js';
import { formatNumber, formatPercent, ratio } from './stats.js';

export interface FanOutScenario {
  name: string;
  /** Subscribers on `oddsUpdatedBatch` (several updates per message). */
  batched: boolean;
  subscribers: number;
  /** WebSockets they came on (fewer than subscribers when several share one). */
  sockets: number;
  connectS: number;
  /** Updates captured in the window, per second. */
  changesPerSecond: number;
  received: number;
  /** Messages the subscribers received in the window (one update each unless batched). */
  messages: number;
  /** Updates a subscriber's filter called for but it never received; null when not tracked (conflation allowed). */
  lost: number | null;
  /** Subscribers whose last update of a pair that changed is not its newest state, once the drain ended. */
  staleSubscribers: number;
  /** From the changes' stop until every subscriber held every newest state; null: not within the run's drain bound. */
  drainMs: number | null;
  /** Updates the gateway's subscriber queues replaced by a newer one of the same pair, and dropped (null for the ceiling, which queues nothing). */
  conflated: number | null;
  dropped: number | null;
  pairsChanged: number;
  errors: number;
  publishToReceiveMs: { p50: number; p99: number; max: number };
  /** The server's event-loop delay p99 over the window. */
  loopDelayP99Ms: number;
  clientLoopDelayP99Ms: number;
  /** In cores (1 = one core busy) over the window. */
  cpu: { server: number; clients: number; clientsMax: number };
  loadAverage: number;
}

export interface FanOutRun {
  started: Date;
  durationS: number;
  /** Changes flowed this long before the window. */
  warmUpS: number;
  /** How long subscribers were given, once the changes stopped, to hold every newest state. */
  drainBoundS: number;
  clientProcesses: number;
  /** The client processes' niceness (the same for the gateway's scenarios and the ceiling's). */
  clientNice: number;
  machine: Machine;
  scenarios: FanOutScenario[];
  command: string;
}

const start = '<!-- fanout: written by bench/fanout.ts -->';
const end = '<!-- fanout: end -->';

/** Replaces (or appends) bench/fanout.ts's section of the report, leaving the rest as it is. */
export async function writeFanOutSection(run: FanOutRun, file: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '');
  const section = [start, ...fanOutMarkdown(run), end].join('\n');
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + section + current.slice(to + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}

/** A client process whose event loop lags this much (p99) reads its sockets late: it, not the server, sets the pace. */
const clientsBehindMs = 1_000;

export function fanOutMarkdown(run: FanOutRun): string[] {
  const [filtered, unfiltered, filteredCeiling, unfilteredCeiling] = run.scenarios;
  const ms = (value: number) => formatNumber(value, 0);
  const drained = (s: FanOutScenario) => (s.drainMs === null ? `more than ${formatNumber(run.drainBoundS)} s` : `a drain of ${formatNumber(s.drainMs)} ms`);
  const row = (s: FanOutScenario) => [
    s.name,
    s.sockets === s.subscribers ? formatNumber(s.subscribers) : `${formatNumber(s.subscribers)} on ${formatNumber(s.sockets)} sockets`,
    formatNumber(s.changesPerSecond, 0),
    formatNumber(s.received),
    formatNumber(s.messages),
    s.lost === null ? '-' : formatNumber(s.lost),
    s.conflated === null ? '-' : `${formatNumber(s.conflated)} / ${formatNumber(s.dropped ?? Number.NaN)}`,
    `${formatNumber(s.staleSubscribers)} of ${formatNumber(s.subscribers)}`,
    s.drainMs === null ? `> ${formatNumber(run.drainBoundS * 1000)}` : formatNumber(s.drainMs),
    `${ms(s.publishToReceiveMs.p50)} / ${ms(s.publishToReceiveMs.p99)} / ${ms(s.publishToReceiveMs.max)}`,
    formatNumber(s.loopDelayP99Ms, 1),
    `${formatPercent(s.cpu.server, 0)} / ${formatPercent(s.cpu.clients, 0)}`,
    formatNumber(s.clientLoopDelayP99Ms, 1),
    formatNumber(s.loadAverage, 1),
    String(s.errors),
  ];
  const lines = [
    '## Subscription fan-out (issue 17): `bench/fanout.ts`',
    '',
    `Run on ${run.started.toISOString()}: \`${run.command}\` (${run.durationS} s window after ${run.warmUpS} s of changes); ${run.machine.cpu}, ${run.machine.cores} cores, Node.js ${run.machine.node}, load average ${run.machine.loadAverage.toFixed(1)} at the start.`,
    '',
    `A gateway (CACHE=on) follows an ingest worker in its own process over Redis (SIM_SPEED sets the simulated feed's rate); subscribers are raw graphql-transport-ws sockets in ${run.clientProcesses} client processes at nice ${run.clientNice} (so the server measured, gateway or ceiling alike, gets the cores first and its event-loop delay is less the clients'), all with one document (\`oddsUpdated(eventIds: $ids)\`, the README's trader selection, or the same selection on \`oddsUpdatedBatch\` where the scenario says **batched**: each message carries every update waiting for that subscriber, at most 500, the newest per pair), so the gateway executes and serializes each update once. **Filtered**: each subscriber on 1-5 random board events; **unfiltered**: every update to every subscriber. The **ceiling** is a bare \`ws\` server in its own process sending the same subscribers updates of the same shape at the rate the gateway saw (one serialization per update, no GraphQL, database or cache; batched the same way for batched subscribers: what waits for one, newest per pair, in one message once its previous message is written): what this box and these clients manage at best, measured in the same run. Lost: an update on a subscriber's events captured in the window that it never received (filtered only; unfiltered subscribers may skip intermediate prices by conflation); conflated / dropped: the gateway's counts over the run (a conflated update was replaced by a newer one of the same pair before the subscriber's turn, so it is counted lost above too; dropped would lose a pair's newest state). Stale: once the changes stopped and ${formatNumber(run.drainBoundS)} s passed (the drain bound), a subscriber whose last update of a pair that changed during the run is not the pair's newest state (the database's \`latest_odds\`, or what the ceiling last sent); **drain** is the time from the changes' stop until the last subscriber received the last newest state it lacked (polled every 100 ms). Event-loop delay is the server's p99 over the window (for the gateway prom-client's \`nodejs_eventloop_lag_p99_seconds\`); CPU is in shares of one core.`,
    '',
    '| scenario | subscribers | changes/s | updates received | messages | lost | conflated / dropped | stale | drain ms | publish -> receive p50 / p99 / max ms | server loop delay p99 ms | CPU server / clients | client loop delay p99 ms | load avg | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...run.scenarios.map((s) => `| ${row(s).join(' | ')} |`),
    '',
  ];
  if (filtered && unfiltered && filteredCeiling && unfilteredCeiling) {
    lines.push(
      '| target (issue 17) | measured | of the ceiling | met |',
      '|---|---|---|---|',
      `| ${formatNumber(filtered.subscribers)} filtered subscribers: publish -> receive p99 <= 100 ms | ${ms(filtered.publishToReceiveMs.p99)} ms | ceiling ${ms(filteredCeiling.publishToReceiveMs.p99)} ms; gateway CPU ${formatNumber(ratio(filtered.cpu.server, filteredCeiling.cpu.server), 1)}x the ceiling's | ${filtered.publishToReceiveMs.p99 <= 100 ? 'yes' : '**no**'} |`,
      `| filtered: 0 lost | ${formatNumber(filtered.lost ?? Number.NaN)} (ceiling ${formatNumber(filteredCeiling.lost ?? Number.NaN)}) | | ${filtered.lost === 0 ? 'yes' : '**no**'} |`,
      `| ${formatNumber(unfiltered.subscribers)} unfiltered subscribers: event-loop delay p99 < 50 ms | ${formatNumber(unfiltered.loopDelayP99Ms, 1)} ms at ${formatNumber(unfiltered.changesPerSecond)} changes/s | ceiling ${formatNumber(unfilteredCeiling.loopDelayP99Ms, 1)} ms | ${unfiltered.loopDelayP99Ms < 50 ? 'yes' : '**no**'} |`,
      `| unfiltered: newest state always delivered | ${formatNumber(unfiltered.staleSubscribers)} stale of ${formatNumber(unfiltered.subscribers)} after ${drained(unfiltered)} | ceiling ${formatNumber(unfilteredCeiling.staleSubscribers)} stale after ${drained(unfilteredCeiling)} | ${unfiltered.drainMs !== null ? 'yes' : '**no**'} |`,
      '',
    );
  }
  // A load generator that cannot keep up measures itself: say so where it happened.
  for (const s of run.scenarios.filter((scenario) => scenario.clientLoopDelayP99Ms >= clientsBehindMs)) {
    lines.push(
      `**${s.name}: the clients were the bottleneck.** Their event-loop delay p99 was ${formatNumber(s.clientLoopDelayP99Ms / 1000, 1)} s at ` +
        `${formatPercent(s.cpu.clients, 0)} CPU (${formatNumber(s.received / run.durationS)} updates received a second), so its ` +
        'publish -> receive times and drain measure the clients as much as the server.',
      '',
    );
  }
  return lines;
}
