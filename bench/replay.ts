// `npm run bench:replay`: how long a subscriber that was away for a gap (default 5 s) waits, after
// subscribing again with `after`, until it holds every change committed while it was away (issue 17's
// target: within 200 ms). A gateway and an ingest worker on the simulated feed (50 changes/s) share this
// process and a throwaway PostgreSQL database; one graphql-ws client. Environment: BENCH_DATABASE_URL,
// BENCH_GAP_SECONDS (default 5), BENCH_ROUNDS (default 7).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { openDatabase } from '../src/db/database.js';
import { startGateway } from '../src/gateway.js';
import { SimulatedFeed } from '../src/ingest/simulated-feed.js';
import { IngestWorker } from '../src/ingest/worker.js';
import { InProcessOddsBus } from '../src/live/odds-bus.js';
import { silentLogger } from '../src/ops/log.js';
import { createBenchDatabase } from './lib/database.js';
import { describeMachine } from './lib/machine.js';

const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const gapMs = Number(process.env.BENCH_GAP_SECONDS ?? '5') * 1000;
const rounds = Number(process.env.BENCH_ROUNDS ?? '7');
const live = 'subscription ($after: String) { oddsUpdated(after: $after) { cursor event { id } snapshot { id capturedAt } } }';

const bench = await createBenchDatabase(baseUrl, { events: 2000, bookmakers: 6 });
const db = await openDatabase({ databaseUrl: bench.url, pgliteDataDir: 'unused' });
const bus = new InProcessOddsBus();
const gateway = await startGateway({ bus, db, logger: silentLogger(), config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 256 << 20 } });
const worker = new IngestWorker({ prisma: db.prisma, feed: new SimulatedFeed(db.prisma, { changesPerSecond: 50 }), bus, logger: silentLogger() });
worker.start();
const client = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });

/** Subscribes after `after`; resolves with the cursors received until `stop` is called. */
function subscribe(after: string | null) {
  const cursors: string[] = [];
  const stop = client.subscribe<{ oddsUpdated: { cursor: string } }>(
    { query: live, variables: { after } },
    { next: ({ data }) => void (data && cursors.push(data.oddsUpdated.cursor)), error: (error) => console.error(error), complete: () => {} },
  );
  return { cursors, stop };
}

const newestItem = async () => {
  const [row] = await db.prisma.changeLog.findMany({ orderBy: { position: 'desc' }, take: 1 });
  const changes = (row?.changes ?? []) as unknown[];
  return row ? { position: row.position, items: changes.length } : undefined;
};

const results: Array<{ ms: number; replayed: number }> = [];
try {
  let after: string | null = (await (await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ oddsCursor }"}' })).json() as { data: { oddsCursor: string } }).data.oddsCursor;
  for (let round = 0; round < rounds; round++) {
    const first = subscribe(after);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    first.stop();
    after = first.cursors.at(-1) ?? after;
    await new Promise((resolve) => setTimeout(resolve, gapMs)); // away while prices move
    const target = (await newestItem())!;
    const started = performance.now();
    const resumed = subscribe(after);
    // Done once it holds the last change of the newest position committed while it was away.
    const want = Buffer.from(`log:${target.position}.${target.items - 1}`).toString('base64url');
    while (!resumed.cursors.includes(want)) await new Promise((resolve) => setImmediate(resolve));
    const ms = performance.now() - started;
    results.push({ ms, replayed: resumed.cursors.indexOf(want) + 1 });
    resumed.stop();
    after = resumed.cursors.at(-1) ?? after;
  }
} finally {
  await worker.stop();
  await client.dispose();
  await gateway.close();
  await db.close();
  await bench.drop();
}

const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
const machine = describeMachine();
console.log(`replay after a ${gapMs / 1000} s gap, ${rounds} rounds: ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}, load ${machine.loadAverage.toFixed(1)}`);
for (const r of results) console.log(`  ${r.replayed} updates replayed in ${r.ms.toFixed(1)} ms`);
console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
